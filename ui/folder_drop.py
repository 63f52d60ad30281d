"""Dropping a folder onto the window: it becomes the experiment's image folder.

An event filter on the window (and on the canvas, whose own drag and drop
takes palette blocks) takes drags that carry exactly one local folder and
leaves every other drag to the widget under the cursor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QDropEvent

DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def dropped_folder(mime: QMimeData | None) -> Path | None:
    """The local folder a drag carries, or None (files, several items, remote URLs)."""
    if mime is None or not mime.hasUrls():
        return None
    urls = mime.urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.is_dir() else None


class FolderDropFilter(QObject):
    """Accepts drags of one local folder on the watched widgets; emits ``folderDropped``."""

    folderDropped = Signal(str)  # noqa: N815 (Qt naming)

    def watch(self, *widgets: QObject) -> None:
        """Filter the drag events of ``widgets`` (they must accept drops)."""
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Take folder drags; pass on everything else."""
        if event.type() not in DRAG_EVENTS:
            return False
        folder = dropped_folder(event.mimeData())
        if folder is None:
            return False
        copy, link = Qt.DropAction.CopyAction, Qt.DropAction.LinkAction
        event.setDropAction(copy if event.possibleActions() & copy else link)
        event.accept()  # never a move: the folder stays where it is
        if isinstance(event, QDropEvent) and event.type() == QEvent.Type.Drop:
            self.folderDropped.emit(str(folder))
        return True
