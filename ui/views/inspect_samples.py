"""Inspect > Samples: a gallery of a run's recorded samples, to find the mislabelled ones.

The rows come from the run's per-sample records (:func:`cnnlab.runs.read_samples`):
sorted by loss, wrong-and-confident, ambiguous or forgotten, filtered by true
and predicted class and split. The images are the run's data as the session
loaded it (the run's spec through ``load_data``: folder files by path, array
sources rebuilt), fetched in the worker with their Grad-CAM overlays on
demand. Selecting a thumbnail plots that sample's loss over the epochs; the
selection can be excluded from training or relabelled, which the view only
asks for (:attr:`SamplesPanel.revision_requested`): the document applies it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab.inspect import Session
from cnnlab.runs import SAMPLE_SORTS, SampleRow, SampleTable
from cnnlab.ui.views.inspect_widgets import Thumbnails, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

SORT_TITLES = {"loss": "highest loss", "wrong-confident": "wrong and confident",
               "ambiguous": "most ambiguous", "forgotten": "most often forgotten"}
SPLITS = (("validation", "val"), ("training sample", "train"), ("both", None))
ANY = "any class"
LIMIT = 96
THUMB = 64
CURVE_HINT = "Select a sample to see its loss over the epochs"
NO_RUN_TEXT = "A model file has no per-sample records: load a run to see its samples."


def gallery_images(session: Session, rows: list[SampleRow], cam: bool) -> dict[str, Any]:
    """``{id: (image, overlay or None)}`` of ``rows`` from the session's data (in the worker).

    A sample is found at its recorded position when the id there matches, else
    by its id; one that the data no longer hold is left out.
    """
    data = session.data
    out: dict[str, Any] = {}
    if data is None:
        return out
    for split in ("val", "train"):
        wanted = [r for r in rows if r.split == split]
        if not wanted:
            continue
        ids = data.ids(split)
        where = {sample: i for i, sample in enumerate(ids)}
        found = {}
        for r in wanted:
            i = r.index if r.index < len(ids) and ids[r.index] == r.id else where.get(r.id)
            if i is not None:
                found[r.id] = i
        positions = np.array(sorted(set(found.values())), dtype=np.int64)
        if not len(positions):
            continue
        x = np.concatenate([b.numpy() for b, _ in data.subset_dataset(split, positions, 64)])
        at = {int(p): k for k, p in enumerate(positions)}
        for sample, i in found.items():
            out[sample] = (x[at[i]], _overlay(session, x[at[i]]) if cam else None)
    return out


def _overlay(session: Session, image: np.ndarray) -> np.ndarray | None:
    from cnnlab.inspect import gradcam, overlay

    try:
        return overlay(image, gradcam(session.model, image))
    except Exception:  # noqa: BLE001 - a model Grad-CAM cannot explain shows the image alone
        return None


def load_table(session: Session) -> SampleTable:
    """The run's records (in the worker)."""
    from cnnlab.runs import read_samples

    return read_samples(session.run_dir)


def caption(r: SampleRow) -> str:
    """Two lines under a thumbnail: the classes, then the loss and confidence."""
    classes = r.true if r.true == r.predicted else f"{r.true} \u2192 {r.predicted}"
    return f"{classes}\nloss {r.loss:.2f}, {r.confidence:.0%}"


def details(r: SampleRow) -> str:
    """The selected sample in words."""
    learned = f"first learned in epoch {r.first_learned}" if r.first_learned else "never learned"
    where = r.file or f"sample {r.id} of the source"
    return (f"{where} ({'validation' if r.split == 'val' else 'training'} sample {r.index}): "
            f"true {r.true}, predicted {r.predicted} ({r.confidence:.0%}), loss {r.loss:.3f}; "
            f"{learned}, forgotten {r.forgotten} time(s).")


