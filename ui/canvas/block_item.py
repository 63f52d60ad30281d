"""A block on the canvas: type, key parameters and output shape in a rounded card."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyle, QStyleOptionGraphicsItem

from cnnlab.diagram import BLOCK_H, BLOCK_W, GRID_STEP, Look, VisibleNode
from cnnlab.ui.canvas import style
from cnnlab.ui.canvas.ports import PortItem, port_anchor

RECT = QRectF(0, 0, BLOCK_W, BLOCK_H)
STRIPE = 6.0
PAD = 12.0
FROZEN_FILL = QColor("#eaf2fb")  # a cooler card for weights that do not train
FROZEN_INK = QColor("#2f6fa8")
BADGE_FILL = QColor("#c95d7b")  # the Regularization group's colour
BADGE_INK = QColor("#ffffff")
HEALTH_FILL = QColor("#e8710a")  # the training-health badge: an orange disc with "!"
MARK_H = 14.0


class BlockItem(QGraphicsItem):
    """One visible node: a block, a collapsed module, or a block inside an open module."""

    def __init__(self, node: VisibleNode, look: Look):
        super().__init__()
        self.item_id = node.id
        self.node = node
        self.look = look
        self.edges: list = []
        self.group_item = None
        self.model_pos = QPointF()
        self.health: tuple = ()  # training-health warnings about this block (HealthWarning)
        flags = (QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                 | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                 | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setFlags(flags)
        self.setZValue(1)
        self.setAcceptHoverEvents(True)
        self.setToolTip(self.tooltip_text())
        colour = style.group_color(look.group)
        outer = node.kind != "inner"
        self.in_port = None
        if node.type != "Input":
            self.in_port = PortItem(self, "in", colour, outer)
            self.in_port.setPos(BLOCK_W / 2, 0)
        self.out_port = PortItem(self, "out", colour, outer or node.exit)
        self.out_port.setPos(BLOCK_W / 2, BLOCK_H)

    @property
    def top_id(self) -> str:
        """The top-level block or module instance this item stands for."""
        return self.node.group or self.item_id

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """The card with room for the selection outline."""
        return RECT.adjusted(-6, -MARK_H / 2 - 2, 7, 7)

    def shape(self) -> QPainterPath:
        """The card itself, for hit tests."""
        path = QPainterPath()
        path.addRoundedRect(RECT, 7, 7)
        return path

    def set_look(self, node: VisibleNode, look: Look) -> None:
        """Show new text or state (only repaints when something changed)."""
        self.node = node
        if look != self.look:
            self.look = look
            self.setToolTip(self.tooltip_text())
            self.update()

    def set_health(self, warnings) -> None:
        """Show (or, with none, remove) the training-health badge for these warnings."""
        warnings = tuple(warnings)
        if warnings != self.health:
            self.health = warnings
            self.setToolTip(self.tooltip_text())
            self.update()

    def tooltip_text(self) -> str:
        """The block's (rich text) tooltip, with a line per training-health warning."""
        if not self.health:
            return self.look.tooltip
        lines = [f"<span style='color:#b35400'>⚠ training health (epoch {w.epoch + 1}): "
                 f"{html.escape(w.message)}.</span> {html.escape(_sentence_case(w.remedy))}."
                 for w in self.health]
        return "<br>".join([self.look.tooltip, *lines])

    def anchor(self, kind: str, index: int = 0, count: int = 1) -> QPointF:
        """Scene point where arrows meet this block."""
        return self.mapToScene(port_anchor(RECT, kind, index, count))

    def scene_rect(self) -> QRectF:
        """The card in scene coordinates."""
        return self.mapRectToScene(RECT)

    def itemChange(self, change, value):  # noqa: N802 (Qt override)
        """Snap moves to the grid; keep arrows and module frames attached."""
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange:
            return QPointF(round(value.x() / GRID_STEP) * GRID_STEP,
                           round(value.y() / GRID_STEP) * GRID_STEP)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.refresh()
            if self.group_item is not None:
                self.group_item.refit()
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Double-click a collapsed module to open it in place."""
        if self.node.kind == "module" and self.scene() is not None:
            self.scene().request_fold(self.item_id, False)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        """Draw the card; far zoomed out only its colour and type."""
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_card(painter, selected)
        if lod < 0.35:
            self._paint_far(painter)
            return
        self._paint_text(painter)
        self._paint_marks(painter)

    def _paint_marks(self, painter: QPainter) -> None:
        """Frozen snowflake and regularization badge on the card's top edge."""
        right = BLOCK_W - 10.0
        if self.look.badge:
            font = style.ui_font(7.5, True)
            w = QFontMetricsF(font).horizontalAdvance(self.look.badge) + 10
            rect = QRectF(right - w, -MARK_H / 2, w, MARK_H)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BADGE_FILL)
            painter.drawRoundedRect(rect, MARK_H / 2, MARK_H / 2)
            painter.setFont(font)
            painter.setPen(BADGE_INK)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.look.badge)
        left = STRIPE + PAD + MARK_H / 2
        if self.look.frozen:  # left of the input port, clear of the badge
            _snowflake(painter, QPointF(left, 0.0), MARK_H / 2 + 1)
            left += MARK_H + 4
        if self.health:
            _health_mark(painter, QPointF(left, 0.0), MARK_H / 2 + 1)

    def _paint_card(self, painter: QPainter, selected: bool) -> None:
        look = self.look
        fill, border, width = style.FILL, style.BORDER, 1.0
        if self.node.kind == "module":
            fill = style.MODULE_FILL
            painter.setPen(QPen(style.BORDER, 1.0))
            painter.setBrush(QBrush(style.MODULE_FILL))
            painter.drawRoundedRect(RECT.translated(4, 4), 7, 7)  # a card stacked behind
        if look.frozen:
            fill = FROZEN_FILL
        if look.state == "error":
            fill, border, width = style.ERROR_FILL, style.ERROR, 2.0
        elif look.state == "warning":
            fill, border, width = style.WARNING_FILL, style.WARNING, 1.6
        if selected:
            painter.setPen(QPen(style.SELECTED, 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(RECT.adjusted(-3.5, -3.5, 3.5, 3.5), 9, 9)
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(RECT, 7, 7)
        stripe = QPainterPath()
        stripe.addRoundedRect(QRectF(0.5, 0.5, STRIPE + 6, BLOCK_H - 1), 6, 6)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, STRIPE, BLOCK_H))
        painter.fillPath(stripe.intersected(clip), style.group_color(look.group))

    def _paint_far(self, painter: QPainter) -> None:
        self._text(painter, style.ui_font(16, True), style.INK, RECT.adjusted(PAD, 0, -4, 0),
                   self.look.title)

    def _title_rects(self) -> tuple[QRectF, QRectF]:
        """Where the title and the id go: the id right-aligned, the title in what is left."""
        left, right = STRIPE + PAD - 4, BLOCK_W - 10
        id_w = min(QFontMetricsF(style.ui_font(8.5)).horizontalAdvance(self.look.ident) + 2,
                   96.0)
        return (QRectF(left, 5, right - left - id_w - 6, 18),
                QRectF(right - id_w, 6, id_w, 18))

    def shown_title(self) -> str:
        """The title as the card shows it: cut with "…" when too long (the tooltip is not)."""
        title = ("⊞ " if self.node.kind == "module" else "") + self.look.title
        return _elided(style.ui_font(9.5, True), title, self._title_rects()[0].width())

    def _paint_text(self, painter: QPainter) -> None:
        look = self.look
        left, right = STRIPE + PAD - 4, BLOCK_W - 10
        title_font, small = style.ui_font(9.5, True), style.ui_font(8.5)
        title = ("⊞ " if self.node.kind == "module" else "") + look.title
        title_rect, id_rect = self._title_rects()
        self._text(painter, small, style.MUTED, id_rect, look.ident, Qt.AlignmentFlag.AlignRight)
        self._text(painter, title_font, style.INK, title_rect, title)
        self._text(painter, style.ui_font(8.5), style.INK, QRectF(left, 25, right - left, 17),
                   look.summary)
        if look.state == "error":
            self._text(painter, small, style.ERROR, QRectF(left, 44, right - left, 18),
                       "⚠ " + look.problem)
            return
        ink = style.SHAPE_INK if look.shape != "?" else style.MUTED
        if look.state == "warning":
            self._text(painter, small, style.WARNING.darker(130),
                       QRectF(right - 100, 26, 100, 17), "⚠ see tooltip",
                       Qt.AlignmentFlag.AlignRight)
        self._text(painter, style.mono_font(9), ink,
                   QRectF(left, 44, right - left - 70, 18), look.shape)
        self._text(painter, small, style.MUTED, QRectF(right - 80, 45, 80, 17),
                   look.params, Qt.AlignmentFlag.AlignRight)

    @staticmethod
    def _text(painter: QPainter, font, colour, rect: QRectF, text: str,
              align=Qt.AlignmentFlag.AlignLeft) -> None:
        if not text:
            return
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter,
                         _elided(font, text, rect.width()))


def _elided(font, text: str, width: float) -> str:
    """``text`` cut at the right with "…" to fit ``width``."""
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _snowflake(painter: QPainter, centre: QPointF, radius: float) -> None:
    """A small snowflake in a white disc (drawn with lines: no font needed)."""
    painter.setPen(QPen(FROZEN_INK, 1.0))
    painter.setBrush(QColor("#ffffff"))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(FROZEN_INK, 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    arm = radius * 0.68
    for dx, dy in ((arm, 0.0), (arm / 2, arm * 0.866), (-arm / 2, arm * 0.866)):
        painter.drawLine(QPointF(centre.x() - dx, centre.y() - dy),
                         QPointF(centre.x() + dx, centre.y() + dy))


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _health_mark(painter: QPainter, centre: QPointF, radius: float) -> None:
    """The training-health badge: an orange disc with a white "!" (drawn, no font needed)."""
    painter.setPen(QPen(QColor("#ffffff"), 1.2))
    painter.setBrush(HEALTH_FILL)
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(QColor("#ffffff"), 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(centre.x(), centre.y() - radius * 0.5),
                     QPointF(centre.x(), centre.y() + radius * 0.12))
    painter.drawPoint(QPointF(centre.x(), centre.y() + radius * 0.5))
