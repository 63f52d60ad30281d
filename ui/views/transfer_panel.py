"""Put a pretrained base into the experiment: pick it, pick its weights and cut, insert.

The base's layer list and the insertion itself need TensorFlow, so both run in
a :class:`~cnnlab.ui.views.worker.Worker` thread (if the window is still
importing TensorFlow, Python's import lock makes the worker wait for it). The
inserted experiment reaches the document as one undoable edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.views.worker import Worker, call_in_thread

APPLICATION, FILE, PRESET = "application", "file", "preset"
WEIGHTS = (("ImageNet (Keras cache)", "imagenet"), ("random", "random"),
           ("local weights file", "file"))
MODEL_FILES = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
WEIGHT_FILES = "Weights (*.h5 *.weights.h5 *.hdf5);;All files (*)"
ERROR_STYLE = "color: #d64545;"
OK_STYLE = "color: #2e7d32;"
Layer = tuple[str, tuple[int, ...]]


def base_layers(name: str, source: str, shape: Sequence[int]) -> list[Layer]:
    """The base's layers with their output shapes (no batch axis).

    Applications and model files are built (TensorFlow); a preset's blocks
    come from the analysis.

    Raises:
        SpecError: For an unknown base or an input shape it cannot take.
        ModelFileError: When a model file cannot be read.

    """
    from cnnlab.modelio import base_model, preset_layers

    if source == PRESET:
        return preset_layers(name, shape)

    model = base_model(name, source, shape, "random", structure_only=True)
    out = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        dims = tuple(getattr(layer.output, "shape", ()))[1:]
        out.append((layer.name, tuple(int(d) if d is not None else -1 for d in dims)))
    return out


def default_cut(layers: Sequence[Layer]) -> int:
    """Index of the last layer whose output is an image (H, W, C); else the last one."""
    images = [i for i, (_name, shape) in enumerate(layers) if len(shape) == 3]
    return images[-1] if images else len(layers) - 1


def with_hint(message: str) -> str:
    """The error message, with the way out when weights are missing."""
    if "weights" in message.lower() and "random" not in message:
        message += " — choose weights 'random' or a local weights file"
    return message


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join("?" if d < 0 else str(d) for d in shape)


class BaseInserter(QWidget):
    """Base picker, weights, cut layer and the Insert button.

    Signals:
        inserted(Experiment): A base was inserted and handed to the document.
    """

    inserted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        install_wheel_guard()
        self._get: Callable[[], Any] | None = None
        self._apply: Callable[[Any, str], None] | None = None
        self._started_from: Any = None
        self._inserted_experiment: Any = None
        self._build()
        self.layers_worker = Worker(self)
        self.layers_worker.result.connect(self._show_layers)
        self.layers_worker.failed.connect(self._layers_failed)
        self.insert_worker = Worker(self)
        self.insert_worker.result.connect(self._inserted)
        self.insert_worker.failed.connect(self._insert_failed)
        self.insert_worker.finished.connect(self._insert_ended)
        self._source_changed()

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        from cnnlab import preset_names
        from cnnlab.modelio import application_names

        self.source_box = QComboBox()
        self.source_box.addItem("Keras application", APPLICATION)
        self.source_box.addItem("Model file", FILE)
        self.source_box.addItem("Preset (random weights)", PRESET)
        self.app_box = QComboBox()
        self.app_box.addItems(application_names())
        self.preset_box = QComboBox()
        self.preset_box.addItems(preset_names())
        self.file_edit, file_row = self._path_row("Choose a .keras or .h5 model file",
                                                  MODEL_FILES)
        self.weights_box = QComboBox()
        for text, value in WEIGHTS:
            self.weights_box.addItem(text, value)
        self.weights_edit, self.weights_row = self._path_row("Local weights file (.h5)",
                                                             WEIGHT_FILES)
        form = QFormLayout()
        form.addRow("Base from", self.source_box)
        form.addRow("Application", self.app_box)
        form.addRow("Preset", self.preset_box)
        form.addRow("Model file", file_row)
        form.addRow("Weights", self.weights_box)
        form.addRow("Weights file", self.weights_row)
        self.form = form
        self._build_cut_and_buttons(form)
        self.source_box.currentIndexChanged.connect(self._source_changed)
        self.weights_box.currentIndexChanged.connect(self._show_rows)
        self.app_box.currentTextChanged.connect(lambda _t: self._forget_layers())
        self.preset_box.currentTextChanged.connect(lambda _t: self._forget_layers())
        self.file_edit.editingFinished.connect(self._forget_layers)

    def _build_cut_and_buttons(self, form: QFormLayout) -> None:
        self.list_button = QPushButton("List layers")
        self.list_button.setToolTip("Build the base (in the background) to choose where to cut")
        self.list_button.clicked.connect(self.list_layers)
        self.layer_list = QListWidget()
        self.layer_list.setMinimumHeight(140)
        self.layer_status = QLabel("Cut: the last layer with an image output (default).")
        self.layer_status.setWordWrap(True)
        self.insert_button = QPushButton("Insert base")
        self.insert_button.clicked.connect(self.insert)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("<b>Pretrained base</b>"))
        box.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(QLabel("Cut after layer"))
        row.addStretch(1)
        row.addWidget(self.list_button)
        box.addLayout(row)
        box.addWidget(self.layer_list)
        box.addWidget(self.layer_status)
        self.busy = QProgressBar()  # a moving bar while the base is built
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(90)
        self.busy.setTextVisible(False)
        self.busy.hide()
        row = QHBoxLayout()
        row.addWidget(self.insert_button)
        row.addWidget(self.busy)
        row.addWidget(self.message, 1)
        box.addLayout(row)

    def _path_row(self, placeholder: str, filters: str) -> tuple[QLineEdit, QWidget]:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        button = QPushButton("Browse…")
        button.clicked.connect(lambda: self._browse(edit, filters))
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(edit, 1)
        lay.addWidget(button)
        return edit, row

    def _browse(self, edit: QLineEdit, filters: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", edit.text(), filters)
        if path:
            edit.setText(path)
            self._forget_layers()

    # -- state ------------------------------------------------------------------------------
    def set_document(self, get_experiment: Callable[[], Any],
                     apply: Callable[[Any, str], None]) -> None:
        """Read the current experiment with ``get_experiment``; insert with ``apply(new, text)``."""
        self._get, self._apply = get_experiment, apply

    def _find_document(self) -> None:
        """Without :meth:`set_document`, use the enclosing Recipe view's experiment and edits."""
        widget = self.parentWidget()
        while self._get is None and widget is not None:
            if hasattr(widget, "experiment") and hasattr(widget, "edited"):
                self.set_document(lambda v=widget: v.experiment, widget.edited.emit)
            widget = widget.parentWidget()

    def source(self) -> str:
        """``application``, ``file`` or ``preset``."""
        return self.source_box.currentData()

    def base_name(self) -> str:
        """The chosen application name, model file path or preset name."""
        if self.source() == PRESET:
            return self.preset_box.currentText()
        return self.app_box.currentText() if self.source() == APPLICATION \
            else self.file_edit.text().strip()

    def weights(self) -> str:
        """``imagenet``, ``random`` or ``file``."""
        return self.weights_box.currentData()

    def cut_at(self) -> str | None:
        """The chosen cut layer, or None for the default."""
        item = self.layer_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _source_changed(self) -> None:
        self._show_rows()
        self._forget_layers()

    def _show_rows(self) -> None:
        """Show the rows that fit the source and the weights choice."""
        app, preset = self.source() == APPLICATION, self.source() == PRESET
        for widget, shown in ((self.app_box, app), (self.preset_box, preset),
                              (self.file_edit.parentWidget(), self.source() == FILE),
                              (self.weights_box, app),
                              (self.weights_row, app and self.weights() == "file")):
            widget.setVisible(shown)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(shown)

    def _forget_layers(self) -> None:
        self.layer_list.clear()
        self.layer_status.setText("Cut: the last layer with an image output (default).")

    def _shape(self) -> tuple[int, ...]:
        from cnnlab.modelio import input_shape

        return input_shape(self._get()) if self._get is not None else (224, 224, 3)

    # -- layer list -------------------------------------------------------------------------
    def list_layers(self) -> bool:
        """Build the base in the background and list its layers (False: busy or no base)."""
        name, source = self.base_name(), self.source()
        if not name:
            self._say(self.layer_status, "Choose a model file first.", ERROR_STYLE)
            return False
        try:
            shape = self._shape()
        except Exception as exc:  # noqa: BLE001 - SpecError: no Input block
            self._say(self.layer_status, str(exc), ERROR_STYLE)
            return False
        started = call_in_thread(self.layers_worker, lambda: base_layers(name, source, shape))
        if started:
            self.list_button.setEnabled(False)
            self._say(self.layer_status, f"Building {name} to list its layers…", "")
        return started

    def _show_layers(self, layers: list[Layer]) -> None:
        self.list_button.setEnabled(True)
        self.layer_list.clear()
        for name, shape in layers:
            item = QListWidgetItem(f"{name}    {_shape_text(shape)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.layer_list.addItem(item)
        if layers:
            cut = default_cut(layers)
            self.layer_list.setCurrentRow(cut)
            self.layer_list.scrollToItem(self.layer_list.item(cut))
        self._say(self.layer_status, f"{len(layers)} layers; the selected one is the last "
                  "kept (default: the last with an image output).", "")

    def _layers_failed(self, message: str) -> None:
        self.list_button.setEnabled(True)
        self._say(self.layer_status, f"Cannot list the layers: {message}", ERROR_STYLE)

    # -- inserting --------------------------------------------------------------------------
    def insert(self) -> bool:
        """Insert the chosen base in the background (False: busy, no document or no base)."""
        self._find_document()
        if self._get is None or self._apply is None:
            self._say(self.message, "No experiment to insert into.", ERROR_STYLE)
            return False
        name, source = self.base_name(), self.source()
        weights = self.weights() if source == APPLICATION else "random"
        path = self.weights_edit.text().strip() or None
        if not name or (source == APPLICATION and weights == "file" and not path):
            what = "a model file" if not name else "a local weights file"
            self._say(self.message, f"Choose {what} first.", ERROR_STYLE)
            return False
        exp, cut = self._get(), self.cut_at()
        job = self._insert_job(exp, name, source, cut, weights, path)
        if not call_in_thread(self.insert_worker, job):
            return False
        self._started_from = exp
        self.insert_button.setEnabled(False)
        self.busy.show()
        self._say(self.message, f"Inserting {self._label(name)}… (building the base)", "")
        return True

    def _insert_ended(self) -> None:
        self.insert_button.setEnabled(True)
        self.busy.hide()

    def document_changed(self, experiment: Any) -> None:
        """Another experiment (File > New, open, undo, a canvas edit): forget the message."""
        if self.insert_worker.running or experiment == self._inserted_experiment:
            return
        self._say(self.message, "", "")

    @staticmethod
    def _insert_job(exp: Any, name: str, source: str, cut: str | None, weights: str,
                    path: str | None) -> Callable[[], Any]:
        def job() -> Any:
            from cnnlab.diagram import ensure_positions
            from cnnlab.modelio import insert_base

            return ensure_positions(insert_base(exp, name, source=source, cut_at=cut,
                                                weights=weights, weights_path=path))
        return job

    def _inserted(self, experiment: Any) -> None:
        if self._get is None or self._apply is None:
            return
        if self._get() is not self._started_from:
            self._say(self.message, "The experiment changed while the base was being "
                      "inserted; press Insert base again.", ERROR_STYLE)
            return
        name = self._label(experiment.training.transfer.base or self.base_name())
        self._inserted_experiment = experiment
        self._apply(experiment, f"Insert {name} base")
        count = sum(1 for n in experiment.model.nodes
                    if n.id.startswith(experiment.training.transfer.prefix))
        self._say(self.message, f"Inserted base {name}: {count} blocks "
                  f"(ids start with {experiment.training.transfer.prefix!r}).", OK_STYLE)
        self.inserted.emit(experiment)

    def _insert_failed(self, message: str) -> None:
        self._say(self.message, with_hint(message), ERROR_STYLE)

    @staticmethod
    def _label(name: str) -> str:
        from pathlib import Path

        return Path(name).name if ("/" in name or "\\" in name) else name

    def _say(self, label: QLabel, text: str, css: str) -> None:
        label.setStyleSheet(css)
        label.setText(text)
        if text:
            self._scroll_to(label)

    def _scroll_to(self, widget: QWidget) -> None:
        """Bring ``widget`` into sight in the form's scroll area (errors below the fold)."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget, 10, 40)
