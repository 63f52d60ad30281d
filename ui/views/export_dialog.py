"""Export one trained run: pick a format and a target, export in the background, verify.

The export itself is :func:`cnnlab.modelio.export.export_run`: it writes to a
temporary path, reloads the export, compares its predictions with the trained
model and only then replaces the target, so a failed export leaves nothing
half-written. A target that exists is replaced only after the user agreed,
and a folder that is not a SavedModel the lab wrote is never replaced. ONNX
and LiteRT need optional extras: choosing one whose extra is missing says so
in one line (how to install it), and Export refuses it. The
dialog feeds its progress bar from the export's progress callback (queued to
the GUI thread through the worker's ``event`` signal) and shows either the
files written with the verified difference, or the error.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
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

FORMATS = (
    ("keras", "Keras model (.keras)", ".keras"),
    ("h5", "Legacy HDF5 (.h5)", ".h5"),
    ("savedmodel", "TensorFlow SavedModel (folder)", ""),
    ("python", "Python script (.py)", ".py"),
    ("onnx", "ONNX (.onnx)", ".onnx"),
    ("litert", "LiteRT / TensorFlow Lite (.tflite)", ".tflite"),
)
SUFFIX = {name: suffix for name, _label, suffix in FORMATS}
STAGES = {"writing": "Writing…", "converting": "Converting…", "verifying": "Verifying…",
          "done": "Done"}
HINT = "The export is reloaded and compared with the trained model before it replaces anything."
RUN_MODEL = "model.keras"


def file_stem(name: str) -> str:
    """A file-name-safe stem for a run name (``"My run #2"`` -> ``my_run_2``)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    stem = "_".join(part for part in stem.split("_") if part)
    return stem or "model"


def default_target(run_dir: Path, name: str, fmt: str) -> Path:
    """Where an export goes by default: beside the run's own files, named after the run."""
    stem = file_stem(name)
    if fmt == "savedmodel":
        return run_dir / f"{stem}_savedmodel"
    target = run_dir / f"{stem}{SUFFIX[fmt]}"
    if target.name == RUN_MODEL:
        target = run_dir / f"{stem}_export{SUFFIX[fmt]}"
    return target


def with_format(path: Path, fmt: str) -> Path:
    """``path`` renamed for ``fmt``: its suffix swapped (SavedModel: a folder without one)."""
    suffixes = (".keras", ".h5", ".hdf5", ".py", ".onnx", ".tflite")
    stem = path.stem if path.suffix.lower() in suffixes else path.name
    if fmt == "savedmodel":
        return path.with_name(stem if stem.endswith("_savedmodel") else f"{stem}_savedmodel")
    stem = stem.removesuffix("_savedmodel") or "model"
    return path.with_name(stem + SUFFIX[fmt])


def extra_note(fmt: str) -> str | None:
    """The sentence for a format whose optional extra is missing (None: it is installed)."""
    from cnnlab.modelio import missing_extra

    missing = missing_extra(fmt)
    return f"{missing[0].upper()}{missing[1:]}." if missing else None


def result_text(result) -> str:
    """The success message: the files written and how closely the export was verified."""
    where = "Folder" if result.format == "savedmodel" else "File"
    return (f"Exported ({result.format}) in {result.seconds:.1f} s.\n"
            f"{where}: {result.path}\n"
            f"Manifest: {result.manifest_path}\n"
            f"Verified on {result.samples} samples: max |difference| = "
            f"{result.max_abs_diff:.3g}")


