"""Write a verified fully convolutional copy of a trained model (``cnnlab convert``).

The copy (:mod:`cnnlab.modelio.fully_conv`) is checked before anything is
written: at the original input size every converted layer and the output
must equal the original's within :data:`TOLERANCE`, and an input
:data:`GROWTH` times larger must give a map of scores. The ``.keras`` file is
then written to a temporary path, reloaded in safe mode, compared again and
only then moved into place; a manifest beside it records the differences,
the rewritten layers, the map's stride and the versions. Nothing that exists
is replaced without ``force``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.atomic import atomic_path, atomic_write_json
from cnnlab.errors import ModelFileError, RunError
from cnnlab.modelio.fully_conv import FullyConv, fully_convolutional
from cnnlab.modelio.manifest import manifest_path
from cnnlab.modelio.targets import check_targets

TOLERANCE = 1e-4  # a convolution sums in another order than the Dense it replaces
RELOAD_TOLERANCE = 1e-6
SAMPLES = 4
GROWTH = 2
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Check:
    """How closely the converted model reproduces the original."""

    samples: int
    max_abs_diff: float  # of the outputs at the original size
    layer_diffs: dict[str, float]  # of each converted layer's outputs
    larger_input: tuple[int, int, int]
    map_shape: tuple[int, int, int]  # (rows, columns, classes) for ``larger_input``


@dataclass(frozen=True)
class ConversionResult:
    """A verified fully convolutional model file."""

    path: Path
    manifest_path: Path
    check: Check
    rewrites: tuple[str, ...]
    input_shape: tuple[int, int, int]
    stride: tuple[int, int]
    seconds: float

    @property
    def max_abs_diff(self) -> float:
        """The largest output difference at the original input size."""
        return self.check.max_abs_diff

    def summary(self) -> str:
        """One line: what became what, how it was verified, what a larger input gives."""
        h, w, _c = self.input_shape
        big, rows = self.check.larger_input, self.check.map_shape
        return (f"{'; '.join(self.rewrites)}. Same outputs at {h}x{w} (max difference "
                f"{self.max_abs_diff:.2g} on {self.check.samples} inputs); a {big[0]}x{big[1]} "
                f"image gives a {rows[0]}x{rows[1]} map of {rows[2]} class scores, "
                f"{self.stride[0]} pixels apart")


def verify(model: Any, fc: FullyConv, n: int = SAMPLES) -> Check:
    """Compare the converted model with the original (raise when they differ).

    Raises:
        ModelFileError: When an output differs by more than :data:`TOLERANCE`.
    """
    from cnnlab.modelio.verify import predict, sample_inputs

    x = sample_inputs(model, n)
    names = [r.layer for r in fc.rewrites]
    diffs = {name: _diff(a, b) for name, a, b in
             zip(names, _outputs(model, names, x), _outputs(fc.model, names, x), strict=True)}
    expected, got = predict(model, x), predict(fc.model, x)
    diff = _diff(expected, got)
    worst = max([diff, *diffs.values()])
    if not worst <= TOLERANCE:
        where = max(diffs, key=diffs.get) if diffs and max(diffs.values()) >= diff else "output"
        raise ModelFileError(f"the converted model differs from the original by {worst:.3g} "
                             f"at {where!r}; nothing is written")
    h, w, c = fc.input_shape
    big = (GROWTH * h, GROWTH * w, c)
    scores = predict(fc.model, _random(1, big, seed=1))
    return Check(len(x), diff, diffs, big, tuple(int(d) for d in scores.shape[1:]))


def _random(n: int, shape: Sequence[int], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _outputs(model: Any, names: Sequence[str], x: np.ndarray) -> list[np.ndarray]:
    import keras

    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    return [np.asarray(o) for o in probe(x, training=False)]


def _diff(expected: Any, got: Any) -> float:
    """Max |difference|, the converted side's 1x1 map read as a vector."""
    expected, got = np.asarray(expected, np.float64), np.asarray(got, np.float64)
    if got.size != expected.size:
        raise ModelFileError(f"the converted model gives {got.shape[1:]} where the original "
                             f"gives {expected.shape[1:]}; nothing is written")
    return float(np.max(np.abs(got.reshape(expected.shape) - expected))) if got.size else 0.0


def convert_model(model: Any, out: str | Path, force: bool = False,
                  spec_dict: dict | None = None, class_names: Sequence[str] | None = None,
                  preprocessing: Any = None, progress: Progress | None = None) -> ConversionResult:
    """Convert, verify, write ``out`` (``.keras``) and its manifest.

    Args:
        model: The trained ``keras.Model`` with a Flatten+Dense head.
        out: The ``.keras`` file to write (its manifest is ``out.manifest.json``).
        force: Replace an existing file (only after the new one passed verification).
        spec_dict: The experiment the model came from, for the manifest.
        class_names: The output classes, in order (the score map's channels).
        preprocessing: How inputs must be prepared (recorded as given).
        progress: Called as ``progress(stage, fraction)``.

    Raises:
        ModelFileError: No Flatten+Dense head, a wrong file name, or a failed check.
        CnnlabError: When ``out`` or its manifest exists and ``force`` is not given.
    """
    out = check_targets("keras", out, force)
    report = progress or (lambda stage, fraction: None)
    started = time.monotonic()
    report("converting", 0.05)
    fc = fully_convolutional(model)
    report("verifying", 0.3)
    check = verify(model, fc)
    report("writing", 0.6)
    reloaded = _write_model(fc, out)
    extra = {"spec": spec_dict, "preprocessing": preprocessing,
             "class_names": list(class_names) if class_names is not None else None}
    seconds = time.monotonic() - started
    atomic_write_json(manifest_path(out, "keras"),
                      _manifest(fc, out, check, reloaded, extra, seconds))
    report("done", 1.0)
    return ConversionResult(out, manifest_path(out, "keras"), check,
                            tuple(r.describe() for r in fc.rewrites), fc.input_shape, fc.stride,
                            seconds)


