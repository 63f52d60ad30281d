"""Verified exports: ``.keras``, ``.h5``, SavedModel, a Python script, ONNX and LiteRT.

Every path an export writes is checked first (:mod:`cnnlab.modelio.targets`:
nothing is replaced without ``force``). The export is written to a temporary
path beside the target, checked against the trained model's predictions
(the Python script in a separate process; ONNX and LiteRT files in their own
runtimes, see :mod:`cnnlab.modelio.runtimes`) and only then moved into place;
a manifest records versions, input, preprocessing, classes, the spec and the
lab layers it needs.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_path, atomic_write_json, atomic_write_text, replace_dir
from cnnlab.errors import RunError
from cnnlab.modelio.manifest import manifest_path
from cnnlab.modelio.targets import FORMATS, SUFFIXES, check_targets, existing_targets
from cnnlab.modelio.verify import TRAIN_SAMPLES

__all__ = ["FORMATS", "SUFFIXES", "ExportResult", "check_targets", "existing_targets",
           "export_model", "export_run", "replace_dir"]
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ExportResult:
    """A verified export."""

    path: Path
    format: str
    manifest_path: Path
    max_abs_diff: float
    samples: int
    seconds: float


def export_model(model: Any, fmt: str, out: str | Path, spec_dict: dict | None = None,
                 class_names: Sequence[str] | None = None, preprocessing: Any = None,
                 progress: Progress | None = None, force: bool = False) -> ExportResult:
    """Export a trained model, verify it, and write its manifest.

    Args:
        model: The trained ``keras.Model``.
        fmt: ``keras``, ``h5``, ``savedmodel``, ``python``, ``onnx`` or ``litert``.
        out: The target file (or folder for ``savedmodel``).
        spec_dict: The experiment it came from (JSON dict), for the manifest
            and the Python script's data pipeline and recipe.
        class_names: Names of the output classes, in order.
        preprocessing: How inputs must be prepared (recorded as given; by
            default derived from ``spec_dict``'s data section).
        progress: Called as ``progress(stage, fraction)``.
        force: Replace an existing target (a folder only when it is a
            SavedModel the lab wrote); it is replaced only after the new
            export passed verification.

    Returns:
        Where it went, and how closely the reloaded export reproduces the model.

    Raises:
        ModelFileError: For an unknown format, a wrong file name, a folder
            that is not the lab's SavedModel, or when the export fails
            verification (nothing is replaced then).
        CnnlabError: When a target exists and ``force`` is not given, or the
            format's optional extra (``onnx``, ``litert``) is not installed.
    """
    from cnnlab.modelio import runtimes, verify

    out = check_targets(fmt, out, force)
    runtimes.require(fmt)
    report = progress or (lambda stage, fraction: None)
    started = time.monotonic()
    x = verify.sample_inputs(model)
    expected = verify.predict(model, x)
    report("converting" if fmt in runtimes.RUNTIME_FORMATS else "writing", 0.1)
    writer = {"keras": _write_model_file, "h5": _write_model_file,
              "savedmodel": _write_savedmodel, "python": _write_script,
              "onnx": _write_onnx, "litert": _write_litert}[fmt]
    if preprocessing is None and spec_dict is not None:
        preprocessing = preprocessing_of(spec_dict, {})
    manifest_extra = {"spec_dict": spec_dict, "class_names": class_names,
                      "preprocessing": preprocessing}
    diff = writer(model, out, x, expected, manifest_extra, report)
    report("done", 1.0)
    return ExportResult(out, fmt, manifest_path(out, fmt), diff, len(x),
                        time.monotonic() - started)


def _write_model_file(model, out: Path, x, expected, extra: dict, report: Progress) -> float:
    from cnnlab.modelio.verify import verify_model_file

    with atomic_path(out) as tmp:
        model.save(tmp)
        report("verifying", 0.6)
        diff = verify_model_file(tmp, expected, x)
    fmt = "keras" if out.suffix.lower() == ".keras" else "h5"
    _write_manifest(model, out, fmt, diff, len(x), extra)
    return diff


def _write_onnx(model, out: Path, x, expected, extra: dict, report: Progress) -> float:
    return _write_runtime_file("onnx", model, out, x, expected, extra, report)


def _write_litert(model, out: Path, x, expected, extra: dict, report: Progress) -> float:
    return _write_runtime_file("litert", model, out, x, expected, extra, report)


def _write_runtime_file(fmt: str, model, out: Path, x, expected, extra: dict,
                        report: Progress) -> float:
    """Convert to a temporary file, check it in its runtime, then move it into place."""
    from cnnlab.modelio import runtimes

    with atomic_path(out) as tmp:
        runtimes.convert(model, fmt, tmp)
        report("verifying", 0.6)
        diff = runtimes.verify(fmt, tmp, expected, x)
    _write_manifest(model, out, fmt, diff, len(x), extra)
    return diff


def _write_savedmodel(model, out: Path, x, expected, extra: dict, report: Progress) -> float:
    from cnnlab.modelio.verify import verify_savedmodel

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False)
        report("verifying", 0.6)
        diff = verify_savedmodel(tmp, expected, x)
        _write_manifest(model, out, "savedmodel", diff, len(x), extra,
                        manifest_path(tmp, "savedmodel"))
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return diff


def _write_script(model, out: Path, x, expected, extra: dict, report: Progress) -> float:
    from cnnlab.modelio.pyrecipe import script_text
    from cnnlab.modelio.verify import verify_script

    spec = extra["spec_dict"]
    text = script_text(model, spec, extra["class_names"])
    report("verifying", 0.3)
    diff = verify_script(text, model, expected, x, train=spec is not None,
                         data_path=_data_path(spec))
    atomic_write_text(out, text)
    _write_manifest(model, out, "python", diff, len(x), extra)
    return diff


def _data_path(spec: dict | None) -> str | None:
    """The experiment's data file or folder as an absolute path (None when it has none)."""
    data = (spec or {}).get("data", {})
    if data.get("source") not in ("npz", "folder") or not data.get("path"):
        return None
    path = Path(str(data["path"])).expanduser()
    return str(path if path.is_absolute() else Path.cwd() / path)


def _write_manifest(model, out: Path, fmt: str, diff: float, samples: int, extra: dict,
                    where: Path | None = None) -> None:
    from cnnlab.modelio.manifest import build_manifest
    from cnnlab.modelio.verify import ATOL, RTOL

    check = {"samples": samples, "max_abs_diff": diff, "atol": ATOL, "rtol": RTOL,
             "how": _how(fmt, extra["spec_dict"] is not None)}
    doc = build_manifest(model, fmt, out, check, **extra)
    atomic_write_json(where or manifest_path(out, fmt), doc)


def _how(fmt: str, trained: bool) -> str:
    if fmt != "python":
        return _HOW[fmt]
    how = ("run in a separate process (python -I, time limit): build_model() with the "
           "trained weights, predictions compared")
    if trained:
        how += f"; trained for 1 epoch on {TRAIN_SAMPLES} samples of the experiment's data"
    return how


_HOW = {"keras": "reloaded with keras.saving.load_model(safe_mode=True)",
        "h5": "reloaded with keras.saving.load_model(safe_mode=True)",
        "savedmodel": "reloaded with tf.saved_model.load, serving_default signature called",
        "onnx": "reloaded with onnxruntime.InferenceSession (CPU), predictions compared",
        "litert": "reloaded with the LiteRT interpreter (ai_edge_litert), predictions compared"}


def export_run(run_dir: str | Path, fmt: str, out: str | Path,
               progress: Progress | None = None, force: bool = False) -> ExportResult:
    """Export a finished run (``model.keras``, ``spec.json``, ``metadata.json`` in ``run_dir``).

    The targets (see :func:`check_targets`) and the format's optional extra
    are checked before anything is loaded.

    Raises:
        RunError: When the run folder lacks its model or spec.
        ModelFileError: As :func:`export_model`.
        CnnlabError: When a target exists and ``force`` is not given.
    """
    from cnnlab.modelio.loader import load_model_file
    from cnnlab.modelio.runtimes import require

    check_targets(fmt, out, force)
    require(fmt)
    folder = Path(run_dir)
    if not (folder / "model.keras").is_file():
        raise RunError(f"{folder}: the run has no trained model (model.keras) to export")
    spec = _read_json(folder / "spec.json", required=True)
    meta = _read_json(folder / "metadata.json", required=False)
    model, _ = load_model_file(folder / "model.keras")
    classes = (meta.get("class_names") or (meta.get("data") or {}).get("classes")
               or class_names_of(spec))
    prep = meta.get("preprocessing") or preprocessing_of(spec, meta)
    return export_model(model, fmt, out, spec, classes, prep, progress, force)


def _read_json(path: Path, required: bool) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise RunError(f"{path.parent}: the run has no {path.name}") from None
        return {}
    except (OSError, ValueError) as exc:
        raise RunError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise RunError(f"{path}: not a JSON object")
    return doc


KERAS_CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                "ship", "truck"],
}


def class_names_of(spec: dict) -> list[str] | None:
    """Class names the experiment's data section determines (shapes, Keras datasets)."""
    data = spec.get("data", {})
    if data.get("source", "shapes") == "shapes":
        return data.get("shapes", {}).get("classes")
    if data.get("source") == "keras":
        return KERAS_CLASSES.get(data.get("keras_name", "mnist"))
    return None


def preprocessing_of(spec: dict, meta: dict) -> dict:
    """How raw images must be prepared, from the data section (and stored statistics)."""
    norm = spec.get("data", {}).get("normalization", "scale")
    doc: dict[str, Any] = {"normalization": norm, "input_range": "pixels 0..255"}
    if norm == "scale":
        doc["formula"] = "x / 255"
    elif norm == "standardize":
        doc["formula"] = "(x - mean) / std, per channel, statistics of the training split"
        doc.update({k: meta[k] for k in ("mean", "std") if k in meta})
    return doc