class SamplesPanel(QWidget):
    """The gallery, its filters, one sample's loss curve and the revision buttons.

    Signals:
        revision_requested(dict): ``{"exclude": [ids]}`` or ``{"relabel": {id: class}}``.

    """

    revision_requested = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.table: SampleTable | None = None
        self.rows: list[SampleRow] = []
        self.images: dict[str, Any] = {}  # id -> (image, Grad-CAM overlay or None)
        self.total = 0
        self.origin = ""  # the confusion cell the filters came from, in words
        self.rows_shown: list[SampleRow] = []  # the rows the gallery's items index
        self._pending = False  # refresh once the running job has ended
        self._reload = False  # read the new session's records once the running job has ended
        self.worker = Worker(self)
        self.worker.result.connect(self._result)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self._controls()
        self.gallery = Thumbnails(THUMB)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.gallery.setGridSize(QSize(THUMB + 66, THUMB + 44))  # captions of two lines
        self.gallery.setUniformItemSizes(True)
        self.gallery.itemSelectionChanged.connect(self._selection_changed)
        self.curve = pg.PlotWidget(background="w")
        self.curve.setLabel("bottom", "epoch")
        self.curve.setLabel("left", "loss of the selected sample")
        self.curve.setMinimumWidth(260)
        self.detail = note_label("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.note = note_label("Load a run to see its samples.")
        self._lay_out()

    def _controls(self) -> None:
        self.sort_box = QComboBox()
        for key in SAMPLE_SORTS:
            self.sort_box.addItem(SORT_TITLES.get(key, key), key)
        self.true_box, self.pred_box = QComboBox(), QComboBox()
        self.split_box = QComboBox()
        for title, split in SPLITS:
            self.split_box.addItem(title, split)
        self.cam = QCheckBox("Grad-CAM overlay")
        self.cam.setToolTip("Show where the model looked (Grad-CAM of the predicted class)")
        for box in (self.sort_box, self.split_box):
            box.currentIndexChanged.connect(lambda _i: self.refresh())
        for box in (self.true_box, self.pred_box):
            box.currentIndexChanged.connect(self._classes_changed)
        self.cam.toggled.connect(lambda _on: self.refresh())
        self.exclude_button = QPushButton("Exclude from training")
        self.exclude_button.clicked.connect(self.exclude_selection)
        self.relabel_button = QPushButton("Relabel as\u2026")
        self.relabel_menu = QMenu(self.relabel_button)
        self.relabel_button.setMenu(self.relabel_menu)
        self._set_actions_enabled(False)

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Sort by"), self.sort_box, QLabel("true"), self.true_box,
                             QLabel("predicted"), self.pred_box, QLabel("split"),
                             self.split_box, self.cam))
        middle = QHBoxLayout()
        middle.addWidget(self.gallery, 3)
        side = QVBoxLayout()
        side.addWidget(self.curve, 1)
        side.addWidget(self.detail)
        side.addLayout(row(self.exclude_button, self.relabel_button))
        middle.addLayout(side, 2)
        layout.addLayout(middle, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model: read its run's records in the worker."""
        self.session, self.table, self.rows, self.images = session, None, [], {}
        self.rows_shown = []
        self.gallery.clear()
        self.curve.clear()
        self.curve.setTitle(CURVE_HINT, color="#666", size="9pt")
        self.detail.setText("")
        self.origin = ""
        self._set_actions_enabled(False)
        self._pending = self._reload = False
        if session.run_dir is None:
            self.note.setText(NO_RUN_TEXT)
            return
        if self.worker.running:  # the last session's job: its result is dropped
            self._reload = True
            return
        self._start(lambda: (session, load_table(session)),
                    "Reading the run's per-sample records...")

    def show_cell(self, true: str, predicted: str, origin: str = "") -> bool:
        """Filter the gallery to one confusion cell (class names); False without records.

        Args:
            true: True class name.
            predicted: Predicted class name.
            origin: Where the cell was clicked, said above the gallery's summary.

        """
        if self.table is None:
            return False
        self.origin = origin
        self._select_text(self.true_box, true)
        self._select_text(self.pred_box, predicted)
        self.refresh()
        return True

    def refresh(self) -> None:
        """Sort and filter the rows, then fetch the images still missing (in the worker)."""
        if self.table is None or self.session is None:
            return
        if self.worker.running:
            self._pending = True
            return
        table, split = self.table, self.split_box.currentData()
        true, pred = (b.currentData() for b in (self.true_box, self.pred_box))
        rows = table.rows(self.sort_box.currentData(), true, pred, split)
        self.total = len(rows)
        self.rows = rows[:LIMIT]
        cam = self.cam.isChecked()
        missing = [r for r in self.rows if r.id not in self.images
                   or (cam and self.images[r.id][1] is None)]
        if not missing:
            self._fill()
            return
        session = self.session
        self._start(lambda: (session, gallery_images(session, missing, cam)),
                    f"Fetching {len(missing)} images" + (" and their Grad-CAM..." if cam
                                                         else "..."))

    def selected_ids(self) -> list[str]:
        """The ids of the selected thumbnails, in gallery order."""
        chosen = {int(item.data(Qt.ItemDataRole.UserRole)) for item in self.gallery.selectedItems()}
        shown = self.rows_shown
        return [shown[i].id for i in sorted(chosen) if i < len(shown)]

    def exclude_selection(self) -> bool:
        """Ask for the selected samples to be left out of training."""
        ids = self.selected_ids()
        if not ids:
            self.note.setText("Select one or more samples first.")
            return False
        self.revision_requested.emit({"exclude": ids})
        self.note.setText(f"Asked to exclude {len(ids)} sample(s) from training "
                          "(data.exclude); the next run trains without them.")
        return True

    def relabel_selection(self, name: str) -> bool:
        """Ask for the selected samples to get class ``name``."""
        ids = self.selected_ids()
        if not ids or self.table is None or name not in self.table.class_names:
            self.note.setText("Select one or more samples first.")
            return False
        self.revision_requested.emit({"relabel": {sample: name for sample in ids}})
        self.note.setText(f"Asked to relabel {len(ids)} sample(s) as {name} (data.relabel); "
                          "the next run uses the new label.")
        return True

    def _start(self, job: Any, text: str) -> None:
        self.progress.setVisible(True)
        self.note.setText(text)
        call_in_thread(self.worker, job)

    def _result(self, value: tuple) -> None:
        session, result = value
        if session is not self.session:
            return
        if isinstance(result, SampleTable):
            self._set_table(result)
        else:
            self.images.update(result)
            self._fill()

    def _failed(self, message: str) -> None:
        self.progress.setVisible(False)
        if self._reload:
            return
        if self.table is None:
            self.note.setText(f"No samples to show: {message}. Runs record their samples "
                              "from this version on; train the experiment again to see them.")
        else:
            self.note.setText(f"Cannot show the samples: {message}")

    def _finished(self) -> None:
        self.worker.wait(1.0)  # the thread emitted this as its last act: it ends at once
        self.progress.setVisible(self.worker.running)
        if self._reload and self.session is not None:
            self.set_session(self.session)
        elif self._pending:
            self._pending = False
            self.refresh()

    def _set_table(self, table: SampleTable) -> None:
        self.table = table
        for box in (self.true_box, self.pred_box):
            box.blockSignals(True)
            box.clear()
            box.addItem(ANY, None)
            for name in table.class_names:
                box.addItem(name, name)
            box.blockSignals(False)
        self.relabel_menu.clear()
        for name in table.class_names:
            self.relabel_menu.addAction(name, lambda n=name: self.relabel_selection(n))
        self._pending = True  # fetched once this job's finished signal arrives

    def _fill(self) -> None:
        keep = set(self.selected_ids())
        current = self.gallery.currentItem()
        current_id = (self.rows_shown[int(current.data(Qt.ItemDataRole.UserRole))].id
                      if current is not None and self.rows_shown else None)
        self.rows_shown = list(self.rows)
        cam = self.cam.isChecked()
        shown, captions, indices = [], [], []
        for i, r in enumerate(self.rows):
            image, overlay = self.images.get(r.id, (None, None))
            if image is None:
                continue
            shown.append(overlay if cam and overlay is not None else image)
            captions.append(caption(r))
            indices.append(i)
        self.gallery.blockSignals(True)
        self.gallery.set_images(shown, captions, indices)
        for k, i in enumerate(indices):  # what was selected stays selected
            sample = self.rows[i].id
            if sample == current_id:
                self.gallery.setCurrentRow(k)
            self.gallery.item(k).setSelected(sample in keep)
        self.gallery.blockSignals(False)
        self._set_actions_enabled(bool(self.selected_ids()))
        self.note.setText(self._summary(len(shown)))

    def _summary(self, count: int) -> str:
        table = self.table
        if table is None:
            return ""
        if not self.total:
            return "No recorded sample matches these filters."
        first = f"the first {count} of {self.total}" if self.total > count else f"all {count}"
        missing = len(self.rows) - count
        gone = f"; {missing} no longer in the data" if missing else ""
        origin = f"{self.origin} " if self.origin else ""
        return (f"{origin}Showing {first} samples, {self.sort_box.currentText()} first "
                f"(epoch {table.first_epoch + table.epochs - 1} of the records{gone}). "
                "Select samples to exclude or relabel them; Ctrl/Shift-click selects more.")

    def _selection_changed(self) -> None:
        ids = self.selected_ids()
        self._set_actions_enabled(bool(ids))
        item = self.gallery.currentItem()
        if item is None or not item.isSelected() or self.table is None:
            return
        r = self.rows_shown[int(item.data(Qt.ItemDataRole.UserRole))]
        curve = self.table.loss_curve(r.id)
        epochs = list(range(self.table.first_epoch, self.table.first_epoch + len(curve)))
        self.curve.clear()
        self.curve.plot(epochs, curve, pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                        symbolSize=6, symbolBrush="#1f77b4")
        self.curve.setTitle(r.id, color="#222", size="9pt")
        self.detail.setText(details(r))

    def _classes_changed(self, _index: int) -> None:
        self.origin = ""  # no longer the clicked confusion cell
        self.refresh()

    def _set_actions_enabled(self, on: bool) -> None:
        self.exclude_button.setEnabled(on)
        self.relabel_button.setEnabled(on)

    @staticmethod
    def _select_text(box: QComboBox, text: str) -> None:
        index = box.findData(text)
        box.blockSignals(True)
        box.setCurrentIndex(max(index, 0))
        box.blockSignals(False)
