"""Ready-made module definitions for the palette: residual, bottleneck, inception.

A module is a named sub-graph of the spec (``model.modules``). Dropping one of
these on the canvas copies its definition into the experiment the first time,
then adds an instance that refers to it by name. The definitions are plain
spec dicts, parsed with the core's own loader, so they obey its rules.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cnnlab.spec.graph import ModuleDef
from cnnlab.spec.load import model_from_dict


def _conv(nid: str, filters: str, kernel: int, strides: Any = 1, act: str = "linear") -> dict:
    return {"id": nid, "type": "Conv2D", "params": {
        "filters": filters, "kernel_size": kernel, "strides": strides, "padding": "same",
        "activation": act}}


def _chain(*ids: str) -> list[dict]:
    return [{"src": a, "dst": b} for a, b in zip(ids, ids[1:])]


def _bn_relu(prefix: str) -> list[dict]:
    return [{"id": f"{prefix}_bn", "type": "BatchNormalization", "params": {}},
            {"id": f"{prefix}_relu", "type": "Activation", "params": {"activation": "relu"}}]


def _residual(project: bool) -> dict:
    params: dict[str, Any] = {"filters": 64}
    nodes = [_conv("conv1", "$filters", 3, "$strides" if project else 1), *_bn_relu("conv1"),
             _conv("conv2", "$filters", 3),
             {"id": "bn2", "type": "BatchNormalization", "params": {}},
             {"id": "add", "type": "Add", "params": {}},
             {"id": "out", "type": "Activation", "params": {"activation": "relu"}}]
    edges = [{"src": "@in", "dst": "conv1"},
             *_chain("conv1", "conv1_bn", "conv1_relu", "conv2", "bn2"),
             {"src": "bn2", "dst": "add", "port": 0}, {"src": "add", "dst": "out"}]
    return _with_shortcut(params, nodes, edges, project, "$filters", 2)


def _bottleneck(project: bool) -> dict:
    params: dict[str, Any] = {"filters": 64, "out_filters": 256}
    stride = "$strides" if project else 1
    nodes = [_conv("conv1", "$filters", 1), *_bn_relu("conv1"),
             _conv("conv2", "$filters", 3, stride), *_bn_relu("conv2"),
             _conv("conv3", "$out_filters", 1),
             {"id": "bn3", "type": "BatchNormalization", "params": {}},
             {"id": "add", "type": "Add", "params": {}},
             {"id": "out", "type": "Activation", "params": {"activation": "relu"}}]
    edges = [{"src": "@in", "dst": "conv1"},
             *_chain("conv1", "conv1_bn", "conv1_relu", "conv2", "conv2_bn", "conv2_relu",
                     "conv3", "bn3"),
             {"src": "bn3", "dst": "add", "port": 0}, {"src": "add", "dst": "out"}]
    return _with_shortcut(params, nodes, edges, project, "$out_filters", 1)


def _with_shortcut(params: dict, nodes: list, edges: list, project: bool, filters: str,
                   stride: int) -> dict:
    """Close a residual module: identity shortcut, or a 1x1 projection when ``project``."""
    shortcut = "@in"
    if project:
        params["strides"] = stride
        nodes += [_conv("proj", filters, 1, "$strides"),
                  {"id": "proj_bn", "type": "BatchNormalization", "params": {}}]
        edges += [{"src": "@in", "dst": "proj"}, {"src": "proj", "dst": "proj_bn"}]
        shortcut = "proj_bn"
    edges.append({"src": shortcut, "dst": "add", "port": 1})
    return {"params": params, "nodes": nodes, "edges": edges, "output": "out"}


def _inception() -> dict:
    params = {"f1": 64, "f3_reduce": 96, "f3": 128, "f5_reduce": 16, "f5": 32, "pool_proj": 32}
    nodes = [_conv("b1", "$f1", 1, act="relu"),
             _conv("b3_reduce", "$f3_reduce", 1, act="relu"), _conv("b3", "$f3", 3, act="relu"),
             _conv("b5_reduce", "$f5_reduce", 1, act="relu"), _conv("b5", "$f5", 5, act="relu"),
             {"id": "pool", "type": "MaxPooling2D",
              "params": {"pool_size": 3, "strides": 1, "padding": "same"}},
             _conv("pool_proj", "$pool_proj", 1, act="relu"),
             {"id": "concat", "type": "Concatenate", "params": {}}]
    edges = [{"src": "@in", "dst": d} for d in ("b1", "b3_reduce", "b5_reduce", "pool")]
    edges += _chain("b3_reduce", "b3") + _chain("b5_reduce", "b5") + _chain("pool", "pool_proj")
    edges += [{"src": s, "dst": "concat", "port": i}
              for i, s in enumerate(("b1", "b3", "b5", "pool_proj"))]
    return {"params": params, "nodes": nodes, "edges": edges, "output": "concat"}


def _described(raw: dict, text: str) -> dict:
    return {"description": text, **raw}


TEMPLATES: dict[str, dict] = {
    "residual": _described(_residual(False), "ResNet basic block: two 3x3 convolutions and "
                           "an identity shortcut added to their output"),
    "residual_down": _described(_residual(True), "ResNet basic block that changes size: "
                                "strided 3x3 convolutions and a 1x1 projection shortcut"),
    "bottleneck": _described(_bottleneck(False), "ResNet bottleneck: 1x1 reduce, 3x3, 1x1 "
                             "expand, with an identity shortcut"),
    "bottleneck_proj": _described(_bottleneck(True), "ResNet bottleneck with a 1x1 projection "
                                  "shortcut (first block of a stage)"),
    "inception": _described(_inception(), "GoogLeNet inception module: 1x1, 3x3 and 5x5 "
                            "branches and a pooling branch, concatenated"),
}


@cache
def template(name: str) -> ModuleDef:
    """The parsed :class:`ModuleDef` of a library module.

    Raises:
        KeyError: For an unknown name.
    """
    raw = TEMPLATES[name]
    model = model_from_dict({"nodes": [{"id": "x", "type": "Input", "params": {}}],
                             "modules": {name: raw}}, "module_library")
    return model.modules[name]


def template_names() -> list[str]:
    """Names of the library modules, in palette order."""
    return list(TEMPLATES)
