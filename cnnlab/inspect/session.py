"""An inspection session: a saved model, where it came from, and inputs to look at it with.

``cnnlab inspect`` and the window's Inspect view both start here. A
:class:`Session` holds the model loaded from the saved artifact (a run's
``model.keras`` or a user's ``.keras``/``.h5`` file, in safe mode; never a live
training model), the run's folder (for the filter history), the run's dataset
and a few of its samples with the class names. Importing this module is light;
loading a session imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.errors import CnnlabError

SAMPLE_COUNT = 12
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
FILE_NOTE = "A model file has no dataset: inputs are synthetic shapes; open your own image."


@dataclass(eq=False)
class Session:
    """A loaded model and what goes with it.

    Attributes:
        model: The Keras model (loaded in safe mode).
        title: What to call it in the window (``name (id)`` or the file name).
        source: What to call it in a figure title (``run 'name' (id)``, ``model file x.keras``).
        run_dir: The run's folder, or None for a model file.
        class_names: One name per output class (the indices as text without data).
        samples: Input samples ``(N, H, W, C)`` shaped for the model.
        sample_labels: Their labels, or None when the samples are synthetic.
        data: The run's :class:`~cnnlab.data.DataSplits`, or None.
        split: The split the samples come from (``test``, ``val``, ``train``), or "".
        notes: What could not be loaded, one sentence each.

    """

    model: Any
    title: str
    source: str
    run_dir: Path | None
    class_names: list[str]
    samples: np.ndarray
    sample_labels: np.ndarray | None = None
    data: Any = None
    split: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The model's input ``(H, W, C)`` (None for a size the model leaves open)."""
        return tuple(None if d is None else int(d) for d in self.model.inputs[0].shape[1:])

    @property
    def has_data(self) -> bool:
        """True when the samples are the run's own (labelled), not synthetic."""
        return self.sample_labels is not None

    @property
    def value_range(self) -> tuple[float, float]:
        """The value range of the model's inputs (from the samples; 0..1 at least)."""
        if not self.samples.size:
            return 0.0, 1.0
        return min(0.0, float(self.samples.min())), max(1.0, float(self.samples.max()))

    def layer_ids(self) -> list[str]:
        """Layers with one output (feature maps, fantasy, deep dream)."""
        from cnnlab.inspect.activations import inspectable_layer_ids

        return inspectable_layer_ids(self.model)

    def filter_kinds(self) -> dict[str, str]:
        """``{layer id: kernel layout}`` of the 2-D convolutions (see :mod:`~.filters`)."""
        from cnnlab.inspect.filters import filter_kinds

        return filter_kinds(self.model)

    def conv_ids(self) -> list[str]:
        """The 2-D convolutions (their filters can be shown)."""
        return list(self.filter_kinds())

    def sample_caption(self, index: int) -> str:
        """A sample's true class name, or ``#index`` for a synthetic one."""
        if self.sample_labels is None:
            return f"#{index}"
        label = int(self.sample_labels[index])
        return self.class_names[label] if 0 <= label < len(self.class_names) else str(label)

    def sample_label(self, index: int) -> str:
        """What a sample is, for a figure: ``test sample 0 (true: circle)``."""
        if self.sample_labels is None:
            return f"synthetic sample {index}"
        return f"{self.split} sample {index} (true: {self.sample_caption(index)})"

    def eval_data(self, count: int) -> tuple[np.ndarray, np.ndarray, str]:
        """The first ``count`` samples of the session's split: ``(x, y, split)``.

        Raises:
            CnnlabError: When the session has no dataset.

        """
        if self.data is None:
            raise CnnlabError("evaluation needs the run's dataset (give a run, not a file)")
        x, y = self.data.samples(self.split, count)
        return x, y, self.split

    def fit(self, image: np.ndarray) -> np.ndarray:
        """Fit a user's image (uint8 or float, any size) to the model's input and value range."""
        from cnnlab.inspect.images import fit_image

        return fit_image(image, self.input_shape, self.value_range)


def _index_names(model: Any) -> list[str]:
    from cnnlab.inspect.score import class_labels

    return class_labels(model)


