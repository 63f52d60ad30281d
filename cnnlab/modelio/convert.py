"""A live Keras model -> an editable model graph (nodes, edges, weights by block id).

Works on the model's own functional config (``inbound_nodes``), so Sequential
and functional models, lab-built or foreign, go the same way. Layers the
catalogue knows become blocks with Keras's parameter names; the others become
``Opaque`` blocks that keep their config, shapes and parameter count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cnnlab.blocks.registry import BLOCKS
from cnnlab.errors import ModelFileError, SpecError
from cnnlab.modelio.mapping import LayerContext, Unmapped, map_layer
from cnnlab.params import validate_params

NESTED_MODELS = ("Functional", "Sequential", "Model")
PAD_FUSABLE = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
MAX_ID = 200  # the spec's longest block id


@dataclass
class Converted:
    """The graph of a Keras model, ready for an experiment's ``model`` section."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    weights: dict[str, list] | None
    report: list[str]
    input_id: str
    output_id: str
    ids: dict[str, str] = field(default_factory=dict)  # Keras layer name -> block id


def as_functional(model: Any) -> Any:
    """A functional view of a built model (a Sequential's layers, wired as a graph)."""
    import keras

    if isinstance(model, keras.Sequential):
        if not model.built or not getattr(model, "inputs", None):
            raise ModelFileError("the Sequential model was never built, so its input shape is "
                                 "unknown; give the input shape")
        return keras.Model(model.inputs, model.outputs, name=model.name)
    return model


def graph_from_keras(model: Any, prefix: str = "", keep_weights: bool = True) -> Converted:
    """Convert a built Keras model with one input and one output.

    Args:
        model: A functional or Sequential ``keras.Model``.
        prefix: Put in front of every block id (``base_`` for a pretrained base).
        keep_weights: Collect the weights of every layer by block id.

    Raises:
        ModelFileError: When the model cannot be a lab graph (several inputs or
            outputs, shared layers, open dimensions); the message says which.
    """
    model = as_functional(model)
    config = _plain(model.get_config())
    inputs, outputs = _endpoints(config, "input_layers"), _endpoints(config, "output_layers")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                             "the lab handles models with one of each")
    ids = _assign_ids([layer["name"] for layer in config["layers"]], prefix)
    conv = Converted([], [], {} if keep_weights else None, [], ids[inputs[0]], ids[outputs[0]],
                     ids)
    live = _layers_by_name(model)
    for layer_cfg in config["layers"]:
        _add_layer(conv, live, layer_cfg, outputs[0])
    _fuse_pads(conv)
    return conv


def _layers_by_name(model: Any) -> dict[str, Any]:
    """Every layer of the model by name; refuse raw operations (``keras.ops.add(x, 1)``)."""
    import keras

    found = {}
    for op in getattr(model, "operations", model.layers):
        if not isinstance(op, keras.layers.Layer):
            raise ModelFileError(f"the model applies the operation {op.name!r} "
                                 f"({type(op).__name__}) directly; the lab imports models "
                                 "made of layers")
        found[op.name] = op
    return found


def _endpoints(config: dict, key: str) -> list[str]:
    value = config.get(key) or []
    if value and isinstance(value[0], str):
        value = [value]
    return [item[0] for item in value]


