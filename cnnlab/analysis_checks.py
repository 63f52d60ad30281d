"""Checks of a graph beyond shapes: linear stacks, an Output that does not fit the data.

Used by :mod:`cnnlab.analysis` (which re-exports them) and by the window's
Problems list and ``cnnlab validate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cnnlab.blocks.registry import BLOCKS
from cnnlab.problem import Problem
from cnnlab.spec.graph import FlatGraph, FlatNode, ModelSpec

CONV_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")
# Blocks that multiply by learned weights, and the blocks that keep a map linear (affine):
# a chain of weighted layers through these alone is one linear map. Max pooling, Maxout,
# Multiply and every activation but "linear" are nonlinear.
WEIGHTED_TYPES = (*CONV_TYPES, "Dense", "Output")
LINEAR_TYPES = ("AveragePooling2D", "GlobalAveragePooling2D", "Flatten", "Reshape",
                "ZeroPadding2D", "Dropout", "SpatialDropout2D", "GaussianDropout",
                "GaussianNoise", "BatchNormalization", "Rescaling", "Normalization", "Add",
                "Concatenate")

def _activation(node: FlatNode) -> str:
    default = next((p.default for p in BLOCKS[node.type].params if p.name == "activation"),
                   "linear")
    return node.params.get("activation", default)


def linear_stack_problems(nodes: Iterable[tuple[FlatNode, Sequence[str]]]) -> list[Problem]:
    """Warn where two weighted layers have nothing nonlinear between them.

    Args:
        nodes: The expanded graph's blocks in topological order, each with the ids of
            its inputs.

    Returns:
        One warning per weighted block (Conv2D, Dense, Output...) fed by a weighted
        block without activation through linear blocks only; it names the second block.

    """
    source: dict[str, FlatNode | None] = {}  # block -> a linear weighted block it passes on
    found = []
    for node, inputs in nodes:
        before = next((source[p] for p in inputs if source.get(p)), None)
        if node.type in WEIGHTED_TYPES:
            if before is not None:
                found.append(Problem(node.id, _linear_message(before, node), "warning",
                                     "linear_stack"))
            source[node.id] = node if _activation(node) == "linear" else None
        elif node.type in LINEAR_TYPES or (node.type == "Activation"
                                            and _activation(node) == "linear"):
            source[node.id] = before
    return found


def _linear_message(first: FlatNode, second: FlatNode) -> str:
    default = " (the Keras default for Conv2D)" if first.type in CONV_TYPES else ""
    return (f"{first.id} and {second.id} together are one linear map: {first.id}'s "
            f"activation is linear{default} and nothing nonlinear lies between them; give "
            f"{first.id} an activation such as relu")


def output_classes_problems(model: ModelSpec | FlatGraph,
                            classes: int | None) -> list[Problem]:
    """Flag an Output block whose units differ from the data's class count.

    Args:
        model: The model section or its expanded graph.
        classes: The data's number of classes; None when it is not known without
            loading the data (then nothing is flagged).

    Returns:
        One error per Output block (code ``output_classes``), naming it by id.

    """
    if classes is None:
        return []
    graph = model.expand() if isinstance(model, ModelSpec) else model
    return [Problem(n.id, f"it has {n.params.get('units')} units but the data has {classes} "
                    f"classes; set units to {classes}", "error", "output_classes")
            for n in graph.nodes
            if n.type == "Output" and n.params.get("units") != classes]
