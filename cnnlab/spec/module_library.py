"""The lab's module definitions: residual, bottleneck, inception (one definition each).

A module is a named sub-graph of the spec (``model.modules``). The classic
presets (``tools/make_presets.py``) and the palette use the same definitions:
dropping one on the canvas copies it into the experiment the first time, then
adds an instance that refers to it by name. Each is written with
:class:`Graph`, which the preset tool also uses for whole networks, and parsed
with the core's own loader, so it obeys its rules.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cnnlab.spec.graph import ModuleDef
from cnnlab.spec.load import model_from_dict

NO_BIAS = {"use_bias": False}
BN_TORCH = {"epsilon": 1e-5, "momentum": 0.9}  # PyTorch's eps and momentum 0.1 in Keras terms
RELU = {"activation": "relu"}
INCEPTION_PARAMS = ("n1x1", "n3x3_reduce", "n3x3", "n5x5_reduce", "n5x5", "pool_proj")
INCEPTION_3A = (64, 96, 128, 16, 32, 32)  # GoogLeNet's first module (Table 1): the defaults

Dict = dict[str, Any]


class Graph:
    """A small helper that records nodes and edges, chaining each block to the last."""

    def __init__(self, entry: str | None = None):
        self.nodes: list[Dict] = []
        self.edges: list[Dict] = []
        self.last = entry

    def add(self, nid: str, kind: str, params: Dict | None = None,
            src: str | list[str] | None = None) -> str:
        """Add a block fed by ``src`` (default: the last block); several sources get ports."""
        self.nodes.append({"id": nid, "type": kind, "params": dict(params or {})})
        sources = [self.last] if src is None else [src] if isinstance(src, str) else src
        for port, s in enumerate(sources):
            if s is None:
                continue
            edge = {"src": s, "dst": nid}
            if len(sources) > 1:
                edge["port"] = port
            self.edges.append(edge)
        self.last = nid
        return nid

    def conv_bn(self, n: str, filters: Any, kernel: int, strides: Any = 1,
                relu: bool = True, src: str | None = None) -> str:
        """``conv{n}`` (no bias) -> ``bn{n}`` (-> ``relu{n}``), as in He et al.

        Stride-1 convolutions pad ``same``; strided ones pad ``kernel // 2`` explicitly,
        as the papers do (Keras ``same`` would pad only the bottom and right).
        """
        pad = "valid" if kernel == 1 else "same" if strides == 1 else kernel // 2
        self.add(f"conv{n}", "Conv2D", {"filters": filters, "kernel_size": kernel,
                                        "strides": strides, "padding": pad, **NO_BIAS}, src)
        self.add(f"bn{n}", "BatchNormalization", BN_TORCH)
        if relu:
            self.add(f"relu{n}", "Activation", RELU)
        return self.last

    def module(self, description: str, params: Dict, output: str | None = None) -> Dict:
        """Return this graph as a module definition (``@in`` is the module input)."""
        return {"description": description, "params": params, "nodes": self.nodes,
                "edges": self.edges, "output": output or self.last}

    def model(self, modules: Dict | None = None) -> Dict:
        """Return this graph as a model section."""
        out: Dict = {"nodes": self.nodes, "edges": self.edges}
        if modules:
            out["modules"] = modules
        return out


def basic_block(project: bool) -> Dict:
    """He et al.'s basic block: two 3x3 conv-BN, the shortcut added before the last ReLU."""
    g = Graph("@in")
    params: Dict = {"filters": 64, "strides": 2} if project else {"filters": 64}
    strides: Any = "$strides" if project else 1
    g.conv_bn("1", "$filters", 3, strides, src="@in")
    g.conv_bn("2", "$filters", 3, 1, relu=False)
    shortcut = _shortcut(g, "$filters", strides) if project else "@in"
    g.add("add", "Add", src=["bn2", shortcut])
    g.add("out", "Activation", RELU)
    how = ("a projection shortcut (1x1 conv + BN, option B) where the shape changes"
           if project else "an identity shortcut")
    return g.module(f"Basic residual block: 3x3 conv-BN-ReLU, 3x3 conv-BN, plus {how}; "
                    "ReLU after the sum.", params)


def bottleneck_block(project: bool) -> Dict:
    """Define the bottleneck block: 1x1 reduce, 3x3 (with the stride: v1.5), 1x1 expand."""
    g = Graph("@in")
    params: Dict = {"filters": 64, "out_filters": 256}
    if project:
        params["strides"] = 2
    strides: Any = "$strides" if project else 1
    g.conv_bn("1", "$filters", 1, 1, src="@in")
    g.conv_bn("2", "$filters", 3, strides)
    g.conv_bn("3", "$out_filters", 1, 1, relu=False)
    shortcut = _shortcut(g, "$out_filters", strides) if project else "@in"
    g.add("add", "Add", src=["bn3", shortcut])
    g.add("out", "Activation", RELU)
    how = "a projection shortcut (1x1 conv + BN)" if project else "an identity shortcut"
    return g.module("Bottleneck block: 1x1 conv reduce, 3x3 conv (with the stride, as in "
                    f"torchvision's v1.5), 1x1 conv expand, each with BN, plus {how}; ReLU "
                    "after the sum.", params)


def _shortcut(g: Graph, filters: str, strides: Any) -> str:
    g.add("shortcut_conv", "Conv2D", {"filters": filters, "kernel_size": 1,
                                      "strides": strides, **NO_BIAS}, "@in")
    return g.add("shortcut_bn", "BatchNormalization", BN_TORCH)


def inception_module() -> Dict:
    """Four parallel branches concatenated along the channels (GoogLeNet's module)."""
    g = Graph("@in")

    def conv(nid: str, filters: str, kernel: int, src: str) -> str:
        return g.add(nid, "Conv2D", {"filters": filters, "kernel_size": kernel,
                                     "padding": "same", **RELU}, src)

    a = conv("branch1x1", "$n1x1", 1, "@in")
    conv("branch3x3_reduce", "$n3x3_reduce", 1, "@in")
    b = conv("branch3x3", "$n3x3", 3, "branch3x3_reduce")
    conv("branch5x5_reduce", "$n5x5_reduce", 1, "@in")
    c = conv("branch5x5", "$n5x5", 5, "branch5x5_reduce")
    g.add("branch_pool", "MaxPooling2D", {"pool_size": 3, "strides": 1, "padding": "same"},
          "@in")
    d = conv("branch_pool_proj", "$pool_proj", 1, "branch_pool")
    g.add("concat", "Concatenate", src=[a, b, c, d])
    defaults = dict(zip(INCEPTION_PARAMS, INCEPTION_3A, strict=True))
    return g.module("Inception module: 1x1, 1x1-3x3, 1x1-5x5 and 3x3 max-pool-1x1 branches "
                    "(all ReLU, same size) concatenated in that order.", defaults)


TEMPLATES: dict[str, Dict] = {  # the palette's names
    "residual": basic_block(False),
    "residual_down": basic_block(True),
    "bottleneck": bottleneck_block(False),
    "bottleneck_proj": bottleneck_block(True),
    "inception": inception_module(),
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
