"""Keras model files -> editable experiments (``cnnlab import MODEL_FILE``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.errors import ModelFileError, SpecError
from cnnlab.spec.experiment import Experiment


@dataclass(frozen=True)
class ImportResult:
    """An imported model: its experiment, its weights by block id, and what to know."""

    experiment: Experiment
    weights: dict[str, list] | None
    report: list[str]


def import_model_file(path: str | Path, keep_weights: bool = True,
                      input_shape: Sequence[int] | None = None) -> ImportResult:
    """Turn a ``.keras`` or ``.h5`` model into an editable experiment.

    The file is inspected before Keras reads it (see :mod:`cnnlab.modelio.safety`)
    and loaded with ``safe_mode=True``. Layers the catalogue knows become
    blocks with Keras's parameter names; the others are kept as frozen
    ``Opaque`` blocks and listed in the report.

    Args:
        path: The model file.
        keep_weights: Return the trained weights, by block id (= layer name of
            the model the lab builds), so they can be set after building.
        input_shape: Sizes for open input dimensions, without the batch axis.

    Returns:
        The experiment, the weights (or None) and report lines.

    Raises:
        ModelFileError: When the file is refused, damaged or cannot be a lab graph.
    """
    from cnnlab.modelio.convert import graph_from_keras
    from cnnlab.modelio.loader import load_model_file

    p = Path(path)
    model, inspection = load_model_file(p, input_shape)
    conv = graph_from_keras(model, keep_weights=keep_weights)
    exp = _experiment(model.name, p, conv.nodes, conv.edges)
    report = [f"imported {len(conv.nodes)} blocks from {p.name} ({inspection.kind})"]
    if inspection.custom_objects:
        report.append("uses the lab's layers " + ", ".join(inspection.custom_objects))
    return ImportResult(exp, conv.weights, report + conv.report)


def _experiment(name: str, path: Path, nodes: list, edges: list) -> Experiment:
    from cnnlab.spec.load import experiment_from_dict

    try:
        return experiment_from_dict({
            "name": name, "description": f"Imported from {path.name}",
            "model": {"nodes": nodes, "edges": edges}})
    except SpecError as exc:
        raise ModelFileError(f"{path.name}: the imported graph is not valid ({exc})") from None


def set_weights(model: Any, weights: Mapping[str, list], strict: bool = False) -> list[str]:
    """Set weights by layer name into a built model (the lab's layer names = block ids).

    Args:
        model: The built ``keras.Model``.
        weights: ``{layer name: [arrays]}`` as :func:`import_model_file` returns.
        strict: Raise when a name has no layer instead of reporting it.

    Returns:
        One line per name that has no layer (weights skipped).

    Raises:
        ModelFileError: When shapes do not fit, or (strict) a layer is missing.
    """
    names = {layer.name: layer for layer in model.layers}
    missing = []
    for name, arrays in weights.items():
        layer = names.get(name)
        if layer is None:
            missing.append(f"{name}: no such layer; its weights were not set")
            continue
        try:
            layer.set_weights(arrays)
        except ValueError as exc:
            raise ModelFileError(f"{name}: the weights do not fit the layer ({exc})") from None
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()  # Normalization keeps a copy of its statistics
    if missing and strict:
        raise ModelFileError(missing[0])
    model.predict_function = None  # forget functions traced with the old values
    return missing


def write_weights(weights: Mapping[str, list], path: str | Path) -> None:
    """Save imported weights as ``.npz`` (keys ``<block id>.<index>``), atomically."""
    import numpy as np

    from cnnlab.atomic import atomic_path

    arrays = {f"{name}.{i}": np.asarray(a) for name, items in weights.items()
              for i, a in enumerate(items)}
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def read_weights(path: str | Path) -> dict[str, list]:
    """Weights saved by :func:`write_weights` (no pickles are loaded).

    Raises:
        ModelFileError: When the file is missing or not such a weights file.
    """
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            items = sorted((k.rsplit(".", 1)[0], int(k.rsplit(".", 1)[1]), data[k])
                           for k in data.files)
    except (OSError, ValueError, IndexError) as exc:
        raise ModelFileError(f"{path}: not a weights file ({exc.__class__.__name__})") from None
    out: dict[str, list] = {}
    for name, _, array in items:
        out.setdefault(name, []).append(array)
    return out
