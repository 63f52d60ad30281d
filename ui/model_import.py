"""File > Import…: a Keras model file (.keras, .h5) becomes a new, unsaved experiment.

The file is inspected and loaded by :func:`cnnlab.modelio.importer.import_model_file`
in a worker thread (it needs TensorFlow; the job first waits for the window's
own TensorFlow import, see :mod:`cnnlab.ui.tf_gate`). A refused or damaged
file shows the importer's message and keeps the open document. The report
ends with the parameter total as learned parameters plus batch-norm state,
which adds up to the count Keras gives for the file's model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QWidget

from cnnlab.ui import dialogs
from cnnlab.ui.summary_table import count_sentence
from cnnlab.ui.tf_gate import tensorflow_gate
from cnnlab.ui.views.worker import Worker

if TYPE_CHECKING:
    from cnnlab.ui.file_actions import FileActions

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
REUSE_HINT = ("The imported experiment does not carry the trained weights. To train on top "
              "of them, use this file as a transfer base: Recipe ▸ Transfer learning, base "
              "source “file”, base = {path}.")


def ask_model_path(parent: QWidget, folder: str) -> str | None:
    """Ask for a Keras model file to import."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import a Keras model", folder, MODEL_FILTER)
    return path or None


def report_text(report: list[str], path: Path, totals=None) -> str:
    """The message after an import: the importer's report and how to reuse the weights.

    Args:
        report: The importer's report lines.
        path: The imported file.
        totals: The imported network's analysis totals, for the parameter line.

    """
    if totals is not None:
        report = [*report, f"parameters: {count_sentence(totals)}"]
    lines = "\n".join(f"• {line}" for line in report)
    return f"{lines}\n\n{REUSE_HINT.format(path=path)}"


def _totals(experiment):
    """The imported network's totals (None when it cannot be analysed)."""
    from cnnlab import analyze_experiment

    try:
        return analyze_experiment(experiment).totals
    except Exception:  # noqa: BLE001 - the import itself succeeded; the line is left out
        return None


class ModelImporter:
    """Runs File > Import… for the window's :class:`FileActions`."""

    def __init__(self, files: FileActions) -> None:
        self.files = files
        self.w = files.w
        self.worker = Worker(self.w)
        self.worker.result.connect(self._imported)
        self.worker.failed.connect(self._refused)
        self.worker.finished.connect(self._ended)
        self.path: Path | None = None
        self._snapshot = None

    def busy(self) -> bool:
        """True while an import runs."""
        return self.worker.running

    def start(self, path: str | Path | None = None) -> bool:
        """Ask about unsaved changes and for a file; start importing it in the background."""
        if self.busy():
            self.w.show_message("An import is already running.")
            return False
        if not self.files.maybe_save():
            return False
        if path is None:
            path = ask_model_path(self.w, self.w.settings.last_dir())
            if path is None:
                return False
        return self._begin(Path(path))

    def _begin(self, path: Path) -> bool:
        from cnnlab.modelio import import_model_file

        gate = tensorflow_gate(self.w)

        def job(_sink, _control):
            gate()
            result = import_model_file(path, keep_weights=True)
            return result, _totals(result.experiment)

        if not self.worker.start(job, name="cnnlab-import"):
            return False
        self.path, self._snapshot = path, self.files.doc.experiment
        self._set_enabled(False)
        self.w.show_message(f"Importing {path.name}…", 0)
        return True

    def _imported(self, outcome) -> None:
        result, totals = outcome
        doc = self.files.doc
        if doc.experiment is not self._snapshot and not self.files.maybe_save():
            self.w.show_message(f"Import of {self.path.name} not opened.")
            return
        self.files.show_experiment(result.experiment, None, dirty=True)
        self.w.settings.set_last_dir(self.path)
        self.w.show_message(f"Imported {self.path.name}")
        dialogs.info(self.w, "Model imported", report_text(result.report, self.path, totals))

    def _refused(self, text: str) -> None:
        self.w.show_message(f"Cannot import {self.path.name}")
        dialogs.error(self.w, "Cannot import the model", text)

    def _ended(self) -> None:
        self._set_enabled(True)

    def _set_enabled(self, enabled: bool) -> None:
        action = self.w.menus.actions.get("import") if hasattr(self.w, "menus") else None
        if action is not None:
            action.setEnabled(enabled)
