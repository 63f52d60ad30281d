"""Put a pretrained base into an experiment's graph, and its weights into the built model.

The base's layers (up to ``cut_at``) become blocks with ids ``prefix + layer
name`` (unknown layers as frozen ``Opaque`` blocks). The experiment's Input
takes the base's place at the front and the existing classifier head follows
the base's output: the blocks from the first global pooling or Flatten block
on (the old feature extractor before it is what the base replaces), or, in a
model without one, every block after the old Input (or after a previous base).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnlab.errors import ModelFileError, SpecError
from cnnlab.spec.experiment import Experiment

SOURCES = ("application", "file", "preset")


def insert_base(exp: Experiment, name_or_path: str | Path, source: str = "application",
                cut_at: str | None = None, weights: str = "imagenet", prefix: str = "base_",
                weights_path: str | Path | None = None) -> Experiment:
    """A new experiment with the base flattened into its model graph.

    Args:
        exp: The experiment (its Input gives the image shape).
        name_or_path: Application name, preset name, or ``.keras``/``.h5`` file.
        source: ``application``, ``file`` or ``preset``.
        cut_at: Last base layer kept (Keras layer name or block id); default:
            the last layer with an image output.
        weights: ``imagenet``, ``random`` or ``file`` (applications).
        prefix: Put in front of the base's block ids.
        weights_path: Local weights file for ``weights="file"``.

    Returns:
        The new experiment, with ``training.transfer`` describing the base.

    Raises:
        SpecError: For an unknown source, base or cut point.
        ModelFileError: When the base's file or weights cannot be used.
    """
    if source not in SOURCES:
        raise SpecError("training.transfer.base_source", f"source must be one of "
                        f"{', '.join(SOURCES)} (got {source!r})")
    shape = input_shape(exp)
    if source == "preset":
        nodes, edges, base_in = _preset_graph(str(name_or_path), prefix, shape)
    else:
        from cnnlab.modelio.convert import graph_from_keras

        model = base_model(str(name_or_path), source, shape, weights, structure_only=True)
        conv = graph_from_keras(model, prefix=prefix, keep_weights=False)
        nodes, edges, base_in = conv.nodes, conv.edges, conv.input_id
    out = _cut_point(nodes, edges, cut_at, prefix, str(name_or_path))
    nodes, edges = _ancestors(nodes, edges, out)
    model_dict = _splice(exp, nodes, edges, base_in, out)
    transfer = _transfer(exp, str(name_or_path), source, cut_at, weights, prefix, weights_path)
    return _experiment(exp, model_dict, transfer)


def input_shape(exp: Experiment) -> tuple[int, ...]:
    """The shape of the experiment's Input block."""
    for node in exp.model.nodes:
        if node.type == "Input":
            return tuple(node.params.get("shape", (32, 32, 3)))
    raise SpecError("model", "the model has no Input block; add one before inserting a base")


def base_model(name: str, source: str, shape: Sequence[int], weights: str,
               weights_path: str | Path | None = None, structure_only: bool = False) -> Any:
    """The base as a Keras model: an application or a model file (loaded safely)."""
    if source == "file":
        from cnnlab.modelio.loader import load_model_file

        model, _ = load_model_file(name, shape)
        return model
    from cnnlab.modelio.bases import load_base

    if structure_only and weights == "file":
        weights = "random"  # the file's weights are copied after building
    return load_base(name, shape, weights, weights_path)


def _preset_graph(name: str, prefix: str, shape: Sequence[int]) -> tuple[list, list, str]:
    try:
        preset = importlib.import_module("cnnlab.presetlib").load_preset(name)
    except ImportError:
        raise ModelFileError("presets are not available in this installation") from None
    flat = preset.model.expand()
    ids = {n.id: f"{prefix}{n.id}" for n in flat.nodes}
    nodes = [{"id": ids[n.id], "type": n.type, "params": dict(n.params)} for n in flat.nodes]
    edges = [dict(e.to_dict(), src=ids[e.src], dst=ids[e.dst]) for e in flat.edges]
    base_in = next(n["id"] for n in nodes if n["type"] == "Input")
    nodes = [dict(n, params={"shape": list(shape)}) if n["id"] == base_in else n for n in nodes]
    return nodes, edges, base_in


