"""A network in a few words, from its spec: ``3 conv, 2 dense``, ``20 conv, 1 dense, BN, residual``.

Pure dict arithmetic over a spec snapshot (a run's ``spec.json``): module
instances count as often as they are used, nesting included. Nothing is
validated here, so an old or damaged snapshot still gets a summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

FAMILIES = {"Conv2D": "conv", "DepthwiseConv2D": "conv", "SeparableConv2D": "conv",
            "Conv2DTranspose": "conv", "Dense": "dense", "Output": "dense",
            "Opaque": "imported", "BatchNormalization": "BN", "Add": "residual",
            "Concatenate": "branches"}
COUNTED = ("conv", "dense", "imported")  # shown with their counts; the rest as flags
MAX_NESTING = 8


def architecture_summary(spec: Mapping[str, Any]) -> str:
    """Return a compact summary of a spec's network, e.g. ``4 conv, 2 dense, BN``.

    Args:
        spec: An experiment spec as JSON data.

    Returns:
        Counted layer families (convolutions, dense layers, imported opaque
        layers), then ``BN`` / ``residual`` / ``branches`` where the network has
        them and the transfer base it starts from; ``-`` for an empty network.

    """
    model = _dict(spec.get("model"))
    modules = {str(k): _dict(v) for k, v in _dict(model.get("modules")).items()}
    counts = _count(model.get("nodes"), modules, 0, frozenset())
    training = _dict(spec.get("training"))
    if _dict(training.get("regularization")).get("batchnorm", "none") not in ("none", None):
        counts["BN"] += 1
    parts = [f"{counts[f]} {f}" for f in COUNTED if counts[f]]
    parts += [flag for flag in ("BN", "residual", "branches") if counts[flag]]
    transfer = _dict(training.get("transfer"))
    if transfer.get("strategy", "none") != "none" and transfer.get("base"):
        parts.insert(0, f"{transfer['base']} base")
    return ", ".join(parts) or "-"


def _count(nodes: Any, modules: dict[str, dict], depth: int, using: frozenset) -> Counter:
    """Layer families of a node list; module instances expanded (cycles and depth cut)."""
    counts: Counter = Counter()
    for node in nodes if isinstance(nodes, list) else []:
        kind = str(_dict(node).get("type", ""))
        if kind in modules:
            if depth < MAX_NESTING and kind not in using:
                counts += _count(modules[kind].get("nodes"), modules, depth + 1, using | {kind})
        elif kind in FAMILIES:
            counts[FAMILIES[kind]] += 1
    return counts


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
