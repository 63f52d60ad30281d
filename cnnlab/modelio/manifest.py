"""The manifest written next to every export: versions, input, preprocessing, classes, spec."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnlab.modelio.safety import lab_objects

# A module name as it may appear in the load snippet (anything else from a file is not shown).
MODULE_RE = re.compile(r"^cnnlab(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def manifest_path(out: Path, fmt: str) -> Path:
    """``<out>.manifest.json``, or ``manifest.json`` inside a SavedModel folder."""
    return out / "manifest.json" if fmt == "savedmodel" else Path(f"{out}.manifest.json")


def versions() -> dict[str, str]:
    """cnnlab, Keras, TensorFlow, NumPy and Python versions."""
    import keras
    import numpy
    import tensorflow as tf

    import cnnlab

    return {"cnnlab": cnnlab.__version__, "keras": keras.__version__,
            "tensorflow": tf.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


def lab_layers(model: Any) -> dict[str, str]:
    """The lab's registered objects the saved model refers to: ``{name: module}``."""
    import keras

    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model),
                                   default=lambda o: o.tolist() if hasattr(o, "tolist") else
                                   str(o)))
    return lab_objects(config)


STANDALONE = {
    "onnx": "standalone: onnxruntime.InferenceSession(path); no Keras, TensorFlow or lab code "
            "needed",
    "litert": "standalone: ai_edge_litert.interpreter.Interpreter(model_path=path); no Keras, "
              "TensorFlow or lab code needed",
}


def load_note(custom: dict[str, str], fmt: str = "keras") -> str:
    """How to load the export: standalone, plain Keras, or after importing the lab's modules."""
    if fmt in STANDALONE:
        carried = f" (lab layers converted to plain operations: {', '.join(sorted(custom))})"
        return STANDALONE[fmt] + (carried if custom else "")
    if not custom:
        return "plain Keras (no lab layers)"
    names = {m if MODULE_RE.fullmatch(m) else "cnnlab.layers" for m in custom.values()}
    return f"needs `import {', '.join(sorted(names))}` before loading (registers the lab's objects)"


def build_manifest(model: Any, fmt: str, artifact: Path, verification: dict[str, Any],
                   spec_dict: dict | None = None, class_names: Sequence[str] | None = None,
                   preprocessing: Any = None) -> dict[str, Any]:
    """The manifest of one verified export."""
    custom = lab_layers(model)
    return {
        "cnnlab_manifest": 1,
        "format": fmt,
        "artifact": artifact.name,
        "sha256": _sha256(artifact) if artifact.is_file() else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions() | _runtime_versions(fmt),
        "model": {"name": model.name,
                  "input_shape": [int(d) for d in model.inputs[0].shape[1:]],
                  "output_shape": [int(d) for d in model.outputs[0].shape[1:]],
                  "params": int(model.count_params())},
        "preprocessing": preprocessing,
        "class_names": list(class_names) if class_names is not None else None,
        "custom_layers": sorted(custom),
        "load": load_note(custom, fmt),
        "verification": verification,
        "spec": spec_dict,
    }


def _runtime_versions(fmt: str) -> dict[str, str]:
    from cnnlab.modelio.runtimes import RUNTIME_FORMATS, runtime_versions

    return runtime_versions(fmt) if fmt in RUNTIME_FORMATS else {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
