"""Automatic layout: top-down, layered by longest path, branches side by side.

Each block goes one row below its deepest input. Within a row a block wants
the column of its inputs; of several blocks that want the same column the one
on the longest remaining path (the main chain) keeps it and the others move
aside, so a ResNet stays one straight column with its shortcuts beside it.
Overlaps are resolved by merging clusters centred on what they want. Pure
Python, no Qt; positions are top-left corners of the blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cnnlab.spec.toposort import topological_order

GRID_STEP = 10
BLOCK_W = 220
BLOCK_H = 66
H_GAP = 40
V_GAP = 40
ROW = BLOCK_H + V_GAP
COL = BLOCK_W + H_GAP
FRAME_TOP = 34.0  # room above an open module's blocks for its frame header
FRAME_BOTTOM = 14.0
FRAME_SIDE = 16.0

Point = tuple[float, float]


def layered_layout(ids: Sequence[str], edges: Iterable[tuple[str, str]],
                   origin: Point = (0.0, 0.0),
                   groups: Mapping[str, str] | None = None) -> dict[str, Point]:
    """Positions for ``ids`` (top-left corners), the first rows at ``origin``.

    Args:
        ids: Block ids in spec order (ties keep this order).
        edges: Connections ``(src, dst)`` between them.
        origin: Top-left corner of the centre column's first block.
        groups: Open module instance of each block inside one; rows get room
            for the frames around them.
    """
    graph = _Graph(ids, edges)
    order = graph.topological()
    layer = graph.layers(order)
    height = graph.heights(order)
    centres: dict[str, float] = {}
    rows: dict[int, list[str]] = {}
    for nid in order:
        rows.setdefault(layer[nid], []).append(nid)
    for row in sorted(rows):
        centres.update(_place_row(rows[row], graph, layer, height, centres))
    ox, oy = origin
    extra = _frame_room(layer, groups or {})
    return {nid: (ox + centres[nid], oy + layer[nid] * ROW + extra[layer[nid]])
            for nid in order}


def _frame_room(layer: Mapping[str, int], groups: Mapping[str, str]) -> dict[int, float]:
    """Extra height above each row for the module frames that start or end before it."""
    spans: dict[str, list[int]] = {}
    for nid, group in groups.items():
        if nid in layer:
            span = spans.setdefault(group, [layer[nid], layer[nid]])
            span[0], span[1] = min(span[0], layer[nid]), max(span[1], layer[nid])
    out = {}
    for row in set(layer.values()):
        out[row] = sum(FRAME_TOP for lo, _ in spans.values() if lo <= row) + sum(
            FRAME_BOTTOM for _, hi in spans.values() if hi < row)
    return out


class _Graph:
    def __init__(self, ids: Sequence[str], edges: Iterable[tuple[str, str]]):
        self.ids = list(ids)
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.preds: dict[str, list[str]] = {nid: [] for nid in self.ids}
        self.succs: dict[str, list[str]] = {nid: [] for nid in self.ids}
        for src, dst in edges:
            if src in self.index and dst in self.index and src != dst:
                self.preds[dst].append(src)
                self.succs[src].append(dst)

    def topological(self) -> list[str]:
        edges = ((src, dst) for src in self.ids for dst in self.succs[src])
        order, _ = topological_order(self.ids, edges)
        placed = set(order)
        return order + [nid for nid in self.ids if nid not in placed]  # cycles last

    def layers(self, order: Sequence[str]) -> dict[str, int]:
        layer: dict[str, int] = {}
        for nid in order:
            layer[nid] = max((layer[p] + 1 for p in self.preds[nid] if p in layer), default=0)
        return layer

    def heights(self, order: Sequence[str]) -> dict[str, int]:
        height: dict[str, int] = {}
        for nid in reversed(order):
            height[nid] = max((height[s] + 1 for s in self.succs[nid] if s in height),
                              default=0)
        return height


def _wanted(nid: str, graph: _Graph, layer: Mapping[str, int],
            centres: Mapping[str, float]) -> float:
    """The column a block wants: the mean of its deepest inputs' columns."""
    preds = [p for p in graph.preds[nid] if p in centres]
    if not preds:
        return 0.0
    deepest = max(layer[p] for p in preds)
    cols = [centres[p] for p in preds if layer[p] == deepest]
    return sum(cols) / len(cols)


def _place_row(row: list[str], graph: _Graph, layer, height, centres) -> dict[str, float]:
    wanted: dict[float, list[str]] = {}
    for nid in row:
        wanted.setdefault(round(_wanted(nid, graph, layer, centres), 1), []).append(nid)
    targets: dict[str, float] = {}
    for col, group in wanted.items():
        targets.update(_spread(col, group, height, graph.index))
    return _resolve(targets)


def _spread(col: float, group: list[str], height, index) -> dict[str, float]:
    """Blocks wanting one column: the main ones centred on it, the rest beside them."""
    group = sorted(group, key=lambda n: index[n])
    top = max(height[n] for n in group)
    main = [n for n in group if height[n] == top]
    out = {n: col + (i - (len(main) - 1) / 2) * COL for i, n in enumerate(main)}
    first, last = index[main[0]], index[main[-1]]
    left = [n for n in group if n not in out and index[n] < first]
    right = [n for n in group if n not in out and index[n] > last]
    left_edge = min(out.values())
    right_edge = max(out.values())
    for i, n in enumerate(reversed(left), 1):
        out[n] = left_edge - i * COL
    for i, n in enumerate(right, 1):
        out[n] = right_edge + i * COL
    return out


def _resolve(targets: Mapping[str, float]) -> dict[str, float]:
    """Remove overlaps: merge touching clusters, each centred on what its members want."""
    clusters: list[list[tuple[str, float]]] = []
    for nid, want in sorted(targets.items(), key=lambda kv: kv[1]):
        clusters.append([(nid, want)])
        while len(clusters) > 1 and _overlap(clusters[-2], clusters[-1]):
            last = clusters.pop()
            clusters[-1].extend(last)
    out: dict[str, float] = {}
    for cluster in clusters:
        start = _cluster_start(cluster)
        for i, (nid, _) in enumerate(cluster):
            out[nid] = start + i * COL
    return out


def _cluster_start(cluster: list[tuple[str, float]]) -> float:
    """Where the first member goes so the cluster sits on its members' mean wish."""
    return sum(want - i * COL for i, (_, want) in enumerate(cluster)) / len(cluster)


def _overlap(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    end_a = _cluster_start(a) + (len(a) - 1) * COL
    return _cluster_start(b) < end_a + COL - 1e-6


def shift_below(pos: Mapping[str, Point], y: float, dy: float,
                skip: Iterable[str] = ()) -> dict[str, Point]:
    """Move every block lower than ``y`` down by ``dy`` (up when negative)."""
    skip = set(skip)
    return {k: (x, yy + dy) if yy > y and k not in skip else (x, yy)
            for k, (x, yy) in pos.items()}


def bounds(points: Iterable[Point]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of blocks at ``points``."""
    pts = list(points)
    if not pts:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) + BLOCK_W, max(ys) + BLOCK_H)