def _cut_point(nodes: list, edges: list, cut_at: str | None, prefix: str, base: str) -> str:
    ids = [n["id"] for n in nodes]
    if cut_at is not None:
        for candidate in (cut_at, f"{prefix}{cut_at}"):
            if candidate in ids:
                return candidate
        raise SpecError("training.transfer.cut_at", f"{base} has no layer {cut_at!r} (its "
                        f"last ones: {', '.join(i[len(prefix):] for i in ids[-4:])})")
    from cnnlab.analysis import analyze
    from cnnlab.spec.load import model_from_dict

    analysis = analyze(model_from_dict({"nodes": nodes, "edges": edges}, "base"))
    images = [la.id for la in analysis.layers if len(la.output_shape) == 3]
    return images[-1] if images else (analysis.output or ids[-1])


def _ancestors(nodes: list, edges: list, out: str) -> tuple[list, list]:
    preds: dict[str, list[str]] = {}
    for e in edges:
        preds.setdefault(e["dst"], []).append(e["src"])
    keep, stack = {out}, [out]
    while stack:
        for src in preds.get(stack.pop(), []):
            if src not in keep:
                keep.add(src)
                stack.append(src)
    return ([n for n in nodes if n["id"] in keep],
            [e for e in edges if e["src"] in keep and e["dst"] in keep])


def _splice(exp: Experiment, nodes: list, edges: list, base_in: str, out: str) -> dict:
    model = exp.model.to_dict()
    inp = next(n for n in model["nodes"] if n["type"] == "Input")
    old = _old_base_ids(exp)
    front = old | {inp["id"]} | _feature_extractor(model)
    shape = next(n["params"]["shape"] for n in nodes if n["id"] == base_in)
    new_input = {"id": inp["id"], "type": "Input", "params": {"shape": list(shape)}}
    rename = {base_in: inp["id"]}
    base_nodes = [n for n in nodes if n["id"] != base_in]
    taken = {n["id"] for n in model["nodes"] if n["id"] not in front}
    clash = [n["id"] for n in base_nodes if n["id"] in taken]
    if clash:
        raise SpecError("training.transfer.prefix", f"block id {clash[0]!r} is already used; "
                        "choose another prefix")
    head_edges = [dict(e, src=out) if e["src"] in front else e for e in model["edges"]
                  if e["dst"] not in front]
    base_edges = [dict(e, src=rename.get(e["src"], e["src"])) for e in edges]
    head = [n for n in model["nodes"] if n["id"] not in front]
    model["nodes"] = [new_input, *base_nodes, *head]
    model["edges"] = base_edges + head_edges
    return model


HEAD_STARTS = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten")


def _feature_extractor(model: dict) -> set[str]:
    """Ids of the blocks upstream of the first head-starting block (none if there is none)."""
    kinds = {n["id"]: n["type"] for n in model["nodes"]}
    preds: dict[str, list[str]] = {}
    for e in model["edges"]:
        preds.setdefault(e["dst"], []).append(e["src"])
    starts = [n["id"] for n in model["nodes"] if n["type"] in HEAD_STARTS]
    if not starts:
        return set()
    upstream, todo = set(), list(preds.get(starts[0], []))
    while todo:
        nid = todo.pop()
        if nid not in upstream and kinds.get(nid) != "Input":
            upstream.add(nid)
            todo.extend(preds.get(nid, []))
    return upstream


def _old_base_ids(exp: Experiment) -> set[str]:
    t = exp.training.transfer
    if not t.base:
        return set()
    return {n.id for n in exp.model.nodes if n.id.startswith(t.prefix) and n.type != "Input"}


