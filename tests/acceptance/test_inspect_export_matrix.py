"""Acceptance matrix, inspection and export part: every ``cnnlab inspect`` method on a
run and on a model file, every export format reloaded and compared, the Python
script trained for one epoch in a subprocess."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matrix_checks import predict
from matrix_lab import assert_one_line_error, cli

from cnnlab.cli.inspect import METHODS

PNG = b"\x89PNG\r\n\x1a\n"
QUICK = {"fantasy": ["--steps", "5"], "deep-dream": ["--steps", "3", "--octaves", "1"],
         "feature-maps": ["--layer", "conv2"]}


def _inspect(lab, target, method, out, *extra):
    return cli("inspect", target, "--method", method, "--out", out, "--workspace",
               lab.workspace, *QUICK.get(method, []), *extra)


def _sample_png(run, path):
    """The run's first validation image as a PNG file."""
    import tensorflow as tf

    x, _ = run.val_arrays()
    pixels = np.clip(np.asarray(x[0]) * 255, 0, 255).astype(np.uint8)
    path.write_bytes(tf.io.encode_png(pixels).numpy())
    return path


@pytest.mark.parametrize("method", METHODS)
def test_every_inspect_method_on_a_run(lab, method, tmp_path):
    run = lab.cached("base")
    out = tmp_path / f"{method}.png"
    code, stdout, err = _inspect(lab, run.result["run_id"], method, out)
    assert code == 0, err
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 1000


@pytest.mark.parametrize("method", METHODS)
def test_every_inspect_method_on_a_model_file(lab, method, tmp_path):
    run = lab.cached("base")
    out = tmp_path / f"{method}.png"
    image = [] if method in ("filters", "fantasy", "confusion") else [
        "--image", _sample_png(run, tmp_path / "sample.png")]
    code, _, err = _inspect(lab, run.result["model_path"], method, out, *image)
    if method == "confusion":  # a bare model file has no data to evaluate on
        assert_one_line_error(code, err)
        assert not out.exists()
        return
    assert code == 0, err
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 1000


def test_inspect_never_replaces_a_file_without_force(lab, tmp_path):
    run_id = lab.cached("base").result["run_id"]
    out = tmp_path / "mine.png"
    out.write_bytes(b"precious")
    code, _, err = _inspect(lab, run_id, "filters", out)
    assert_one_line_error(code, err, "--force")
    assert out.read_bytes() == b"precious"
    code, _, err = cli("inspect", run_id, "--method", "filters", "--out", out, "--force",
                       "--workspace", lab.workspace)
    assert code == 0, err
    assert out.read_bytes()[:8] == PNG


def _reload(fmt: str, path):
    import keras
    import tensorflow as tf

    import cnnlab.layers  # noqa: F401 - the lab's layers for loading

    if fmt == "savedmodel":
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]

        def run(x):
            (out,) = serve(tf.constant(x, tf.float32)).values()
            return np.asarray(out, dtype=np.float64)
        return run
    model = keras.models.load_model(path, compile=False)
    return lambda x: predict(model, x)


@pytest.mark.parametrize("fmt, name", [("keras", "m.keras"), ("h5", "m.h5"),
                                       ("savedmodel", "sm")])
def test_every_model_export_reloads_and_predicts_the_same(lab, fmt, name, tmp_path):
    run = lab.cached("base")
    out = tmp_path / name
    code, stdout, err = cli("export", run.result["run_id"], "--format", fmt, "--out", out,
                            "--workspace", lab.workspace)
    assert code == 0, err
    assert "verified" in stdout
    x, _ = run.val_arrays()
    got = _reload(fmt, out)(x)
    assert np.max(np.abs(got - predict(run.model, x))) < 1e-5


def test_python_export_trains_for_one_epoch_in_a_subprocess(lab, tmp_path):
    run = lab.cached("base")
    script = tmp_path / "train_it.py"
    code, _, err = cli("export", run.result["run_id"], "--format", "python", "--out", script,
                       "--workspace", lab.workspace)
    assert code == 0, err
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("val_loss:") == 1, done.stdout  # Keras's line of the one epoch
    import keras

    import cnnlab.layers  # noqa: F401

    trained = keras.models.load_model(work / "model.keras", compile=False)
    assert [la.name for la in trained.layers] == [la.name for la in run.model.layers]


def test_export_never_replaces_a_file_without_force(lab, tmp_path):
    run_id = lab.cached("base").result["run_id"]
    out = tmp_path / "m.keras"
    out.write_bytes(b"precious")
    code, _, err = cli("export", run_id, "--format", "keras", "--out", out, "--workspace",
                       lab.workspace)
    assert_one_line_error(code, err, "--force")
    assert out.read_bytes() == b"precious"
    code, _, err = cli("export", run_id, "--format", "keras", "--out", out, "--force",
                       "--workspace", lab.workspace)
    assert code == 0, err
    assert out.read_bytes() != b"precious"