def _assign_ids(names: list[str], prefix: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", f"{prefix}{name}")
        if not base[:1].isalpha():
            base = f"layer_{base}"
        base = base[:MAX_ID - 8]  # room for a _N suffix; ids are at most 200 characters
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        ids[name] = candidate
    return ids


def _sources(layer_cfg: dict) -> list[tuple[str, list]]:
    """(source layer name, its tensor shape) for each input of a layer used once."""
    nodes = layer_cfg.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ModelFileError(f"layer {layer_cfg['name']!r} is used {len(nodes)} times (shared "
                             "weights); the lab's graphs use each layer once")
    found: list[tuple[str, list]] = []
    stack = [nodes[0].get("args", [])] if nodes else []
    if nodes and "keras_history" in json.dumps(nodes[0].get("kwargs", {})):
        raise ModelFileError(f"layer {layer_cfg['name']!r} takes tensors as keyword arguments")
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            found.append((item["config"]["keras_history"][0], item["config"]["shape"]))
        elif isinstance(item, dict):
            stack[:0] = list(item.values())
        elif isinstance(item, list):
            stack[:0] = item
    return found


def _add_layer(conv: Converted, layers: dict[str, Any], layer_cfg: dict,
               output_name: str) -> None:
    name, class_name = layer_cfg["name"], layer_cfg["class_name"]
    nid = conv.ids[name]
    if class_name == "InputLayer":
        shape = _concrete(layer_cfg["config"]["batch_shape"][1:], name)
        conv.nodes.append({"id": nid, "type": "Input", "params": {"shape": shape}})
        return
    sources = _sources(layer_cfg)
    for port, (src, _) in enumerate(sources):
        edge = {"src": conv.ids[src], "dst": nid}
        if len(sources) > 1:
            edge["port"] = port
        conv.edges.append(edge)
    live = layers[name]
    in_shapes = [_concrete(shape[1:], name) for _, shape in sources]
    ctx = LayerContext(tuple(len(s) for s in in_shapes), name == output_name)
    kind, params = _block(conv, live, layer_cfg, ctx, in_shapes)
    conv.nodes.append({"id": nid, "type": kind, "params": params})
    if conv.weights is not None and live.weights:
        conv.weights[nid] = live.get_weights()


def _block(conv: Converted, live: Any, layer_cfg: dict, ctx: LayerContext,
           in_shapes: list[list[int]]) -> tuple[str, dict]:
    registered = layer_cfg.get("registered_name") or ""
    key = registered if ">" in registered else layer_cfg["class_name"]
    name = layer_cfg["name"]
    try:
        if key in NESTED_MODELS:
            raise Unmapped("a nested model")
        mapped = map_layer(key, layer_cfg["config"], ctx)
        params = _checked(mapped.type, mapped.params)
    except Unmapped as exc:
        count = live.count_params()
        conv.report.append(f"{name}: kept as an opaque frozen block ({exc}); "
                           f"{count:,} parameters")
        return "Opaque", opaque_params(live, in_shapes)
    conv.report.extend(f"{name}: {note}" for note in mapped.notes)
    return mapped.type, params


def _checked(kind: str, params: dict) -> dict:
    """Validate against the block's declarations and leave out the defaults."""
    block = BLOCKS[kind]
    try:
        valid = validate_params(block.params, params, "params", kind)
    except SpecError as exc:
        raise Unmapped(exc.message) from None
    defaults = {p.name: p.default for p in block.params}
    return {k: v for k, v in valid.items() if v != defaults[k]}


def opaque_params(live: Any, in_shapes: list[list[int]]) -> dict:
    """The parameters of an ``Opaque`` block that keeps ``live`` as it is."""
    import keras

    serialized = _plain(keras.saving.serialize_keras_object(live))
    serialized.pop("build_config", None)
    # The builder names the layer after the block and freezes it.
    for key in ("name", "trainable"):
        serialized.get("config", {}).pop(key, None)
    out_shape = _concrete(list(live.output.shape[1:]), live.name)
    return {"layer": serialized, "input_shapes": in_shapes, "output_shape": out_shape,
            "params": int(live.count_params())}


def _plain(obj: Any) -> Any:
    """JSON-ready copy without Keras's per-session ``shared_object_id`` markers."""
    def default(o: Any) -> Any:
        if hasattr(o, "tolist"):
            return o.tolist()
        raise TypeError(f"cannot store {type(o).__name__} in a spec")

    def strip(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k != "shared_object_id"}
        if isinstance(o, list):
            return [strip(v) for v in o]
        return o

    return strip(json.loads(json.dumps(obj, default=default)))


def _concrete(shape: list, name: str) -> list[int]:
    if any(d is None for d in shape):
        raise ModelFileError(f"layer {name!r} has open dimensions {tuple(shape)}; give the "
                             "input shape so that every size is known")
    return [int(d) for d in shape]


def _fuse_pads(conv: Converted) -> None:
    """``X_pad`` (symmetric ZeroPadding2D) feeding only convolution ``X`` -> X with padding P."""
    nodes = {n["id"]: n for n in conv.nodes}
    for pad in [n for n in conv.nodes if n["type"] == "ZeroPadding2D"]:
        target = nodes.get(pad["id"][:-4]) if pad["id"].endswith("_pad") else None
        value = pad["params"].get("padding", 1)
        if target is None or target["type"] not in PAD_FUSABLE or \
                target["params"].get("padding", "valid") != "valid" or \
                (isinstance(value, list) and isinstance(value[0], list)):
            continue
        outs = [e for e in conv.edges if e["src"] == pad["id"]]
        if len(outs) != 1 or outs[0]["dst"] != target["id"]:
            continue
        target["params"]["padding"] = value
        conv.edges.remove(outs[0])
        for edge in conv.edges:
            if edge["dst"] == pad["id"]:
                edge["dst"] = target["id"]
        conv.nodes.remove(pad)
