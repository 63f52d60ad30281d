"""An arrow from one block's output to another block's input.

Arrows run top-down with vertical tangents; an arrow straight down a column
is a straight line. Only an arrow that would cut through other blocks of its
own column (a ResNet identity shortcut) bows out to the right, as in the
lecture diagrams.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyle

from cnnlab.diagram import BLOCK_H, BLOCK_W, ROW
from cnnlab.ui.canvas import style

ARROW = 9.0


class EdgeItem(QGraphicsItem):
    """A connection; selectable (and deletable) when it is a connection of the spec."""

    def __init__(self, src, dst, index: int, count: int, top: tuple[str, str] | None):
        super().__init__()
        self.src, self.dst = src, dst
        self.index, self.count = index, count
        self.top = top
        self._path = QPainterPath()
        self._head = QPolygonF()
        self.blocked = False  # other blocks stand in the way: the arrow bows around them
        self.setZValue(0)
        if top is not None:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self.setToolTip(f"{top[0]} → {top[1]} (select and press Delete to remove)")
        src.edges.append(self)
        dst.edges.append(self)
        self.refresh()

    def detach(self) -> None:
        """Forget the blocks at both ends (before removal)."""
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)

    def set_slot(self, index: int, count: int) -> None:
        """Move the arrow head to input slot ``index`` of ``count``."""
        if (index, count) != (self.index, self.count):
            self.index, self.count = index, count
            self.refresh()

    def refresh(self) -> None:
        """Recompute the path after a block moved."""
        start = self.src.anchor("out")
        end = self.dst.anchor("in", self.index, self.count)
        self.prepareGeometryChange()
        self.blocked = self._blocked(start, end)
        self._path = route(start, end, bend_late=self.count > 1, blocked=self.blocked)
        self._head = _arrow_head(self._path, end)

    def reroute(self) -> None:
        """Redraw a long arrow down a column whose way was freed or blocked by other blocks.

        Cheap for every other arrow: moving its own ends already redraws it.
        """
        start = self.src.anchor("out")
        end = self.dst.anchor("in", self.index, self.count)
        if along_column(start, end) and self._blocked(start, end) != self.blocked:
            self.refresh()

    def _blocked(self, start: QPointF, end: QPointF) -> bool:
        """Whether another block stands on the straight way from ``start`` to ``end``."""
        scene = self.scene()
        if scene is None or not along_column(start, end):
            return False
        left, right = min(start.x(), end.x()) - 4, max(start.x(), end.x()) + 4
        top, bottom = start.y() + 2, end.y() - 2
        for item in getattr(scene, "blocks", {}).values():  # plain arithmetic: no index
            x, y = item.x(), item.y()
            if x < right and x + BLOCK_W > left and y < bottom and y + BLOCK_H > top \
                    and item is not self.src and item is not self.dst:
                return True
        return False

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """The path with room for the pen and the head."""
        return self._path.boundingRect().adjusted(-ARROW, -ARROW, ARROW, ARROW)

    def shape(self) -> QPainterPath:
        """A band around the path, easy to click."""
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        """Draw the line and its filled head."""
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = style.SELECTED if selected else style.EDGE
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(colour, 2.4 if selected else 1.5, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setBrush(QBrush(colour))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(self._head)


def along_column(start: QPointF, end: QPointF) -> bool:
    """Whether an arrow runs down its own column past at least one row of blocks."""
    return end.y() - start.y() > ROW * 1.2 and abs(end.x() - start.x()) < BLOCK_W * 0.6


def route(start: QPointF, end: QPointF, bend_late: bool = False,
          blocked: bool = False) -> QPainterPath:
    """The path of an arrow from an output anchor to an input anchor.

    Args:
        start: The source's output anchor.
        end: The target's input anchor.
        bend_late: For long arrows between columns, bend just above the target
            (used for arrows into merge blocks).
        blocked: Other blocks stand between the ends of an arrow down a column:
            bow out to the right around them.
    """
    path = QPainterPath(start)
    dx, dy = end.x() - start.x(), end.y() - start.y()
    tip = QPointF(end.x(), end.y() - ARROW + 1)
    if blocked and along_column(start, end):
        side = max(start.x(), end.x()) + BLOCK_W / 2 + 40
        bend = min(40.0, (dy - BLOCK_H) / 3)
        path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(side, start.y()),
                     QPointF(side, start.y() + 2 * bend))
        path.lineTo(side, end.y() - 2 * bend)
        path.cubicTo(QPointF(side, end.y()), QPointF(end.x(), tip.y() - bend), tip)
        return path
    if dy > 0 and abs(dx) < 0.5:  # straight down: a straight line, however long
        path.lineTo(tip)
        return path
    if dy > ROW * 1.2:
        return _run_then_bend(path, start, tip, bend_late=bend_late)
    k = max(abs(dy) * 0.5, 30.0)
    path.cubicTo(QPointF(start.x(), start.y() + k), QPointF(end.x(), tip.y() - k), tip)
    return path


def _run_then_bend(path: QPainterPath, start: QPointF, tip: QPointF,
                   bend_late: bool) -> QPainterPath:
    """A long arrow between columns: straight down one column, one smooth bend.

    Into a merge block the arrow runs down its own column and bends at the
    end (a shortcut joining the main path); otherwise it bends first and runs
    down the target's column (a branch leaving it).
    """
    bend = ROW * 0.6
    if bend_late:
        knee = QPointF(start.x(), tip.y() - bend)
        path.lineTo(knee)
        path.cubicTo(QPointF(knee.x(), knee.y() + bend * 0.6),
                     QPointF(tip.x(), tip.y() - bend * 0.5), tip)
    else:
        knee = QPointF(tip.x(), start.y() + bend)
        path.cubicTo(QPointF(start.x(), start.y() + bend * 0.5),
                     QPointF(knee.x(), knee.y() - bend * 0.6), knee)
        path.lineTo(tip)
    return path


def _arrow_head(path: QPainterPath, end: QPointF) -> QPolygonF:
    back = path.pointAtPercent(path.percentAtLength(max(path.length() - 4.0, 0.0)))
    angle = math.atan2(end.y() - back.y(), end.x() - back.x())
    left = QPointF(end.x() - ARROW * math.cos(angle - 0.42),
                   end.y() - ARROW * math.sin(angle - 0.42))
    right = QPointF(end.x() - ARROW * math.cos(angle + 0.42),
                    end.y() - ARROW * math.sin(angle + 0.42))
    return QPolygonF([end, left, right])
