"""Lazy public names: a package lists what it offers, and a name loads its module on first use.

The window and ``cnnlab --help`` must appear before TensorFlow loads, yet the
public API names functions whose modules import it. A package therefore maps
each public name to ``"module:attribute"`` (or ``"module"`` for a module) and
installs :func:`lazy_exports`'s pair as its ``__getattr__`` and ``__dir__``
(PEP 562). Nothing is imported until a name is used; then it is cached.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], table: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for a package whose public names load lazily.

    Args:
        namespace: The package's ``globals()``; a loaded name is cached there.
        table: Public name -> ``"module:attribute"``, or ``"module"`` for a module.

    Returns:
        The two module-level functions to assign in the package.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 hook
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        value = getattr(module, attribute) if attribute else module
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807 - PEP 562 hook
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
