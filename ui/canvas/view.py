"""The canvas view: zoom, pan, rubber-band selection, drops from the palette.

The wheel zooms around the mouse; the middle button, or the left button with
space held, pans.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from cnnlab.ui.canvas.scene import GraphScene

MIME_BLOCK = "application/x-cnnlab-block"
MIN_ZOOM, MAX_ZOOM = 0.05, 3.0


def block_type_of(mime: QMimeData) -> str | None:
    """The block type a palette drag carries, or None."""
    if not mime.hasFormat(MIME_BLOCK):
        return None
    return bytes(mime.data(MIME_BLOCK)).decode("utf-8") or None


def block_mime(type_name: str) -> QMimeData:
    """The drag payload for a block type."""
    mime = QMimeData()
    mime.setData(MIME_BLOCK, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


class GraphView(QGraphicsView):
    """Shows a :class:`GraphScene`; ``blockDropped`` when a palette block lands on it."""

    blockDropped = Signal(str, QPointF)  # noqa: N815 (Qt naming)

    def __init__(self, scene: GraphScene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space = False
        self._pending_fit: bool | None = None

    # -- zoom and pan ------------------------------------------------------------------------
    def zoom(self) -> float:
        """The current scale factor."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zoom in (> 1) or out, within limits."""
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        self.scale(target / self.zoom(), target / self.zoom())

    def fit_all(self) -> None:
        """Show every block; never enlarge past 100 %."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
            self.centerOn(rect.center())

    def show_start(self, min_zoom: float = 0.6) -> None:
        """The opening view: everything when it fits at a readable zoom, else the top.

        Waits for the view to have its real size when it is not shown yet.
        """
        if not self.isVisible():
            self._pending_fit = True
            return
        self._pending_fit = None
        self.fit_all()
        if self.zoom() >= min_zoom:
            return
        rect = self.scene().itemsBoundingRect()
        self.resetTransform()
        self.scale(min_zoom, min_zoom)
        height = self.viewport().height() / min_zoom
        self.centerOn(rect.center().x(), rect.top() - 40 + height / 2)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Do a fit that was asked for before the view was shown."""
        super().showEvent(event)
        if self._pending_fit:
            QTimer.singleShot(0, self.show_start)

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Zoom around the mouse."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps)
        event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Middle button (or left with space held) pans."""
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Scroll while panning."""
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - int(delta.x()))
            v.setValue(v.value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Stop panning."""
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Hold space to pan with the left button."""
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Space released: back to selecting."""
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- drops from the palette --------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Accept palette blocks."""
        if block_type_of(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Keep accepting palette blocks while they move."""
        if block_type_of(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Create the dropped block where it lands."""
        kind = block_type_of(event.mimeData())
        if kind is None:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.setFocus()  # Delete, Ctrl+C... act on the canvas next
        self.blockDropped.emit(kind, self.mapToScene(event.position().toPoint()))
