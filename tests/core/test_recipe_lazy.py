"""``import cnnlab.recipe`` stays light; its names load their module on first use."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def test_importing_the_recipe_package_loads_no_tensorflow():
    code = ("import sys, cnnlab.spec, cnnlab.recipe, cnnlab.recipe.advisor;"
            "cnnlab.recipe.advise_transfer('small', 'similar');"
            "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules];"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lazy_names_resolve_and_unknown_names_fail():
    import cnnlab.recipe as recipe

    for name in recipe.__all__:
        assert callable(getattr(recipe, name)), name
    with pytest.raises(AttributeError):
        recipe.no_such_thing  # noqa: B018
