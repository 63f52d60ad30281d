"""The inspect view: look inside a saved model (a run's or a file's).

The model is always loaded from a saved artifact (a run's ``model.keras`` or
a user's ``.keras``/``.h5`` file, in safe mode), never a live training model.
Tabs: filters (replayed over the epochs), feature maps, attribution maps,
fantasy images, deep dream, evaluation and the samples gallery (a click on a
confusion cell opens it on that cell). Every computation runs in a worker
thread and errors appear in the view.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cnnlab.inspect import Session, open_model_file, open_run, runs_with_models
from cnnlab.runs import RunStore
from cnnlab.ui.views.inspect_attribution import AttributionPanel
from cnnlab.ui.views.inspect_dream import DreamPanel
from cnnlab.ui.views.inspect_evaluation import EvaluationPanel
from cnnlab.ui.views.inspect_fantasy import FantasyPanel
from cnnlab.ui.views.inspect_features import FeaturesPanel
from cnnlab.ui.views.inspect_filters import FiltersPanel
from cnnlab.ui.views.inspect_samples import SamplesPanel
from cnnlab.ui.views.inspect_score_map import ScoreMapPanel
from cnnlab.ui.views.inspect_source import (
    IMAGE_FILTER,
    IMAGE_SUFFIXES,
    SourceBar,
    read_image,
)
from cnnlab.ui.views.inspect_widgets import Thumbnails, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

INPUT_TABS = ("Feature maps", "Attribution", "Deep dream")


class InspectView(QWidget):
    """Pick a run or a model file; see its filters, maps, attributions, fantasies, errors.

    Args:
        store: The window's run store (only read here).
        parent: The parent widget.

    Signals:
        revision_requested(dict): The samples gallery asks to revise the
            experiment's data: ``{"exclude": [ids]}`` or ``{"relabel": {id: class}}``.

    """

    revision_requested = Signal(dict)
    CELL_HINT = "Click: this cell's recorded samples in the Samples tab."

    def __init__(self, store: RunStore, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.session: Session | None = None
        self.image: np.ndarray | None = None
        self.worker = Worker(self)
        self.worker.result.connect(self._loaded)
        self.worker.failed.connect(lambda m: self._show(f"Cannot load the model: {m}"))
        self.source = SourceBar()
        self.source.run_requested.connect(self.load_run)
        self.source.file_requested.connect(self.load_file)
        self.filters = FiltersPanel()
        self.features = FeaturesPanel()
        self.attribution = AttributionPanel()
        self.fantasy = FantasyPanel()
        self.dream = DreamPanel()
        self.score_map = ScoreMapPanel()
        self.evaluation = EvaluationPanel()
        self.gallery = SamplesPanel()
        self.gallery.revision_requested.connect(self.revision_requested)
        self.evaluation.heatmap.cell_clicked.connect(self.open_cell)
        self.evaluation.heatmap.click_hint = self.CELL_HINT
        self.panels = {"Filters": self.filters, "Feature maps": self.features,
                       "Attribution": self.attribution, "Fantasy": self.fantasy,
                       "Deep dream": self.dream, "Score map": self.score_map,
                       "Evaluation": self.evaluation, "Samples": self.gallery}
        self.tabs = QTabWidget()
        for title, panel in self.panels.items():
            self.tabs.addTab(panel, title)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.samples = Thumbnails(48, strip=True)
        self.samples.picked.connect(self.pick_sample)
        self.input_row = self._input_row()
        self.message = note_label("Pick a run and press Load run, or open a model file.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.source)
        layout.addWidget(self.input_row)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.setAcceptDrops(True)
        self._tab_changed(self.tabs.currentIndex())
        self.refresh_runs()

    def _input_row(self) -> QWidget:
        box = QWidget()
        open_image = QPushButton("Open image...")
        open_image.clicked.connect(self._open_image)
        layout = row(QLabel("Input"), self.samples, open_image, stretch_last=False)
        layout.setStretch(1, 1)
        layout.setContentsMargins(0, 0, 0, 0)
        box.setLayout(layout)
        box.setToolTip("Click a sample, open an image, or drop an image file on the view.")
        return box

    def refresh_runs(self) -> None:
        """List the runs that saved a model."""
        try:
            runs = runs_with_models(self.store)
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            self._show(f"Cannot read the runs: {exc}")
            return
        self.source.set_runs(runs)

    def busy(self) -> bool:
        """True while the view or one of its panels computes in the background."""
        panels = self.panels.values()
        return (self.worker.running or any(p.worker.running for p in panels)
                or any(p.retry.isActive() for p in (self.features, self.attribution)))

    def stop(self) -> None:
        """Ask a running fantasy ascent or dream to stop (other jobs are short and finish)."""
        self.fantasy.stop()
        self.dream.stop()

    def refresh(self) -> None:
        """Re-read the loaded run's filter snapshots (the training view may call this)."""
        self.filters.refresh()

    def load_run(self, run_id: str | None = None) -> bool:
        """Load a run's saved model (the chosen one when ``run_id`` is None) in the worker."""
        run_id = run_id or self.source.run_box.currentData()
        if not run_id:
            self._show("No run with a saved model yet.")
            return False
        store = self.store
        return self._start_load(f"run {run_id}", lambda: open_run(store, run_id))

    def load_file(self, path: str | os.PathLike) -> bool:
        """Load a user's ``.keras``/``.h5`` model file in the worker (safe mode)."""
        return self._start_load(Path(path).name, lambda: open_model_file(path))

    def _start_load(self, what: str, job: Any) -> bool:
        if self.worker.running:
            self._show("Still loading the last model; wait a moment.")
            return False
        self._show(f"Loading {what}...")
        return call_in_thread(self.worker, job)

    def _loaded(self, session: Session) -> None:
        self.session = session
        for panel in self.panels.values():
            panel.set_session(session)
        n = len(session.samples)
        captions = [session.sample_caption(i) for i in range(n)]
        self.samples.set_images(list(session.samples), captions)
        self._show(" ".join([f"Loaded {session.title}: {len(session.layer_ids())} layers, "
                             f"input {session.input_shape}.", *session.notes]))
        if n:
            self.pick_sample(0)

    def pick_sample(self, index: int) -> None:
        """Use sample ``index`` of the strip as the input."""
        if self.session is not None and 0 <= index < len(self.session.samples):
            self.samples.setCurrentRow(index)
            caption = self.samples.item(index).text() if self.samples.item(index) else ""
            self.set_input(self.session.samples[index], f"sample {index} ({caption})")

    def set_input(self, image: np.ndarray, label: str = "") -> None:
        """Use an image already shaped for the model as the input of the maps and the dream."""
        self.image = np.asarray(image, dtype=np.float32)
        self.features.set_input(self.image)
        self.attribution.set_input(self.image)
        self.dream.set_input(self.image, label)

    def open_image(self, path: str | os.PathLike) -> bool:
        """Use an image file (fitted to the model's input) as the input."""
        if self.session is None:
            self._show("Load a model before choosing an image.")
            return False
        try:
            image = self.session.fit(read_image(path))
        except Exception as exc:  # noqa: BLE001 - bad image files are shown, not raised
            self._show(f"Cannot use {Path(path).name}: {exc}")
            return False
        self.samples.clearSelection()
        self.set_input(image, Path(path).name)
        self._show(f"Input: {Path(path).name}")
        return True

    def select_layer(self, block_id: str) -> bool:
        """Show the feature maps of a block (e.g. clicked on the canvas)."""
        self.tabs.setCurrentWidget(self.features)
        return self.features.select_layer(block_id)

    def open_cell(self, true: int, predicted: int) -> bool:
        """Show the samples gallery filtered to a confusion cell (class indices).

        Returns:
            False (the Evaluation tab stays) when the run has no sample records.

        """
        names = self.evaluation.heatmap.names
        if not (0 <= true < len(names) and 0 <= predicted < len(names)):
            return False
        result = self.evaluation.result
        split = {"val": "validation"}.get(result.split, result.split) if result else "evaluated"
        origin = (f"From the Evaluation's {split} matrix (true {names[true]}, predicted "
                  f"{names[predicted]}): the run's recorded samples of that cell.")
        if not self.gallery.show_cell(names[true], names[predicted], origin):
            return False
        self.tabs.setCurrentWidget(self.gallery)
        return True

    def _open_image(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open an input image", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def _tab_changed(self, index: int) -> None:
        self.input_row.setVisible(self.tabs.tabText(index) in INPUT_TABS)

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Accept image and model files."""
        if _dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """An image becomes the input; a model file is loaded."""
        path = _dropped_path(event)
        if path is None:
            return
        event.acceptProposedAction()
        if path.suffix.lower() in (".keras", ".h5"):
            self.load_file(path)
        else:
            self.open_image(path)

    def _show(self, text: str) -> None:
        self.message.setText(text)


def _dropped_path(event: Any) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    for url in urls:
        path = Path(url.toLocalFile())
        if path.suffix.lower() in (*IMAGE_SUFFIXES, ".keras", ".h5"):
            return path
    return None