def synthetic_samples(shape: tuple[int | None, ...], count: int = SAMPLE_COUNT) -> np.ndarray:
    """``count`` images of the built-in shapes dataset in 0..1, fitted to ``(H, W, C)``.

    An open size (None) becomes 32 pixels, an open channel count 3.
    """
    from cnnlab.data.shapes import generate_shapes

    h, w, c = shape[0] or 32, shape[1] or 32, shape[2] or 3
    x, _ = generate_shapes(samples=count, image_size=h, channels=c, seed=7)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.shape[1:3] != (h, w):
        from cnnlab.inspect.images import resize

        x = np.stack([resize(img, (h, w)) for img in x])
    return x


def open_model_file(path: str | os.PathLike, samples: bool = True) -> Session:
    """Load a user's ``.keras``/``.h5`` model; its inputs are synthetic shapes images.

    Args:
        path: The model file.
        samples: Make the synthetic samples (the window shows them; the CLI does not).

    Raises:
        ModelFileError: When the file is refused or cannot be loaded.

    """
    from cnnlab.modelio.loader import load_model_file

    path = Path(path)
    model, _ = load_model_file(path)
    session = Session(model, path.name, f"model file {path.name}", None, _index_names(model),
                      np.zeros((0,), np.float32), notes=[FILE_NOTE])
    if samples:
        session.samples = synthetic_samples(session.input_shape)
    return session


def open_run(store: Any, run_id: str, samples: int = SAMPLE_COUNT,
             strict: bool = False) -> Session:
    """Load a run's saved model and, when ``samples`` > 0, its dataset as the run saw it.

    Args:
        store: The :class:`~cnnlab.runs.store.RunStore` (read-only is enough).
        run_id: The run.
        samples: How many samples of its test split (else val, else train) to keep.
        strict: Raise when the data cannot be loaded (the CLI); otherwise note it
            and use synthetic inputs (the window: the model is still worth a look).

    Raises:
        RunError: For an unknown run.
        CnnlabError: When the run saved no model, or (``strict``) its data fail.
        ModelFileError: When the saved model cannot be loaded.

    """
    from cnnlab.modelio.loader import load_model_file

    record = store.get(run_id)
    if not Path(record.model_path).exists():
        raise CnnlabError(f"run {record.id} has no saved model yet ({record.model_path})")
    model, _ = load_model_file(record.model_path)
    session = Session(model, f"{record.name} ({record.id})", f"run '{record.name}' "
                      f"({record.id})", Path(store.run_dir(record.id)),
                      _index_names(model), np.zeros((0,), np.float32))
    if samples > 0:
        _attach_data(session, store.spec(record.id), samples, strict)
    return session


def _attach_data(session: Session, spec_dict: dict, count: int, strict: bool) -> None:
    try:
        _load_samples(session, spec_dict, count)
    except Exception as exc:
        if strict:
            raise
        from cnnlab.modelio.safety import first_line

        session.notes.append(f"The run's data could not be loaded ({first_line(exc)}); "
                             "inputs are synthetic shapes.")
        session.data, session.split, session.sample_labels = None, "", None
        session.samples = synthetic_samples(session.input_shape, count)


def _load_samples(session: Session, spec_dict: dict, count: int) -> None:
    from cnnlab.data import load_data
    from cnnlab.spec import experiment_from_dict

    spec = experiment_from_dict(spec_dict)
    data = load_data(spec.data, session.input_shape, spec.training.seed)
    split = next((s for s in ("test", "val", "train") if len(data.labels(s))), "")
    if not split:
        raise CnnlabError("the run's dataset has no samples to inspect")
    x, y = data.samples(split, count)
    session.data, session.split = data, split
    session.samples, session.sample_labels = x.astype(np.float32), np.asarray(y)
    if len(data.class_names) == len(session.class_names):
        session.class_names = list(data.class_names)


def is_model_file(target: str | os.PathLike) -> bool:
    """True when ``target`` names a model file rather than a run id."""
    path = Path(target)
    return path.suffix.lower() in MODEL_SUFFIXES or path.exists()


def runs_with_models(store: Any) -> list[tuple[str, str]]:
    """``(id, label)`` of the runs that saved a model, in the store's order."""
    return [(r.id, f"{r.name} ({r.id}, {r.status})") for r in store.list_runs()
            if Path(r.model_path).exists()]
