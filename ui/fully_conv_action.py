"""Make fully convolutional…: a trained run's Flatten+Dense head becomes convolutions.

The conversion is :func:`cnnlab.modelio.fully_conv_file.convert_run`, the one
``cnnlab convert RUN --fully-convolutional`` runs: the copy is verified
against the trained model before it is written (atomically), and the
dialog shows what became what, the measured difference and what a larger
image gives, or the one-line reason it cannot be done. A file that exists is
replaced only after the user agreed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab.ui import dialogs
from cnnlab.ui.views.worker import Worker

STAGES = {"converting": "Converting…", "verifying": "Verifying…", "writing": "Writing…",
          "done": "Done"}


def default_target(run_dir: Path, name: str) -> Path:
    """``<run folder>/<run name>_fcn.keras``."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    stem = "_".join(part for part in stem.split("_") if part) or "model"
    return Path(run_dir) / f"{stem}_fcn.keras"


def result_text(result: Any) -> str:
    """The success message: the file, the rewritten layers, the check, the score map."""
    return (f"Made fully convolutional in {result.seconds:.1f} s.\nFile: {result.path}\n"
            f"Manifest: {result.manifest_path}\n{result.summary()}.\n"
            "Inspect > Score map shows the map over a larger image.")


class FullyConvDialog(QDialog):
    """Convert the run in ``run_dir`` (its ``model.keras``) to a verified fully convolutional file.

    Args:
        run_dir: The run folder.
        name: The run's display name, for the default file name.
        parent: The parent widget.
    """

    def __init__(self, run_dir: str | Path, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Make “{name}” fully convolutional")
        self.setObjectName("fully_conv_dialog")
        self.run_dir = Path(run_dir)
        self.result = None
        self.worker = Worker(self)
        self.worker.event.connect(self._progress)
        self.worker.result.connect(self._succeeded)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(lambda: self._set_busy(False))
        self.path_edit = QLineEdit(str(default_target(self.run_dir, name)))
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(lambda _c=False: self._browse())
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.message = QLabel("Every Dense layer after the Flatten becomes a convolution with "
                              "the same weights; the copy is compared with the trained model "
                              "before anything is written.")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.convert_button = self.buttons.addButton(
            "Convert", QDialogButtonBox.ButtonRole.ActionRole)
        self.convert_button.setDefault(True)
        self.convert_button.clicked.connect(lambda _c=False: self.convert())
        self.buttons.rejected.connect(self.reject)
        line = QHBoxLayout()
        line.addWidget(QLabel("Save to:"))
        line.addWidget(self.path_edit, 1)
        line.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.addLayout(line)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(640, 0)

    def convert(self) -> bool:
        """Start the conversion in the background; False (with a message) when it cannot."""
        from cnnlab.modelio import convert_run

        text = self.path_edit.text().strip()
        if not text:
            return self._show("Choose where to save the converted model.", error=True)
        out = Path(text).expanduser()
        if out.resolve() == (self.run_dir / "model.keras").resolve():
            return self._show("That is the run's own model; choose another name.", error=True)
        force = self._replace_allowed(out)
        if force is None:
            return False
        run_dir = self.run_dir
        if not self.worker.start(lambda sink, _c: convert_run(
                run_dir, out, force=force, progress=lambda s, f: sink((s, f))),
                name="cnnlab-fully-conv"):
            return self._show("A conversion is already running.", error=True)
        self.result = None
        self._set_busy(True)
        self.progress.setValue(0)
        return self._show(f"Converting to {out}…", error=False)

    def _replace_allowed(self, out: Path) -> bool | None:
        """False: nothing in the way; True: the user agreed to replace; None: refused."""
        from cnnlab import CnnlabError
        from cnnlab.modelio import check_targets, existing_targets

        try:
            check_targets("keras", out, force=True)
        except CnnlabError as exc:
            self._show(f"{exc}\nNothing was written.", error=True)
            return None
        existing = existing_targets("keras", out)
        if not existing:
            return False
        names = "\n".join(str(p) for p in existing)
        if not dialogs.ask(self, "Replace the file?", f"These already exist:\n{names}\n\n"
                           "Replace them with the converted model (after it passed "
                           "verification)?"):
            self._show("Nothing was replaced; choose another name to keep both.", error=False)
            return None
        return True

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the fully convolutional model",
                                              self.path_edit.text(), "Keras model (*.keras)")
        if path:
            self.path_edit.setText(path if path.lower().endswith(".keras") else path + ".keras")

    def _progress(self, event: object) -> None:
        stage, fraction = event
        self.progress.setValue(round(100 * max(0.0, min(1.0, float(fraction)))))
        self.progress.setFormat(f"{STAGES.get(stage, stage)} %p%")

    def _succeeded(self, result: Any) -> None:
        self.result = result
        self.progress.setValue(100)
        self._show(result_text(result), error=False)

    def _failed(self, text: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._show(f"Cannot make it fully convolutional: {text}\nNothing was written.",
                   error=True)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.path_edit, self.browse_button, self.convert_button):
            widget.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)

    def _show(self, text: str, error: bool) -> bool:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)
        return not error

    def busy(self) -> bool:
        """True while a conversion runs."""
        return self.worker.running

    def reject(self) -> None:
        """Close, except while the conversion runs (it finishes in seconds)."""
        if self.busy():
            self._show("The conversion is still running; it closes when done.", error=False)
            return
        super().reject()


def open_for_run(parent: QWidget, record: Any, current: FullyConvDialog | None = None
                 ) -> FullyConvDialog:
    """Open the dialog for a run record (``run_dir``, ``name``); a running one is raised instead.

    Returns:
        The dialog shown (keep it: pass it back as ``current`` next time).
    """
    if current is not None and current.busy():
        current.raise_()
        return current
    if current is not None:
        current.deleteLater()
    dialog = FullyConvDialog(record.run_dir, record.name, parent)
    dialog.open()
    return dialog
