"""Networks for the UI tests: ResNets built from the lab's module library.

Used when ``cnnlab.presetlib`` is not there (yet); the tests prefer the real
presets when it is.
"""

from __future__ import annotations

import cnnlab
from cnnlab import CnnlabError, experiment_from_dict, preset_choice
from cnnlab.spec.module_library import TEMPLATES

STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def resnet_dict(depth: int = 50, size: int = 224, classes: int = 1000) -> dict:
    """A bottleneck ResNet (He et al., v1.5 strides) as an experiment dict."""
    nodes = [
        {"id": "input", "type": "Input", "params": {"shape": [size, size, 3]}},
        {"id": "conv1", "type": "Conv2D", "params": {
            "filters": 64, "kernel_size": 7, "strides": 2, "padding": "same"}},
        {"id": "conv1_bn", "type": "BatchNormalization", "params": {}},
        {"id": "conv1_relu", "type": "Activation", "params": {"activation": "relu"}},
        {"id": "pool1", "type": "MaxPooling2D", "params": {
            "pool_size": 3, "strides": 2, "padding": "same"}},
    ]
    for stage, blocks in enumerate(STAGES[depth], start=2):
        width = 64 * 2 ** (stage - 2)
        for b in range(1, blocks + 1):
            params = {"filters": width, "out_filters": 4 * width}
            kind = "bottleneck"
            if b == 1:
                kind = "bottleneck_proj"
                params["strides"] = 1 if stage == 2 else 2
            nodes.append({"id": f"stage{stage}_block{b}", "type": kind, "params": params})
    nodes += [{"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
              {"id": "output", "type": "Output", "params": {"units": classes}}]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    modules = {k: TEMPLATES[k] for k in ("bottleneck", "bottleneck_proj")}
    return {"name": f"ResNet-{depth}", "model": {"nodes": nodes, "edges": edges,
                                                   "modules": modules}}


def resnet(depth: int = 50, size: int = 224, classes: int = 1000):
    """The ResNet as an Experiment (from a preset when the preset library exists)."""
    try:
        names = {p.name for p in cnnlab.list_presets()}
    except CnnlabError:
        names = set()
    name = f"resnet{depth}"
    if name in names:
        return preset_choice.fitted_preset(name, input_shape=(size, size, 3), classes=classes)
    return experiment_from_dict(resnet_dict(depth, size, classes))