def _transfer(exp: Experiment, base: str, source: str, cut_at: str | None, weights: str,
              prefix: str, weights_path: str | Path | None):
    t = exp.training.transfer
    if source == "file":
        weights, weights_path = "file", base
    elif source == "preset":
        weights, weights_path = "random", None
    return dataclasses.replace(
        t, base=base, base_source=source, cut_at=cut_at, prefix=prefix, weights=weights,
        weights_path=str(weights_path) if weights_path else None,
        strategy="feature_extractor" if t.strategy == "none" else t.strategy)


def _experiment(exp: Experiment, model_dict: dict, transfer) -> Experiment:
    from cnnlab.spec.load import experiment_from_dict
    from cnnlab.spec.schema import section_to_dict

    d = exp.to_dict()
    d["model"] = model_dict
    d["training"]["transfer"] = section_to_dict(transfer)
    multipliers = d["training"]["transfer"]["layer_multipliers"]
    ids = {n["id"] for n in model_dict["nodes"]}
    d["training"]["transfer"]["layer_multipliers"] = {k: v for k, v in multipliers.items()
                                                      if k in ids}
    return experiment_from_dict(d)


def load_base_weights(keras_model: Any, exp: Experiment) -> list[str]:
    """Copy the base's weights into the built model's ``prefix*`` layers, by name.

    Args:
        keras_model: The model built from ``exp`` (``cnnlab.build.build_model``).
        exp: The experiment whose ``training.transfer`` names the base.

    Returns:
        Report lines (what was copied, what was skipped).

    Raises:
        ModelFileError: When the weights are missing or do not fit.
    """
    from cnnlab.modelio.convert import graph_from_keras
    from cnnlab.modelio.importer import set_weights

    t = exp.training.transfer
    if not t.base:
        return []
    if t.base_source == "preset" or t.weights == "random":
        return [f"base {t.base}: random weights (nothing to copy)"]
    model = base_model(t.base, t.base_source, input_shape(exp), t.weights, t.weights_path)
    conv = graph_from_keras(model, prefix=t.prefix, keep_weights=True)
    names = {layer.name for layer in keras_model.layers}
    chosen = {k: v for k, v in (conv.weights or {}).items() if k in names}
    set_weights(keras_model, chosen, strict=True)
    return [f"base {t.base}: copied the {t.weights} weights of {len(chosen)} layers"]


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def guess_source(base: str) -> str:
    """What ``base`` names: a model file, a Keras application or a preset.

    Raises:
        SpecError: When it is none of them (the message lists the choices).
    """
    from cnnlab.modelio.bases import application_names

    if Path(base).suffix.lower() in MODEL_SUFFIXES or Path(base).is_file():
        return "file"
    if base in application_names():
        return "application"
    presets = importlib.import_module("cnnlab.presetlib").preset_names()
    if base in presets:
        return "preset"
    raise SpecError("training.transfer.base", f"{base!r} is no model file, Keras application "
                    f"({', '.join(application_names())}) or preset ({', '.join(presets)})")


def with_transfer(exp: Experiment, **fields: Any) -> Experiment:
    """The experiment with ``training.transfer`` fields set (None values are left alone).

    The result is loaded strictly again, so a bad value is a :class:`SpecError`
    naming its field; a multiplier key must be a block of the graph.
    """
    from cnnlab.spec.load import experiment_from_dict

    d = exp.to_dict()
    d["training"]["transfer"].update({k: v for k, v in fields.items() if v is not None})
    return experiment_from_dict(d)


def preset_layers(name: str, shape: Sequence[int]) -> list[tuple[str, tuple[int, ...]]]:
    """A preset's blocks with their output shapes for ``shape`` images (no TensorFlow).

    Raises:
        SpecError: For an unknown preset or a graph that does not fit ``shape``.
    """
    from cnnlab.analysis import analyze
    from cnnlab.spec.load import model_from_dict

    nodes, edges, base_in = _preset_graph(name, "", shape)
    analysis = analyze(model_from_dict({"nodes": nodes, "edges": edges}, "base"))
    if not analysis.ok:
        raise SpecError("training.transfer.base", f"preset {name} does not fit "
                        f"{'x'.join(map(str, shape))} images: {analysis.errors()[0]}")
    return [(la.id, tuple(la.output_shape)) for la in analysis.layers if la.id != base_in]
