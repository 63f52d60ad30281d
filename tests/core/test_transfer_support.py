"""Helpers for the transfer and SVM-head tests: the CLI, a tiny base file, a tiny run."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from graphs import chain  # noqa: E402

from cnnlab.cli import main  # noqa: E402

SIZE = 16


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``cnnlab ARGS``; return the exit status, stdout and stderr.

    ``capsys`` may be None (in a module-scoped fixture): the output is then
    captured with ``contextlib.redirect_stdout``/``redirect_stderr``.
    """
    if capsys is None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def base_file(folder: Path, size: int = SIZE) -> Path:
    """A small trained-looking CNN saved as ``.keras``: conv, BN, pool, conv, then a head."""
    import keras

    from cnnlab.build import build_model

    exp = chain((size, size, 3), ("Conv2D", {"filters": 4, "padding": "same"}),
                ("BatchNormalization", {}), ("MaxPooling2D", {}),
                ("Conv2D", {"filters": 8, "padding": "same", "activation": "relu"}),
                ("Flatten", {}), ("Output", {"units": 2}))
    keras.utils.set_random_seed(7)
    model = build_model(exp)
    bn = model.get_layer("b1")  # non-default statistics, so "unchanged" means something
    bn.moving_mean.assign(keras.ops.ones(bn.moving_mean.shape) * 0.25)
    bn.moving_variance.assign(keras.ops.ones(bn.moving_variance.shape) * 2.0)
    path = folder / "base.keras"
    model.save(path)
    return path


def shrink(spec: Path, samples: int = 96, epochs: int = 2, **transfer) -> dict:
    """Make a written experiment tiny (few samples and epochs); set transfer fields."""
    d = json.loads(spec.read_text())
    d["data"]["shapes"]["samples"] = samples
    d["training"]["epochs"] = epochs
    d["training"]["batch_size"] = 32
    d["training"]["transfer"].update(transfer)
    spec.write_text(json.dumps(d))
    return d


def train(capsys, spec: Path, workspace: Path) -> dict:
    """``validate`` then ``train --json``; return the JSON line (asserting success)."""
    code, out, err = cli(capsys, "validate", spec)
    assert code == 0 and out.strip() == "ok", err
    code, out, err = cli(capsys, "train", spec, "--workspace", workspace, "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "finished", result
    return result


def load(result: dict):
    """The run's saved ``model.keras``."""
    import keras

    import cnnlab.layers  # noqa: F401 - registers the lab's layers

    return keras.models.load_model(result["model_path"])


def weights_of(model, name: str) -> list:
    """A layer's weights (trainable and moving statistics) as NumPy arrays."""
    return [w.numpy() if hasattr(w, "numpy") else w for w in
            model.get_layer(name).get_weights()]
