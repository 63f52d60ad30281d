"""The experiment document: the current spec, undo/redo of whole snapshots, file and dirty state.

Every edit is a new :class:`~cnnlab.Experiment`; the undo stack holds pairs
of snapshots and swaps them. The stack's clean state is the saved file, so
undoing back to it clears the unsaved mark.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cnnlab import Experiment, load_experiment, save_experiment


class SnapshotCommand(QUndoCommand):
    """One edit: the experiment before and after."""

    def __init__(self, doc: Document, before: Experiment, after: Experiment, text: str):
        super().__init__(text)
        self._doc, self._before, self._after = doc, before, after

    def redo(self) -> None:
        """Show the edited experiment."""
        self._doc._show(self._after)

    def undo(self) -> None:
        """Show the experiment as it was."""
        self._doc._show(self._before)


class Document(QObject):
    """The open experiment.

    Signals:
        changed(Experiment): The current snapshot changed (edit, undo, open).
        stateChanged(): The path or the unsaved mark changed.
    """

    changed = Signal(object)
    stateChanged = Signal()  # noqa: N815 (Qt naming)

    def __init__(self, experiment: Experiment, path: str | Path | None = None, parent=None):
        super().__init__(parent)
        self._exp = experiment
        self._path = Path(path) if path else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    @property
    def experiment(self) -> Experiment:
        """The current snapshot."""
        return self._exp

    @property
    def path(self) -> Path | None:
        """The file the document was opened from or saved to."""
        return self._path

    @property
    def dirty(self) -> bool:
        """True when there are unsaved changes."""
        return not self.undo_stack.isClean()

    def apply(self, experiment: Experiment, text: str) -> None:
        """Make ``experiment`` current as one undo step called ``text``."""
        if experiment is self._exp:
            return
        self.undo_stack.push(SnapshotCommand(self, self._exp, experiment, text))

    def replace(self, experiment: Experiment, path: str | Path | None, dirty: bool = False
                ) -> None:
        """Start over with another experiment (new, open, recover): history is cleared."""
        self.undo_stack.clear()
        self._path = Path(path) if path else None
        self._show(experiment)
        if dirty:
            self.undo_stack.resetClean()
        else:
            self.undo_stack.setClean()
        self.stateChanged.emit()

    def open(self, path: str | Path) -> None:
        """Load a file as the document.

        Raises:
            SpecError: When the file is missing or invalid; the document is unchanged.
        """
        self.replace(load_experiment(path), path)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the document (atomically) to ``path`` or its own file.

        Raises:
            ValueError: When there is no path to save to.
            OSError: When the file cannot be written.
        """
        target = Path(path) if path else self._path
        if target is None:
            raise ValueError("the document has no file yet; use Save As")
        save_experiment(self._exp, target)
        self._path = target
        self.undo_stack.setClean()
        self.stateChanged.emit()
        return target

    def _clean_changed(self, _clean: bool) -> None:
        self.stateChanged.emit()

    def _show(self, experiment: Experiment) -> None:
        self._exp = experiment
        self.changed.emit(experiment)
