"""Layout edits: arrange all, fill in missing positions, fold modules, find free spots.

These only touch ``exp.ui`` and return new experiments. Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from cnnlab import Experiment
from cnnlab.diagram.layout import (
    BLOCK_H,
    BLOCK_W,
    FRAME_BOTTOM,
    FRAME_SIDE,
    FRAME_TOP,
    GRID_STEP,
    H_GAP,
    ROW,
    Point,
    bounds,
    layered_layout,
    shift_below,
)
from cnnlab.diagram.visible import VisibleGraph, visible_graph
from cnnlab.spec.edit import collapsed, positions, with_ui

Rect = tuple[float, float, float, float]  # left, top, right, bottom


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


def occupied(exp: Experiment) -> list[Rect]:
    """The rectangles of the shown blocks and open module frames of ``exp``."""
    graph = visible_graph(exp)
    pos = positions(exp)
    rects = [(x, y, x + BLOCK_W, y + BLOCK_H) for nid, (x, y) in pos.items()
             if nid in graph.nodes]
    for members in graph.groups.values():
        placed = [pos[m] for m in members if m in pos]
        if placed:
            left, top, right, bottom = bounds(placed)
            rects.append((left - FRAME_SIDE, top - FRAME_TOP, right + FRAME_SIDE,
                          bottom + FRAME_BOTTOM))
    return rects


def free_offset(taken: Iterable[Rect], blocks: Sequence[Point]) -> Point:
    """How far to move blocks at ``blocks`` so that none overlaps ``taken``.

    The first free spot to the right of the blocks themselves, in the same
    rows (arrows between copies stay as readable as the originals), at least
    a grid step away from everything already there.

    Args:
        taken: Rectangles already on the canvas.
        blocks: Top-left corners of the blocks to place.

    Returns:
        The offset ``(dx, dy)``; never ``(0, 0)`` when ``blocks`` is not empty.
    """
    blocks = [b for b in blocks if all(map(math.isfinite, b))]
    if not blocks:
        return (0.0, 0.0)
    left, _, right, _ = bounds(blocks)
    taken = [r for r in taken if all(map(math.isfinite, r))]
    dx = _grid_up(right - left + H_GAP)
    while (clash := _first_clash(blocks, dx, taken)) is not None:
        x, rect = clash
        dx = _grid_up(rect[2] + GRID_STEP - x)  # just past it: each pair clashes once at most
    return (dx, 0.0)


def _first_clash(blocks: Sequence[Point], dx: float,
                 taken: Sequence[Rect]) -> tuple[float, Rect] | None:
    """A block (its left edge) moved by ``dx`` that comes within a grid step of a rectangle."""
    gap = GRID_STEP
    for x, y in blocks:
        a = x + dx
        for rect in taken:
            le, t, r, b = rect
            if a < r + gap and a + BLOCK_W > le - gap and y < b + gap and y + BLOCK_H > t - gap:
                return x, rect
    return None


def _grid_up(value: float) -> float:
    return float(math.ceil(value / GRID_STEP) * GRID_STEP)
