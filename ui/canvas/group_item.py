"""The frame around an expanded module instance; its header folds it back into one block."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyle

from cnnlab.diagram import FRAME_BOTTOM, FRAME_SIDE, FRAME_TOP
from cnnlab.ui.canvas import style


class GroupItem(QGraphicsItem):
    """A module instance shown open: a dashed frame with a header, behind its blocks."""

    def __init__(self, instance: str, module: str):
        super().__init__()
        self.item_id = instance
        self.module = module
        self.members: list = []
        self._rect = QRectF()
        self._drag_from: QPointF | None = None
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        self.setToolTip(f"module instance {instance} ({module}); click ▾ to collapse, "
                        "drag the header to move it")
        self.in_port = None  # connections go to the blocks inside

    def refit(self) -> None:
        """Wrap the frame around the members again."""
        rect = QRectF()
        for item in self.members:
            rect = rect.united(item.scene_rect())
        rect = rect.adjusted(-FRAME_SIDE, -FRAME_TOP, FRAME_SIDE, FRAME_BOTTOM)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect

    def header_rect(self) -> QRectF:
        """The strip at the top with the instance's name."""
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), FRAME_TOP - 8)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        """The frame."""
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        """Only the header catches the mouse, not the blocks inside."""
        path = QPainterPath()
        path.addRect(self.header_rect())
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        """Dashed frame, tinted background, header text."""
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(style.SELECTED if selected else style.GROUP_BORDER, 2 if selected else 1.2,
                   Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(style.GROUP_FILL))
        painter.drawRoundedRect(self._rect, 10, 10)
        painter.setPen(style.INK)
        painter.setFont(style.ui_font(9, True))
        text_rect = self.header_rect().adjusted(10, 2, -10, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter,
                         f"▾  {self.item_id}")
        painter.setPen(style.MUTED)
        painter.setFont(style.ui_font(8.5))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         f"module {self.module}")

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Click the triangle to collapse; press elsewhere on the header to drag."""
        if event.button() == Qt.MouseButton.LeftButton:
            if event.pos().x() < self._rect.left() + 28:
                self.scene().request_fold(self.item_id, True)
                event.accept()
                return
            self._drag_from = event.scenePos()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Move every member with the header."""
        if self._drag_from is None:
            return
        delta = event.scenePos() - self._drag_from
        step = 10.0
        delta = QPointF(round(delta.x() / step) * step, round(delta.y() / step) * step)
        if delta.isNull():
            return
        for item in self.members:
            item.moveBy(delta.x(), delta.y())
        self._drag_from += delta

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """End a drag."""
        self._drag_from = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Double-click the header to collapse."""
        self.scene().request_fold(self.item_id, True)
        event.accept()
