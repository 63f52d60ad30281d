"""Check an exported artifact: load it back and compare its predictions with the model's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.errors import ModelFileError

ATOL = 1e-5
RTOL = 1e-5
SAMPLES = 4


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


def verify_script(text: str, model: Any, expected: np.ndarray, x: np.ndarray) -> float:
    """Run the script's ``build_model()``; compare layers, shapes, parameters and outputs."""
    namespace: dict[str, Any] = {"__name__": "cnnlab_export_check"}
    try:
        exec(compile(text, "<exported script>", "exec"), namespace)  # the code we generated
        rebuilt = namespace["build_model"]()
    except Exception as exc:
        raise ModelFileError(f"Python export: build_model() fails ({exc.__class__.__name__}: "
                             f"{exc})") from None
    _same_structure(model, rebuilt)
    for layer in model.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    return compare(expected, predict(rebuilt, x), "Python export")


def _same_structure(model: Any, rebuilt: Any) -> None:
    want = [(la.name, tuple(la.output.shape), la.count_params()) for la in model.layers]
    got = [(la.name, tuple(la.output.shape), la.count_params()) for la in rebuilt.layers]
    for a, b in zip(want, got):
        if a != b:
            raise ModelFileError(f"Python export: layer {b[0]!r} {b[1]} ({b[2]} parameters) "
                                 f"differs from {a[0]!r} {a[1]} ({a[2]} parameters)")
    if len(want) != len(got):
        raise ModelFileError(f"Python export: {len(got)} layers instead of {len(want)}")
