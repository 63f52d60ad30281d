"""Check an exported artifact: load it back and compare its predictions with the model's.

Files are loaded the way the lab imports them; the Python export is run in a
separate, time-limited process (generated code never runs in the lab's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.errors import ModelFileError

ATOL = 1e-5
RTOL = 1e-5
SAMPLES = 4
TRAIN_SAMPLES = 32
SCRIPT_TIMEOUT = 300.0
ENV_KEPT = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT", "KERAS_HOME", "KERAS_BACKEND",
            "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "TF_CPP_MIN_LOG_LEVEL", "VIRTUAL_ENV")


def sample_inputs(model: Any, n: int = SAMPLES, seed: int = 0) -> np.ndarray:
    """``n`` fixed pseudo-random inputs in [0, 1) of the model's input shape."""
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Inference-mode outputs as a NumPy array (dropout and noise off)."""
    return np.asarray(model(x, training=False))


def compare(expected: np.ndarray, got: Any, what: str) -> float:
    """The largest absolute difference; raise when it exceeds the tolerance.

    Raises:
        ModelFileError: When the outputs differ in shape or beyond ``ATOL + RTOL*|x|``.
    """
    got = np.asarray(got)
    if got.shape != expected.shape:
        raise ModelFileError(f"{what}: outputs have shape {got.shape}, expected "
                             f"{expected.shape}; the export is not written")
    diff = float(np.max(np.abs(got.astype(np.float64) - expected))) if got.size else 0.0
    if not np.allclose(got, expected, atol=ATOL, rtol=RTOL):
        raise ModelFileError(f"{what}: predictions differ from the trained model by up to "
                             f"{diff:.3g}; the export is not written")
    return diff


def verify_model_file(path: Path, expected: np.ndarray, x: np.ndarray) -> float:
    """Load a ``.keras``/``.h5`` file the way the lab imports files, and compare."""
    from cnnlab.modelio.loader import load_model_file

    model, _ = load_model_file(path)
    return compare(expected, predict(model, x), f"{path.suffix} export")


def verify_savedmodel(path: Path, expected: np.ndarray, x: np.ndarray) -> float:
    """Load a SavedModel with TensorFlow, call its serving signature, and compare."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
        serve = loaded.signatures["serving_default"]
        arg = next(iter(serve.structured_input_signature[1]))
        outputs = serve(**{arg: tf.constant(x)})
    except Exception as exc:  # TensorFlow raises many types here
        raise ModelFileError(f"SavedModel export: cannot be loaded and called "
                             f"({exc.__class__.__name__}: {exc})") from None
    if len(outputs) != 1:
        raise ModelFileError(f"SavedModel export: the signature returns {len(outputs)} outputs")
    return compare(expected, next(iter(outputs.values())).numpy(), "SavedModel export")


def verify_script(text: str, model: Any, expected: np.ndarray, x: np.ndarray,
                  train: bool = False, data_path: str | None = None,
                  timeout: float = SCRIPT_TIMEOUT) -> float:
    """Run the script in a separate Python process and compare what it builds.

    The script is never executed in this process. It runs with a time limit,
    in a fresh temporary folder, in isolated mode (``python -I``: no
    ``PYTHON*`` variables, no user site, not the script's folder on the path)
    and with only a few environment variables. Its ``--check-weights`` mode
    rebuilds the network with the trained weights and writes its layers and
    predictions; with ``train`` it also trains for one epoch on a few samples.

    Args:
        text: The script.
        model: The trained model it must rebuild.
        expected: ``model``'s predictions for ``x``.
        x: The check inputs.
        train: Also run one epoch of the script's training on ``TRAIN_SAMPLES``.
        data_path: The data file or folder for that run (an absolute path).
        timeout: Seconds before the process is killed and the export refused.

    Returns:
        The largest absolute difference of the predictions.

    Raises:
        ModelFileError: When the script fails, times out, or rebuilds another network.
    """
    with tempfile.TemporaryDirectory(prefix="cnnlab-script-check-") as folder:
        tmp = Path(folder)
        script, out = tmp / "exported_script.py", tmp / "out"
        script.write_text(text, encoding="utf-8")
        weights = {f"{i}.{j}": w for i, layer in enumerate(model.layers)
                   for j, w in enumerate(layer.get_weights())}
        np.savez(tmp / "weights.npz", **weights)
        np.save(tmp / "inputs.npy", x)
        cmd = [sys.executable, "-I", str(script), "--check-weights", str(tmp / "weights.npz"),
               "--check-inputs", str(tmp / "inputs.npy"), "--out", str(out)]
        if train:
            cmd += ["--epochs", "1", "--max-samples", str(TRAIN_SAMPLES)]
            cmd += ["--data", data_path] if data_path else []
        failure = _run_script(cmd, tmp, timeout)
        if (out / "check_layers.json").is_file():
            _same_structure(model, json.loads((out / "check_layers.json").read_text()))
        if failure:
            raise ModelFileError(f"Python export: the script fails ({failure}); the export "
                                 "is not written")
        if train and not (out / "model.keras").is_file():
            raise ModelFileError("Python export: the training run saved no model.keras")
        got = np.load(out / "check_predictions.npy", allow_pickle=False)
    return compare(expected, got, "Python export")


def script_env() -> dict[str, str]:
    """The environment of the script's process: only what Python, TF and Keras need."""
    env = {k: v for k, v in os.environ.items() if k in ENV_KEPT or k.startswith("LC_")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"  # leave the GPU's memory to a running training
    return env


def _run_script(cmd: list[str], cwd: Path, timeout: float) -> str | None:
    """Run the script; return the last line of its error output when it fails."""
    try:
        done = subprocess.run(cmd, cwd=cwd, env=script_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelFileError(f"Python export: the script did not finish within {timeout:g} s; "
                             "the export is not written") from None
    return _last_line(done.stderr or done.stdout) if done.returncode else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _same_structure(model: Any, rebuilt: list) -> None:
    want = [[la.name, list(la.output.shape), la.count_params()] for la in model.layers]
    got = [[str(a), list(b), int(c)] for a, b, c in rebuilt]
    for a, b in zip(want, got):
        if a != b:
            raise ModelFileError(f"Python export: layer {b[0]!r} {tuple(b[1])} ({b[2]} "
                                 f"parameters) differs from {a[0]!r} {tuple(a[1])} ({a[2]} "
                                 "parameters)")
    if len(want) != len(got):
        raise ModelFileError(f"Python export: {len(got)} layers instead of {len(want)}")
