"""The data panel: source and options, a labelled sample grid, class counts.

For an image folder it also shows the pre-flight check of every file
(:func:`cnnlab.data.preflight_folder`): classes and their counts, and in a
scrollable list every file that cannot be used and every class left out,
each with the reason. "Check data…" opens the health report of any source
(:mod:`cnnlab.ui.views.data_health`), whose "Exclude from training" edits
``data.exclude`` through ``changed`` like any other edit (undoable).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnlab.data import preflight_text, skipped_rows, split_rows
from cnnlab.spec import DataSpec, ShapesSpec, section_params
from cnnlab.ui.param_form import ParamForm
from cnnlab.ui.views.plots import image_view, make_plot, show_image, tile_images
from cnnlab.ui.views.worker import Worker, call_in_thread

GRID = 16
PREVIEW_FOLDER_SHAPE = (64, 64, 3)


def _load_samples(data: DataSpec) -> tuple[np.ndarray, list[str], list[str], np.ndarray, list]:
    """Return (images, their labels, class names, counts per class, skipped-file rows)."""
    if data.source == "shapes":
        from cnnlab.data import generate_shapes

        s = data.shapes
        x, y = generate_shapes(s.classes, s.samples, s.image_size, s.channels, s.noise, s.seed)
        names = list(s.classes)
        counts = np.bincount(y, minlength=len(names))
        return x[:GRID], [names[i] for i in y[:GRID]], names, counts, []
    from cnnlab.data import class_counts, load_data

    # Folders need a fixed size; other sources keep theirs. Scaled to [0, 1] for display;
    # bad files are skipped here (the folder check lists them).
    shape = PREVIEW_FOLDER_SHAPE if data.source == "folder" else (None, None, 3)
    preview = dataclasses.replace(data, normalization="scale", bad_files="skip")
    splits = load_data(preview, shape, 0)
    x, y = splits.samples("train", GRID)
    names = list(splits.class_names)
    counts = class_counts(splits.y_train, splits.num_classes)
    return x, [names[int(i)] for i in y], names, counts, split_rows(splits)


class DataPanel(QWidget):
    """Edit the experiment's ``data`` section; emits ``changed(new DataSpec)``."""

    changed = Signal(object)
    folder_chosen = Signal(object)

    def __init__(self, data: DataSpec | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data or DataSpec()
        self.form = ParamForm(section_params(DataSpec), path="data")
        self.shapes_form = ParamForm(section_params(ShapesSpec), path="data.shapes")
        self.form.edited.connect(lambda name, _v: self._edited(self.form, name))
        self.shapes_form.edited.connect(lambda name, _v: self._edited(self.shapes_form, name))
        self.grid, self.grid_item = image_view()
        self.grid.setMinimumSize(300, 300)
        self.labels = QLabel("")
        self.labels.setWordWrap(True)
        self.counts_plot = make_plot("Samples per class", "count", "class")
        self.counts_plot.setMinimumHeight(200)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Data</b>"))
        left.addWidget(self.form)
        left.addWidget(self._build_health_button())
        left.addLayout(self._build_check())
        left.addWidget(QLabel("<b>Shapes dataset</b>"))
        left.addWidget(self.shapes_form)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.grid, 2)
        right.addWidget(self.labels)
        right.addWidget(self.counts_plot, 1)
        right.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.worker = Worker(self)
        self.worker.result.connect(self._show_samples)
        self.worker.failed.connect(lambda m: self.message.setText(f"Cannot load samples: {m}"))
        self.checker = Worker(self)
        self.checker.result.connect(self._checked)
        self.checker.failed.connect(self._check_failed)
        self.checker.finished.connect(self._update_check_button)
        self._use_checked: str | None = None
        self.seed = 0  # the experiment's training.seed: the split the health report names
        self.health_dialog = None
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.update_samples)
        self.set_value(self.data)

    def _build_health_button(self) -> QPushButton:
        self.health_button = QPushButton("Check data…")
        self.health_button.setToolTip("Class balance, image sizes, mean images, duplicates, "
                                      "conflicting labels, leaks across splits and bad files")
        self.health_button.clicked.connect(lambda _c=False: self.open_health())
        return self.health_button

    def set_seed(self, seed: int) -> None:
        """Use the experiment's seed for the splits the health report names."""
        self.seed = int(seed)

    def open_health(self):
        """Open the health report of the current data section and start its check."""
        from cnnlab.ui.views.data_health import DataHealthDialog

        old = self.health_dialog
        if old is not None:
            old.close()
        names = {f.name for f in dataclasses.fields(self.data)}
        dialog = DataHealthDialog(self.data, self.seed, parent=self,
                                  can_revise={"exclude", "relabel"} <= names)
        dialog.exclude_requested.connect(self.exclude_samples)
        dialog.relabel_requested.connect(self.relabel_samples)
        self.health_dialog = dialog
        dialog.show()
        dialog.start()
        return dialog

    def exclude_samples(self, ids: list[str]) -> None:
        """Add sample ids to ``data.exclude`` and emit the new data section (undoable)."""
        current = list(getattr(self.data, "exclude", None) or [])
        new = dataclasses.replace(self.data, exclude=current + [i for i in ids
                                                                if i not in current])
        self._revise(new)

    def relabel_samples(self, mapping: dict[str, str]) -> None:
        """Add ``{sample id: class name}`` to ``data.relabel`` and emit the new data section."""
        current = dict(getattr(self.data, "relabel", None) or {})
        self._revise(dataclasses.replace(self.data, relabel={**current, **mapping}))

    def _revise(self, new: DataSpec) -> None:
        if new != self.data:
            self.data = new
            self._show_forms()
            self.changed.emit(new)
            self._debounce.start()

    def _build_check(self) -> QVBoxLayout:
        self.check_button = QPushButton("Check folder")
        self.check_button.setToolTip("Decode every file of the image folder and list the ones "
                                     "that cannot be used")
        self.check_button.clicked.connect(lambda _c=False: self.check_folder())
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("Image folder: one sub-folder per class. Choose source "
                                       "“folder”, or drop a folder onto the window.")
        self.report.setMinimumHeight(140)
        self.skipped_title = QLabel("")
        self.skipped = QTreeWidget()
        self.skipped.setHeaderLabels(["File or class", "Reason"])
        self.skipped.setRootIsDecorated(False)
        self.skipped.setAlternatingRowColors(True)
        self.skipped.setMinimumHeight(120)
        box = QVBoxLayout()
        box.addWidget(QLabel("<b>Image folder check</b>"))
        box.addWidget(self.check_button)
        box.addWidget(self.report)
        box.addWidget(self.skipped_title)
        box.addWidget(self.skipped)
        self._show_skipped([])
        return box

    def _show_skipped(self, rows: list[tuple[str, str, str]]) -> None:
        """List every skipped file and left-out class with its reason (hidden when none)."""
        self.skipped.clear()
        for shown, why, path in rows:
            item = QTreeWidgetItem([shown, why])
            item.setToolTip(0, path)
            item.setToolTip(1, why)
            self.skipped.addTopLevelItem(item)
        self.skipped.resizeColumnToContents(0)
        self.skipped_title.setText(f"Skipped when data.bad_files is “skip” ({len(rows)}):")
        self.skipped_title.setVisible(bool(rows))
        self.skipped.setVisible(bool(rows))

    def set_value(self, data: DataSpec) -> None:
        """Show this data section (no signal) and reload the samples."""
        self._forget_skipped(data)
        self.data = data
        self._update_check_button()
        self._show_forms()
        self._debounce.start()

    def _show_forms(self) -> None:
        own = {f.name: getattr(self.data, f.name) for f in dataclasses.fields(self.data)}
        self.form.set_values(own)
        self.shapes_form.set_values(dataclasses.asdict(self.data.shapes))

    def _edited(self, form: ParamForm, name: str) -> None:
        """Field ``name`` of ``form`` applied a value: check the data section, emit."""
        try:
            shapes = ShapesSpec(**self.shapes_form.values())
            shapes.check("data.shapes")
            new = dataclasses.replace(self.data, **self.form.values(), shapes=shapes)
            new.check("data")
        except Exception as exc:  # noqa: BLE001 - SpecError, shown at the field it names
            shapes_problem = str(getattr(exc, "path", "")).startswith("data.shapes")
            owner = self.shapes_form if shapes_problem else self.form
            owner.refuse(exc, name if owner is form else None)
            return
        if new != self.data:
            self._forget_skipped(new)
            self.data = new
            self._show_forms()  # as Properties after an edit: the applied data, no old marks
            self._update_check_button()
            self.changed.emit(new)
            self._debounce.start()

    # -- image folder check -------------------------------------------------------------------
    def _forget_skipped(self, new: DataSpec) -> None:
        """Empty the list of skipped files when the data comes from somewhere else now."""
        if (new.source, new.path) != (self.data.source, self.data.path):
            self._show_skipped([])

    def _update_check_button(self) -> None:
        folder = self.data.source == "folder" and bool(self.data.path)
        self.check_button.setEnabled(folder and not self.checker.running)

    def check_folder(self, path: str | None = None, use: bool = False) -> bool:
        """Check an image folder (default: the data section's) file by file in the background.

        Args:
            path: The folder; None for the current ``data.path``.
            use: Emit ``folder_chosen(new DataSpec)`` once the check found classes.

        Returns:
            False when there is no folder to check or a check is still running.

        """
        from cnnlab.data import preflight_folder

        folder = path or (self.data.path if self.data.source == "folder" else None)
        if not folder:
            self._show_report("Choose the source “folder” and its path first.", error=True)
            return False
        if not call_in_thread(self.checker, lambda: preflight_folder(folder)):
            return False
        self._use_checked = folder if use else None
        self.check_button.setEnabled(False)
        self._show_report(f"Checking {folder}…", error=False)
        self._show_skipped([])
        return True

    def _checked(self, report) -> None:
        self._show_report(preflight_text(report), error=not report.class_names)
        self._show_skipped(skipped_rows(report))
        folder, self._use_checked = self._use_checked, None
        if folder is None:
            return
        if not report.class_names:
            self.report.appendPlainText("\nThe folder was not made the data source.")
            return
        new = dataclasses.replace(self.data, source="folder", path=str(folder))
        if new != self.data:
            self.data = new
            self.set_value(new)
            self.folder_chosen.emit(new)

    def _check_failed(self, text: str) -> None:
        self._use_checked = None
        self._show_skipped([])
        self._show_report(f"Cannot check the folder: {text}", error=True)

    def _show_report(self, text: str, error: bool) -> None:
        self.report.setStyleSheet("color: #b00020;" if error else "")
        self.report.setPlainText(text)

    @property
    def previewing(self) -> bool:
        """True while a sample preview runs or is about to (an edit re-arms it)."""
        return self.worker.running or self._debounce.isActive()

    def update_samples(self) -> None:
        """Load a few samples and the class counts in the worker thread."""
        if self.worker.running:
            self._debounce.start()
            return
        data = self.data
        call_in_thread(self.worker, lambda: _load_samples(data))

    def _show_samples(self, result: Any) -> None:
        try:
            images, labels, names, counts, skipped = result
            if skipped and not self.checker.running and not self.skipped.topLevelItemCount():
                self._show_skipped(skipped)  # a folder source opened without a check
            show_image(self.grid_item, tile_images(images, cols=4, pad=2))
            rows = [", ".join(labels[i:i + 4]) for i in range(0, len(labels), 4)]
            self.labels.setText("Labels by row: " + " | ".join(rows))
            self.counts_plot.clear()
            x = np.arange(len(names))
            self.counts_plot.addItem(pg.BarGraphItem(x=x, height=counts, width=0.7,
                                                     brush="#1f77b4"))
            self.counts_plot.getAxis("bottom").setTicks([list(zip(x, names, strict=True))])
            self.bar_heights = list(np.asarray(counts).tolist())
        except Exception as exc:  # noqa: BLE001
            self.message.setText(f"Cannot show samples: {exc}")
