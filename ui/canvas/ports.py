"""Ports: the dots on top (input) and bottom (output) of a block.

Dragging from an output port draws a pending arrow; releasing it over
another block (or its input port) asks the scene to connect the two.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsSceneMouseEvent

RADIUS = 5.0


class PortItem(QGraphicsEllipseItem):
    """An input or output port of a block (a child item of the block)."""

    def __init__(self, parent: QGraphicsItem, kind: str, colour: QColor, interactive: bool):
        super().__init__(QRectF(-RADIUS, -RADIUS, 2 * RADIUS, 2 * RADIUS), parent)
        self.kind = kind  # "in" or "out"
        self.interactive = interactive
        self.setPen(QPen(colour, 1.6))
        self.setBrush(QBrush(QColor("#ffffff")))
        self.setZValue(2)
        self.setVisible(kind == "out")  # input ports show while a connection is dragged
        if interactive:
            self.setAcceptHoverEvents(True)
            self.setCursor(Qt.CursorShape.CrossCursor)
            self.setToolTip("Drag from here to another block to connect" if kind == "out"
                            else "Drop a connection here")
        else:
            self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    @property
    def owner_id(self) -> str:
        """The top-level block (or module instance) this port connects."""
        return self.parentItem().top_id

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Grow a little under the mouse."""
        self.setScale(1.5)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Back to normal size."""
        self.setScale(1.0)
        super().hoverLeaveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Start a connection from an output port."""
        if self.kind == "out" and self.interactive and event.button() == Qt.MouseButton.LeftButton:
            self.scene().begin_connect(self.owner_id, self.scenePos())
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Follow the mouse with the pending arrow."""
        self.scene().drag_connect(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Finish the connection where the mouse is released."""
        self.scene().end_connect(event.scenePos())


def port_anchor(rect: QRectF, kind: str, index: int = 0, count: int = 1) -> QPointF:
    """Where an arrow meets a block: bottom centre, or spread along the top for inputs."""
    if kind == "out":
        return QPointF(rect.center().x(), rect.bottom())
    if count <= 1:
        return QPointF(rect.center().x(), rect.top())
    span = min(rect.width() - 40.0, 26.0 * (count - 1))
    x = rect.center().x() - span / 2 + span * index / (count - 1)
    return QPointF(x, rect.top())