class ExportDialog(QDialog):
    """Export the run in ``run_dir`` (its ``model.keras``) to a verified file or folder.

    Args:
        run_dir: The run folder (``model.keras``, ``spec.json``, ``metadata.json``).
        name: The run's display name, for the default file name.
        parent: The parent widget.

    """

    def __init__(self, run_dir: str | Path, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export “{name}”")
        self.setObjectName("export_dialog")
        self.run_dir = Path(run_dir)
        self.run_name = name
        self.result = None
        self.worker = Worker(self)
        self.worker.event.connect(self._progress)
        self.worker.result.connect(self._succeeded)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(lambda: self._set_busy(False))
        self._build()
        self.resize(640, 0)

    def _build(self) -> None:
        self.format_box = QComboBox()
        for name, label, _suffix in FORMATS:
            self.format_box.addItem(label, name)
        self.format_box.currentIndexChanged.connect(lambda _i: self._format_changed())
        self.path_edit = QLineEdit(str(default_target(self.run_dir, self.run_name, "keras")))
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(lambda _c=False: self.browse())
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_box)
        form.addRow("Save to:", row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.message = QLabel(HINT)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(lambda _c=False: self.export())
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    @property
    def fmt(self) -> str:
        """The chosen format's name (``keras``, ``h5``, ``savedmodel``, ``python``, ...)."""
        return self.format_box.currentData()

    def set_format(self, fmt: str) -> None:
        """Choose a format (the target's name follows)."""
        self.format_box.setCurrentIndex(self.format_box.findData(fmt))

    def _format_changed(self) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(with_format(Path(text).expanduser(), self.fmt)))
        missing = extra_note(self.fmt)
        self._show(missing or HINT, error=bool(missing))

    def browse(self) -> None:
        """Ask for the target file (or SavedModel folder name)."""
        path = ask_target(self, self.fmt, self.path_edit.text().strip())
        if path:
            self.path_edit.setText(path)

    def export(self) -> bool:
        """Start the export in the background; False (with a message) when it cannot start."""
        from cnnlab.modelio import export_run

        missing = extra_note(self.fmt)
        if missing:
            return self._show(missing, error=True)
        text = self.path_edit.text().strip()
        if not text:
            return self._show("Choose where to save the export.", error=True)
        out = Path(text).expanduser()
        if out.resolve() == (self.run_dir / RUN_MODEL).resolve():
            return self._show("That is the run's own model; choose another name.", error=True)
        run_dir, fmt = self.run_dir, self.fmt
        force = self._replace_allowed(fmt, out)
        if force is None:
            return False
        started = self.worker.start(
            lambda sink, _control: export_run(run_dir, fmt, out, force=force,
                                              progress=lambda s, f: sink((s, f))),
            name="cnnlab-export")
        if not started:
            return self._show("An export is already running.", error=True)
        self.result = None
        self._set_busy(True)
        self.progress.setValue(0)
        self._show(f"Exporting to {out}…", error=False)
        return True

    def _replace_allowed(self, fmt: str, out: Path) -> bool | None:
        """False when nothing is in the way, True when the user agreed to replace it.

        None (with the message shown) when the target may not be replaced (a
        folder that is not the lab's SavedModel) or the user said no.
        """
        from cnnlab import CnnlabError
        from cnnlab.modelio import check_targets, existing_targets

        existing = existing_targets(fmt, out)
        if not existing:
            return False
        try:
            check_targets(fmt, out, force=True)
        except CnnlabError as exc:
            self._show(f"{exc}\nNothing was replaced.", error=True)
            return None
        names = "\n".join(str(p) for p in existing)
        if not dialogs.ask(self, "Replace the export?",
                           f"These already exist:\n{names}\n\nReplace them with the new "
                           "export (after it passed verification)?"):
            self._show("Nothing was replaced; choose another name to keep both.", error=False)
            return None
        return True

    def _progress(self, event: object) -> None:
        stage, fraction = event
        self.progress.setValue(round(100 * max(0.0, min(1.0, float(fraction)))))
        self.progress.setFormat(f"{STAGES.get(stage, stage)} %p%")

    def _succeeded(self, result) -> None:
        self.result = result
        self.progress.setValue(100)
        self._show(result_text(result), error=False)

    def _failed(self, text: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._show(f"Export failed: {text}\nNothing was replaced.", error=True)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.format_box, self.path_edit, self.browse_button,
                       self.export_button):
            widget.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not busy)

    def _show(self, text: str, error: bool) -> bool:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)
        return not error

    def busy(self) -> bool:
        """True while an export runs."""
        return self.worker.running

    def reject(self) -> None:
        """Close, except while the export runs (it cannot be interrupted half-way)."""
        if self.busy():
            self._show("The export is still running; it closes when done.", error=False)
            return
        super().reject()


def ask_target(parent: QWidget, fmt: str, suggestion: str) -> str | None:
    """Ask where to export (a file; for SavedModel the name of the folder to create)."""
    if fmt == "savedmodel":
        caption, filters = "Export as SavedModel folder", "SavedModel folder (*)"
    else:
        label = dict((n, lab) for n, lab, _s in FORMATS)[fmt]
        caption, filters = "Export model", f"{label.split(' (')[0]} (*{SUFFIX[fmt]})"
    path, _ = QFileDialog.getSaveFileName(
        parent, caption, suggestion or str(Path.home()), filters,
        options=QFileDialog.Option.DontConfirmOverwrite if fmt == "savedmodel"
        else QFileDialog.Option(0))
    allowed = (".h5", ".hdf5") if fmt == "h5" else (SUFFIX[fmt],)
    if path and fmt != "savedmodel" and Path(path).suffix.lower() not in allowed:
        path += SUFFIX[fmt]
    return path or None
