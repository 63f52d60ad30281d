"""Where the inspected model comes from: a stored run or a model file, plus input images.

A :class:`Session` is what every inspection panel works on: the model loaded
from the saved artifact (never a live training model), the run's folder (for
the filter history), and the run's dataset when it can be loaded. Loading runs
in the worker thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

SAMPLE_COUNT = 12
MODEL_FILTER = "Keras models (*.keras *.h5)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass(eq=False)
class Session:
    """A loaded model and what goes with it.

    Attributes:
        model: The Keras model (loaded in safe mode).
        title: What to call it (run name or file name).
        run_dir: The run's folder, or None for a model file.
        class_names: One name per output class.
        samples: Input samples ``(N, H, W, C)`` shaped for the model.
        sample_labels: Their labels, or None when they are placeholders.
        data: The run's :class:`~cnnlab.data.DataSplits`, or None.
        notes: What could not be loaded, one sentence each.

    """

    model: Any
    title: str
    run_dir: Path | None
    class_names: list[str]
    samples: np.ndarray
    sample_labels: np.ndarray | None = None
    data: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The model's input (H, W, C)."""
        return tuple(int(d) for d in self.model.inputs[0].shape[1:])

    @property
    def value_range(self) -> tuple[float, float]:
        """The value range of the model's inputs (from the samples; 0..1 at least)."""
        lo = min(0.0, float(self.samples.min())) if self.samples.size else 0.0
        hi = max(1.0, float(self.samples.max())) if self.samples.size else 1.0
        return lo, hi

    def layer_ids(self) -> list[str]:
        """Layers with one output (feature maps, fantasy)."""
        from cnnlab.inspect.activations import inspectable_layer_ids

        return inspectable_layer_ids(self.model)

    def conv_ids(self) -> list[str]:
        """Convolution layers (filters)."""
        out = []
        for layer in self.model.layers:
            kernel = getattr(layer, "depthwise_kernel", None)
            kernel = kernel if kernel is not None else getattr(layer, "kernel", None)
            if kernel is not None and len(kernel.shape) == 4 and "Conv" in type(layer).__name__:
                out.append(layer.name)
        return out


def _class_count(model: Any) -> int:
    units = int(model.outputs[0].shape[-1] or 1)
    return 2 if units == 1 else units


def _placeholder_samples(shape: tuple[int, int, int]) -> np.ndarray:
    from cnnlab.data.shapes import generate_shapes

    x, _ = generate_shapes(samples=SAMPLE_COUNT, image_size=shape[0], channels=shape[2], seed=7)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.shape[1:3] != shape[:2]:
        from cnnlab.inspect.images import resize

        x = np.stack([resize(img, shape[:2]) for img in x])
    return x


def load_file_session(path: str | os.PathLike) -> Session:
    """Load a user's ``.keras``/``.h5`` model; inputs are placeholder shapes images.

    Raises:
        ModelFileError: When the file is refused or cannot be loaded.

    """
    from cnnlab.modelio.loader import load_model_file

    model, _ = load_model_file(path)
    k = _class_count(model)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    notes = ["A model file has no dataset: inputs are synthetic shapes; open your own image."]
    return Session(model, Path(path).name, None, [str(i) for i in range(k)],
                   _placeholder_samples(shape), notes=notes)


def load_run_session(workspace: Any, run_id: str) -> Session:
    """Load a run's saved model and, when it can, its dataset (as the run saw it).

    Raises:
        ModelFileError: When the saved model cannot be loaded.

    """
    from cnnlab.modelio.loader import load_model_file
    from cnnlab.runs.store import RunStore

    store = RunStore(workspace, read_only=True)
    record = store.get(run_id)
    model, _ = load_model_file(record.model_path)
    session = Session(model, f"{record.name} ({run_id})", Path(store.run_dir(run_id)),
                      [str(i) for i in range(_class_count(model))], np.zeros((0,)))
    try:
        _attach_data(session, store.spec(run_id))
    except Exception as exc:  # noqa: BLE001 - the model is still worth inspecting
        from cnnlab.ui.views.worker import error_text

        session.notes.append(f"The run's data could not be loaded ({error_text(exc)}); "
                             "inputs are synthetic shapes.")
        session.samples = _placeholder_samples(session.input_shape)
    return session


def _attach_data(session: Session, spec_dict: dict) -> None:
    from cnnlab import experiment_from_dict
    from cnnlab.data import load_data

    spec = experiment_from_dict(spec_dict)
    data = load_data(spec.data, session.input_shape, spec.training.seed)
    split = "test" if len(data.labels("test")) else "val"
    x, y = data.samples(split, SAMPLE_COUNT)
    if not len(y):
        x, y = data.samples("train", SAMPLE_COUNT)
    session.data, session.samples, session.sample_labels = data, x.astype(np.float32), y
    if len(data.class_names) == len(session.class_names):
        session.class_names = list(data.class_names)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8.

    Raises:
        ValueError: When the file is not an image Qt can read.

    """
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{Path(path).name} is not an image that can be read")
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return raw.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def fit_to_model(session: Session, image: np.ndarray) -> np.ndarray:
    """Fit a user's image (uint8 or float) to the model's input and value range."""
    from cnnlab.inspect.images import fit_image

    return fit_image(image, session.input_shape, session.value_range)


class SourceBar(QWidget):
    """Run picker, Load run and Open model file buttons.

    Signals:
        run_requested(str): The id of the run to load.
        file_requested(str): A model file the user chose.

    """

    run_requested = Signal(str)
    file_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.run_box = QComboBox()
        self.run_box.setMinimumWidth(220)
        load = QPushButton("Load run")
        load.clicked.connect(self._load)
        open_file = QPushButton("Open model file...")
        open_file.clicked.connect(self._open)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Run"))
        layout.addWidget(self.run_box, 1)
        layout.addWidget(load)
        layout.addWidget(open_file)

    def set_runs(self, runs: list[tuple[str, str]]) -> None:
        """List ``(run id, label)`` pairs, keeping the current choice when it remains."""
        current = self.run_box.currentData()
        self.run_box.clear()
        for run_id, label in runs:
            self.run_box.addItem(label, run_id)
        index = self.run_box.findData(current)
        if index >= 0:
            self.run_box.setCurrentIndex(index)

    def _load(self) -> None:
        run_id = self.run_box.currentData()
        if run_id:
            self.run_requested.emit(str(run_id))

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILTER)
        if path:
            self.file_requested.emit(path)


def list_runs(workspace: Any) -> list[tuple[str, str]]:
    """Return ``(id, label)`` for the runs that saved a model, newest first as stored."""
    from cnnlab.runs.store import RunStore

    store = RunStore(workspace, read_only=True)
    return [(r.id, f"{r.name} ({r.id}, {r.status})") for r in store.list_runs()
            if r.model_path.exists()]
