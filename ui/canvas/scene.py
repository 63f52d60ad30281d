"""The canvas scene: keeps block, arrow and frame items in step with the spec.

``sync`` updates items in place (new text, state, position) and only creates
or removes what appeared or disappeared, so a refresh after an edit stays
fast on a ResNet-152. User gestures come out as signals; the scene itself
never edits the spec. Training-health warnings (:meth:`GraphScene.set_health`)
are badges on the blocks they name, until the model changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from cnnlab import Analysis, Problem
from cnnlab.diagram import NO_MARKS, VisibleEdge, VisibleGraph, block_marks, look, problems_by_item
from cnnlab.ui.canvas import style
from cnnlab.ui.canvas.block_item import BlockItem
from cnnlab.ui.canvas.edge_item import EdgeItem, route
from cnnlab.ui.canvas.group_item import GroupItem
from cnnlab.ui.canvas.ports import PortItem

SCENE_MARGIN = 1500.0


class GraphScene(QGraphicsScene):
    """Items for a :class:`VisibleGraph`; gestures as signals."""

    connectRequested = Signal(str, str)  # noqa: N815 (Qt naming)
    movesFinished = Signal(dict)  # noqa: N815
    foldRequested = Signal(str, bool)  # noqa: N815

    def __init__(self, parent=None):
        super().__init__(parent)
        self.blocks: dict[str, BlockItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self.graph = VisibleGraph()
        self._pending: QGraphicsPathItem | None = None
        self._connect_from: tuple[str, QPointF] | None = None
        self.health: dict[str, list] = {}  # layer (expanded block id) -> its HealthWarnings
        self._health_model: Any = None  # the model spec the warnings are about

    # -- keeping items in step -------------------------------------------------------------
    def sync(self, graph: VisibleGraph, analysis: Analysis,
             pos: Mapping[str, tuple[float, float]], experiment: Any = None,
             extra_problems: Sequence[Problem] = ()) -> None:
        """Show ``graph`` with the analysis's shapes and problems at ``pos``.

        Args:
            graph: The visible items.
            analysis: Shapes, costs and problems of the model.
            pos: Item positions.
            experiment: The experiment whose recipe marks frozen and regularized
                blocks; None: the parent window's document, if it has one.
            extra_problems: Problems of the model against its data, drawn on
                their blocks like the analysis's own.

        """
        self.graph = graph
        problems = problems_by_item(graph, analysis, extra_problems)
        experiment = experiment if experiment is not None else self._experiment()
        marks = block_marks(experiment, graph, analysis)
        self._sync_groups(graph)
        for nid, node in graph.nodes.items():
            lk = look(node, graph, analysis, problems.get(nid, ()), marks.get(nid, NO_MARKS))
            self._sync_block(nid, node, lk, pos.get(nid))
        for nid in [n for n in self.blocks if n not in graph.nodes]:
            self._remove_block(nid)
        self._sync_edges(graph.edges)
        for edge in self.edges.values():  # blocks placed after an arrow may stand in its way
            edge.reroute()
        for group in self.groups.values():
            group.refit()
        self._sync_health(getattr(experiment, "model", None))
        bounds = self.itemsBoundingRect()
        self.setSceneRect(bounds.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN,
                                          SCENE_MARGIN))

    # -- training health ---------------------------------------------------------------------
    def set_health(self, warnings: Mapping[str, Sequence[Any]], model: Any = None) -> None:
        """Badge the blocks that training-health warnings name; {} removes every badge.

        Args:
            warnings: HealthWarnings by layer name (an expanded block id; one
                inside a collapsed module badges the module).
            model: The model spec of the run they are about: they are dropped
                once the canvas shows another graph. None: the graph shown now.
        """
        self.health = {layer: list(ws) for layer, ws in warnings.items() if layer and ws}
        experiment = self._experiment()
        self._health_model = model if model is not None else getattr(experiment, "model", None)
        self._sync_health(getattr(experiment, "model", None))

    def badged_ids(self) -> list[str]:
        """The ids of the blocks that carry a training-health badge."""
        return [nid for nid, item in self.blocks.items() if item.health]

    def _sync_health(self, model: Any) -> None:
        """Badge the blocks again (the items may have changed); clear when the graph did."""
        if self.health and model is not None and model is not self._health_model \
                and model != self._health_model:
            self.health = {}
        per_item: dict[str, list] = {}
        for layer, ws in self.health.items():
            per_item.setdefault(self.graph.owner.get(layer, layer), []).extend(ws)
        for nid, item in self.blocks.items():
            item.set_health(per_item.get(nid, ()))

    def _experiment(self) -> Any:
        """The parent window's current experiment (for the recipe marks), or None."""
        doc = getattr(self.parent(), "doc", None)
        return getattr(doc, "experiment", None)

    def _sync_groups(self, graph: VisibleGraph) -> None:
        for inst in [g for g in self.groups if g not in graph.groups]:
            self.removeItem(self.groups.pop(inst))
        for inst in graph.groups:
            if inst not in self.groups:
                item = GroupItem(inst, graph.module_of.get(inst, "module"))
                self.groups[inst] = item
                self.addItem(item)
            self.groups[inst].members = []

    def _sync_block(self, nid: str, node, lk, xy: tuple[float, float] | None) -> None:
        item = self.blocks.get(nid)
        if item is not None and (item.node.kind, item.node.type) != (node.kind, node.type):
            self._remove_block(nid)
            item = None
        if item is None:
            item = BlockItem(node, lk)
            self.blocks[nid] = item
            self.addItem(item)
        else:
            item.set_look(node, lk)
        if xy is not None:
            target = QPointF(*xy)
            if item.pos() != target:
                item.setPos(target)
            item.model_pos = item.pos()
        item.group_item = self.groups.get(node.group) if node.group else None
        if item.group_item is not None:
            item.group_item.members.append(item)

    def _remove_block(self, nid: str) -> None:
        item = self.blocks.pop(nid)
        for edge in list(item.edges):
            self._remove_edge(edge)
        self.removeItem(item)

    def _remove_edge(self, edge: EdgeItem) -> None:
        edge.detach()
        key = (edge.src.item_id, edge.dst.item_id)
        if self.edges.get(key) is edge:
            del self.edges[key]
        if edge.scene() is self:
            self.removeItem(edge)

    def _sync_edges(self, edges: Iterable[VisibleEdge]) -> None:
        slots = _input_slots(edges)
        wanted = {(e.src, e.dst): e for e in edges}
        for key, edge in list(self.edges.items()):
            if key not in wanted or edge.src is not self.blocks.get(key[0]) \
                    or edge.dst is not self.blocks.get(key[1]) or edge.top != wanted[key].top:
                self._remove_edge(edge)
        for key, e in wanted.items():
            index, count = slots[key]
            edge = self.edges.get(key)
            if edge is None:
                edge = EdgeItem(self.blocks[e.src], self.blocks[e.dst], index, count, e.top)
                self.edges[key] = edge
                self.addItem(edge)
            else:
                edge.set_slot(index, count)

    # -- selection ---------------------------------------------------------------------------
    def selected_item_ids(self) -> list[str]:
        """Ids of the selected blocks and module frames."""
        return [i.item_id for i in self.selectedItems() if isinstance(i, (BlockItem, GroupItem))]

    def selected_top_ids(self) -> list[str]:
        """Top-level ids of the selection (blocks inside an open module do not count)."""
        out = []
        for item in self.selectedItems():
            if isinstance(item, GroupItem) or (isinstance(item, BlockItem)
                                               and item.node.kind != "inner"):
                out.append(item.item_id)
        return out

    def selected_connections(self) -> list[tuple[str, str]]:
        """The spec connections of the selected arrows."""
        return [i.top for i in self.selectedItems() if isinstance(i, EdgeItem) and i.top]

    def select_ids(self, ids: Iterable[str]) -> None:
        """Select exactly these items (blocks or module frames)."""
        ids = set(ids)
        self.clearSelection()
        for nid in ids:
            item = self.blocks.get(nid) or self.groups.get(nid)
            if item is not None:
                item.setSelected(True)

    def item_for(self, item_id: str):
        """The block or frame item with this id, or None."""
        return self.blocks.get(item_id) or self.groups.get(item_id)

    # -- gestures ----------------------------------------------------------------------------
    def request_fold(self, instance: str, fold: bool) -> None:
        """Ask to collapse (``fold``) or expand a module instance."""
        self.foldRequested.emit(instance, fold)

    def begin_connect(self, src: str, at: QPointF) -> None:
        """Start a pending arrow from ``src``'s output port."""
        self._connect_from = (src, at)
        self._pending = QGraphicsPathItem()
        self._pending.setPen(QPen(style.SELECTED, 1.8))
        self._pending.setZValue(5)
        self.addItem(self._pending)
        self._show_inputs(True)

    def _show_inputs(self, shown: bool) -> None:
        """Input ports appear only while a connection is being dragged."""
        for item in [*self.blocks.values(), *self.groups.values()]:
            port = item.in_port
            if port is not None and port.interactive:
                port.setVisible(shown)

    def drag_connect(self, to: QPointF) -> None:
        """Move the pending arrow's head."""
        if self._pending is not None and self._connect_from is not None:
            self._pending.setPath(route(self._connect_from[1], to))

    def end_connect(self, at: QPointF) -> None:
        """Drop the pending arrow; connect when it ends on another block."""
        if self._pending is not None:
            self.removeItem(self._pending)
            self._pending = None
            self._show_inputs(False)
        if self._connect_from is None:
            return
        src = self._connect_from[0]
        self._connect_from = None
        target = self.target_at(at)
        if target is not None and target != src:
            self.connectRequested.emit(src, target)

    def target_at(self, at: QPointF) -> str | None:
        """The top-level block or module under a scene point, if any."""
        for item in self.items(at):
            if isinstance(item, PortItem):
                item = item.parentItem()
            if isinstance(item, GroupItem):
                return item.item_id
            if isinstance(item, BlockItem):
                return item.node.group or item.item_id
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Remember where blocks are, to tell which moved."""
        for item in self.blocks.values():
            item.model_pos = item.pos()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Report blocks that the drag moved (one undo step for all of them)."""
        super().mouseReleaseEvent(event)
        moved = {nid: (item.pos().x(), item.pos().y()) for nid, item in self.blocks.items()
                 if item.pos() != item.model_pos}
        if moved:
            for nid in moved:
                self.blocks[nid].model_pos = self.blocks[nid].pos()
            self.movesFinished.emit(moved)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """A light background with a dot grid."""
        painter.fillRect(rect, style.BACKGROUND)
        scale = painter.worldTransform().m11()
        if scale < 0.45:
            return
        step = 20
        painter.setPen(QPen(style.GRID_DOT, 1.5 / scale))
        left, top = int(rect.left()) - int(rect.left()) % step, int(rect.top()) - int(
            rect.top()) % step
        points = [QPointF(x, y) for x in range(left, int(rect.right()) + step, step)
                  for y in range(top, int(rect.bottom()) + step, step)]
        painter.drawPoints(points)


def _input_slots(edges: Iterable[VisibleEdge]) -> dict[tuple[str, str], tuple[int, int]]:
    """(index, count) of every arrow among the inputs of its target, in port order."""
    into: dict[str, list[VisibleEdge]] = {}
    for e in edges:
        into.setdefault(e.dst, []).append(e)
    out = {}
    for dst, group in into.items():
        ordered = sorted(enumerate(group), key=lambda ie: (
            ie[1].port if ie[1].port is not None else 10**6, ie[0]))
        for index, (_, e) in enumerate(ordered):
            out[(e.src, dst)] = (index, len(group))
    return out
