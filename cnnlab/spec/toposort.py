"""Topological order of a graph, through the standard library's ``graphlib``.

One wrapper for the three places that order a graph (the analysis, the canvas
layout, module nesting). The order is deterministic: the nodes with no inputs
in the order given, then each node as soon as its last input is placed, in
the order of the edges (Kahn's algorithm with a first-in first-out queue).
A cycle does not stop it: the nodes it can place come back, with the cycle.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from graphlib import CycleError, TopologicalSorter
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def topological_order(nodes: Sequence[T],
                      edges: Iterable[tuple[T, T]]) -> tuple[list[T], list[T]]:
    """Order ``nodes`` so that every edge ``(src, dst)`` has ``src`` before ``dst``.

    Args:
        nodes: Every node, in the order that breaks ties.
        edges: Connections ``(src, dst)``; a repeated edge counts twice, an
            edge with an end outside ``nodes`` is ignored.

    Returns:
        ``(order, cycle)``: every node that does not depend on a cycle, in order;
        and one cycle as a path that ends where it starts (``[a, b, a]``: ``a``
        feeds ``b``, ``b`` feeds ``a``), empty when the graph has none.

    """
    known = set(nodes)
    sorter: TopologicalSorter[T] = TopologicalSorter()
    for node in nodes:
        sorter.add(node)
    for src, dst in edges:
        if src in known and dst in known:
            sorter.add(dst, src)
    cycle: list[T] = []
    try:
        sorter.prepare()
    except CycleError as exc:  # documented: get_ready() still gives what can be placed
        cycle = list(exc.args[1])
    order: list[T] = []
    while ready := sorter.get_ready():
        order.extend(ready)
        sorter.done(*ready)
    return order, cycle


def cycle_text(cycle: Sequence[str], limit: int = 6) -> str:
    """``a -> b -> a``; a long cycle shows its first ``limit`` steps and ``...``."""
    if len(cycle) <= limit + 1:
        return " -> ".join(cycle)
    return " -> ".join([*cycle[:limit], "..."])