def _write_model(fc: FullyConv, out: Path) -> float:
    """Save, reload in safe mode, compare at two sizes; return the reload's difference."""
    from cnnlab.modelio.verify import predict

    h, w, c = fc.input_shape
    inputs = [_random(2, shape, seed=2) for shape in
              ((h, w, c), (GROWTH * h + 1, GROWTH * w + 1, c))]
    with atomic_path(out) as tmp:
        fc.model.save(tmp)
        loaded = load_fully_conv(tmp)
        diff = max(_diff(predict(fc.model, x), predict(loaded, x)) for x in inputs)
        if not diff <= RELOAD_TOLERANCE:
            raise ModelFileError(f"the saved file gives other scores than the converted model "
                                 f"(by {diff:.3g}); nothing is written")
    return diff


def load_fully_conv(path: str | Path) -> Any:
    """Load a fully convolutional ``.keras`` file (inspected first, safe mode, any input size).

    Raises:
        ModelFileError: When the file is refused, cannot be loaded, or is not
            a model that takes inputs of any size.
    """
    from cnnlab.modelio.safety import first_line, inspect_model_file

    inspect_model_file(path)
    import keras

    import cnnlab.layers  # noqa: F401  (the lab's layers must be registered to load)

    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for bad files
        raise ModelFileError(f"{Path(path).name}: Keras could not load it "
                             f"({exc.__class__.__name__}: {first_line(exc)})") from None
    shape = tuple(getattr(model, "inputs", [None])[0].shape[1:]) if isinstance(
        model, keras.Model) and len(model.inputs) == 1 else ()
    if len(shape) != 3 or shape[:2] != (None, None):
        raise ModelFileError(f"{Path(path).name}: not a fully convolutional model (its "
                             f"input is {shape or 'not one image'})")
    return model


def _manifest(fc: FullyConv, out: Path, check: Check, reload_diff: float, extra: dict,
              seconds: float) -> dict[str, Any]:
    from cnnlab.modelio.manifest import lab_layers, load_note, versions

    custom = lab_layers(fc.model)
    with open(out, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {
        "cnnlab_manifest": 1, "format": "keras", "conversion": "fully_convolutional",
        "artifact": out.name, "sha256": digest, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
        "model": {"name": fc.model.name, "input_shape": [None, None, fc.input_shape[2]],
                  "output_shape": [None, None, check.map_shape[2]],
                  "params": int(fc.model.count_params())},
        "original_input_shape": list(fc.input_shape),
        "removed": [fc.head.flatten],
        "rewrites": [{"layer": r.layer, "dense": [r.units_in, r.kernel[3]],
                      "conv_kernel": list(r.kernel)} for r in fc.rewrites],
        "score_map": {"window": list(fc.input_shape[:2]), "stride": list(fc.stride),
                      "checked_input": list(check.larger_input),
                      "checked_output": list(check.map_shape)},
        "verification": {"samples": check.samples, "max_abs_diff": check.max_abs_diff,
                         "layer_max_abs_diff": check.layer_diffs, "tolerance": TOLERANCE,
                         "reloaded_max_abs_diff": reload_diff,
                         "how": "outputs of the original and the converted model (and of each "
                                "converted layer) compared at the original input size; the "
                                "file reloaded with keras.saving.load_model(safe_mode=True) "
                                "and compared at the original and a larger size"},
        "custom_layers": sorted(custom), "load": load_note(custom), "seconds": seconds, **extra,
    }


def convert_run(run_dir: str | Path, out: str | Path, force: bool = False,
                progress: Progress | None = None) -> ConversionResult:
    """Convert a finished run's ``model.keras`` (the targets are checked before loading).

    Raises:
        RunError: When the run folder lacks its model or spec.
        ModelFileError, CnnlabError: As :func:`convert_model`.
    """
    from cnnlab.modelio.export import class_names_of, preprocessing_of
    from cnnlab.modelio.loader import load_model_file

    check_targets("keras", out, force)
    folder = Path(run_dir)
    if not (folder / "model.keras").is_file():
        raise RunError(f"{folder}: the run has no trained model (model.keras) to convert")
    spec, meta = _read_json(folder / "spec.json"), _read_json(folder / "metadata.json")
    if spec is None:
        raise RunError(f"{folder}: the run has no readable spec.json")
    model, _ = load_model_file(folder / "model.keras")
    meta = meta or {}
    classes = (meta.get("class_names") or (meta.get("data") or {}).get("classes")
               or class_names_of(spec))
    prep = meta.get("preprocessing") or preprocessing_of(spec, meta)
    return convert_model(model, out, force, spec, classes, prep, progress)


def _read_json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
