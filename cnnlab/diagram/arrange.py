"""Layout edits on an experiment: arrange all, fill in missing positions, fold modules.

These only touch ``exp.ui`` and return new experiments. Pure Python.
"""

from __future__ import annotations

from cnnlab import Experiment
from cnnlab.diagram.layout import (
    BLOCK_H,
    FRAME_BOTTOM,
    FRAME_TOP,
    ROW,
    bounds,
    layered_layout,
    shift_below,
)
from cnnlab.diagram.visible import VisibleGraph, visible_graph
from cnnlab.spec.edit import collapsed, positions, with_ui


def auto_layout(exp: Experiment) -> Experiment:
    """Arrange every block top-down (one undo step for the caller)."""
    graph = visible_graph(exp)
    groups = {m: inst for inst, members in graph.groups.items() for m in members}
    pos = layered_layout(list(graph.nodes), [(e.src, e.dst) for e in graph.edges],
                         groups=groups)
    return with_ui(exp, pos)


def ensure_positions(exp: Experiment) -> Experiment:
    """Give every shown block a position; arrange all when most have none.

    A file without a ``ui`` section (a preset, a hand-written spec) opens with
    its module instances collapsed and arranged automatically.
    """
    if "collapsed" not in exp.ui and "positions" not in exp.ui:
        instances = [n.id for n in exp.model.nodes if n.type in exp.model.modules]
        exp = with_ui(exp, folded=instances)
    graph = visible_graph(exp)
    pos = positions(exp)
    missing = [nid for nid in graph.nodes if nid not in pos]
    if not missing:
        return exp
    if len(missing) * 2 > len(graph.nodes):
        return auto_layout(exp)
    return with_ui(exp, _place_missing(graph, pos, missing))


def _place_missing(graph: VisibleGraph, pos: dict, missing: list[str]) -> dict:
    pos = dict(pos)
    preds = {e.dst: e.src for e in graph.edges}
    for nid in missing:
        src = preds.get(nid)
        if src in pos:
            pos[nid] = (pos[src][0], pos[src][1] + ROW)
        else:
            left, _, _, bottom = bounds(pos.values())
            pos[nid] = (left, bottom + ROW - BLOCK_H)
    return pos


def set_folded(exp: Experiment, instance: str, fold: bool) -> Experiment:
    """Collapse or expand one module instance in place, moving the blocks below."""
    folded = collapsed(exp)
    if (instance in folded) == fold:
        return exp
    before = visible_graph(exp)
    pos = positions(exp)
    if fold:
        pos = _fold(before, pos, instance)
        return with_ui(exp, pos, folded | {instance})
    after_exp = with_ui(exp, folded=folded - {instance})
    pos = _unfold(visible_graph(after_exp), pos, instance)
    return with_ui(after_exp, pos)


def _fold(graph: VisibleGraph, pos: dict, instance: str) -> dict:
    """Replace an open module's blocks by one block at the top of its frame."""
    members = [m for m in graph.groups.get(instance, []) if m in pos]
    if not members:
        return pos
    _, top, _, bottom = bounds(pos[m] for m in members)
    exit_x = next((pos[m][0] for m in members if graph.nodes[m].exit), pos[members[0]][0])
    y = top - FRAME_TOP
    out = {k: v for k, v in pos.items() if k not in members}
    out = shift_below(out, top, -((bottom + FRAME_BOTTOM) - (y + BLOCK_H)))
    out[instance] = (exit_x, y)
    return out


def _unfold(graph: VisibleGraph, pos: dict, instance: str) -> dict:
    """Lay an open module's blocks out inside its frame, where its block was."""
    members = graph.groups.get(instance, [])
    x, y = pos.get(instance, (0.0, 0.0))
    inner = set(members)
    edges = [(e.src, e.dst) for e in graph.edges if e.src in inner and e.dst in inner]
    local = layered_layout(members, edges, origin=(x, y + FRAME_TOP))
    _, _, _, bottom = bounds(local.values())
    out = {k: v for k, v in pos.items() if k != instance}
    out = shift_below(out, y, (bottom + FRAME_BOTTOM) - (y + BLOCK_H))
    out.update(local)
    return out
