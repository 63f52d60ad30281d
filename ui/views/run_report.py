"""Runs ▸ Report…: write a run's HTML report (:mod:`cnnlab.report`) in the background.

The report loads the run's saved model, evaluates it and draws its pictures,
which takes a few seconds: it runs in a worker thread (after the window's
TensorFlow import, through the gate), and the view shows one line when it is
written or why not. The save dialog confirms replacing the file it was given;
a name that gets ``.html`` added is asked about again if it exists.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from cnnlab.ui import dialogs
from cnnlab.ui.views.worker import Worker

FILTER = "HTML page (*.html)"


def default_report_path(record) -> Path:
    """Beside the run's files when its folder can be written, else in the home folder."""
    import os

    from cnnlab.ui.views.export_dialog import file_stem

    folder = Path(record.run_dir)
    if not os.access(folder, os.W_OK):
        folder = Path.home()
    return folder / f"{file_stem(record.name)}_report.html"


def ask_report_path(parent: QWidget, suggestion: Path) -> Path | None:
    """Ask where the report goes; None when cancelled or a replacement was declined."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save the run's report", str(suggestion),
                                          FILTER)
    if not path:
        return None
    if Path(path).suffix.lower() not in (".html", ".htm"):
        path += ".html"
        if Path(path).exists() and not dialogs.ask(
                parent, "Replace the file?", f"{path} already exists. Replace it?"):
            return None
    return Path(path)


class RunReport(QObject):
    """Writes one report at a time for a :class:`~cnnlab.ui.views.runs_view.RunsView`.

    Signals:
        message: ``(text, is_error)``, one line for the view.
        written: The :class:`~cnnlab.report.ReportResult` of a written report.

    """

    message = Signal(str, bool)
    written = Signal(object)

    def __init__(self, workspace: str | Path, parent: QWidget) -> None:
        super().__init__(parent)
        self.workspace = Path(workspace)
        self.worker = Worker(self)
        self.worker.result.connect(self._written)
        self.worker.failed.connect(lambda text: self.message.emit(
            f"The report was not written: {text}", True))

    @property
    def busy(self) -> bool:
        """True while a report is being written."""
        return self.worker.running

    def start(self, record, path: str | Path | None = None) -> bool:
        """Write ``record``'s report to ``path`` (asked for when None); False if not started."""
        if self.busy:
            self.message.emit("A report is still being written.", True)
            return False
        if path is None:
            path = ask_report_path(self.parent(), default_report_path(record))
            if path is None:
                return False
        from cnnlab.ui.tf_gate import tensorflow_gate

        gate, workspace, run_id = tensorflow_gate(self.parent()), self.workspace, record.id

        def job(_sink, _control):
            from cnnlab.report import write_report
            from cnnlab.runs import RunStore

            gate()
            store = RunStore(workspace, read_only=True)  # this thread's own
            return write_report(store, run_id, path, force=True)  # the user agreed

        self.worker.start(job, name="cnnlab-report")
        self.message.emit(f"Writing the report of {record.name} to {path}…", False)
        return True

    def _written(self, result) -> None:
        notes = f" ({len(result.notes)} note(s) inside)" if result.notes else ""
        self.message.emit(f"Report written to {result.path} in {result.seconds:.1f} s"
                          f"{notes}.", False)
        self.written.emit(result)
