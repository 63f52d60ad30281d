"""Array sources: ``.npz`` files in the layout of Keras's ``mnist.npz``, and ``keras.datasets``.

Both give raw arrays with their own test split; :mod:`cnnlab.data.loader`
turns them into model inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.data.array_checks import (
    check_images,
    check_label_gaps,
    check_label_range,
    check_labels,
)
from cnnlab.data.keras_names import KERAS_CLASS_NAMES
from cnnlab.data.npz_file import read_npz
from cnnlab.download import can_reach
from cnnlab.errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TORONTO = "https://www.cs.toronto.edu/~kriz/"
_FASHION = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
# Where keras.datasets keeps each download (relative to $KERAS_HOME/datasets)
# and where it comes from.
_KERAS_FILES: dict[str, list[tuple[str, str]]] = {
    "mnist": [("mnist.npz", _GCS + "mnist.npz")],
    "fashion_mnist": [(f"fashion-mnist/{f}", _GCS + f) for f in _FASHION],
    "cifar10": [("cifar-10-batches-py-target_archive", _TORONTO + "cifar-10-python.tar.gz")],
    "cifar100": [("cifar-100-python-target_archive", _TORONTO + "cifar-100-python.tar.gz")],
}
KERAS_DATASETS = tuple(_KERAS_FILES)


@dataclass
class RawData:
    """Arrays as a source gives them: a training pool and, where the source has one, a test set."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def load_npz(path: str | os.PathLike | None) -> RawData:
    """Load ``x_train, y_train, x_test, y_test`` (and optional ``class_names``) from ``path``.

    The file is checked before it is read (see :mod:`cnnlab.data.npz_file`):
    regular file, zip archive, no object arrays, declared sizes within the
    limits.

    Raises:
        DataError: If the file is missing, not an .npz, too large, or a key is
            missing or malformed (labels and pixels included), naming the file.

    """
    if not path:
        raise DataError("data.path must name the .npz file")
    path = Path(path).expanduser()
    arrays = read_npz(path, NPZ_KEYS, optional=("class_names",))
    names = None
    if "class_names" in arrays:
        class_names = arrays.pop("class_names")
        if class_names.dtype.kind not in "USiu" or class_names.ndim != 1:
            raise DataError(f"{path.name}: class_names must be a list of names, "
                            f"got {class_names.dtype} of shape {class_names.shape}")
        names = [str(n) for n in class_names]
    return _raw_from_arrays(arrays, names, where=path.name)


def _raw_from_arrays(
    arrays: dict[str, np.ndarray], names: list[str] | None, where: str
) -> RawData:
    """Check the four arrays against each other and wrap them (``where`` names the file)."""
    notes: list[str] = []
    x = check_images(arrays["x_train"], "x_train", where)
    x_test = check_images(arrays["x_test"], "x_test", where)
    y = check_labels(arrays["y_train"], "y_train", notes, where)
    y_test = check_labels(arrays["y_test"], "y_test", notes, where)
    for xk, xa, yk, ya in (("x_train", x, "y_train", y), ("x_test", x_test, "y_test", y_test)):
        if len(xa) != len(ya):
            raise DataError(f"{where}: {yk} has {len(ya)} labels but {xk} has {len(xa)} images")
    if x_test.shape[1:] != x.shape[1:]:
        raise DataError(
            f"{where}: x_test images are {x_test.shape[1:]} but x_train images are {x.shape[1:]}"
        )
    if not len(x):
        raise DataError(f"{where}: x_train holds no images")
    labels = {"y_train": y, "y_test": y_test}
    if names is None:
        names = [str(i) for i in range(check_label_gaps(labels, where))]
    else:
        for key, values in labels.items():
            check_label_range(values, key, len(names), where)
    return RawData(x=x, y=y, class_names=names, x_test=x_test, y_test=y_test, notes=notes)


def keras_home() -> Path:
    """Return the Keras home folder: ``$KERAS_HOME``, else ``~/.keras`` (as Keras decides)."""
    if "KERAS_HOME" in os.environ:
        home = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        base = Path("~").expanduser()
        home = (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"
    if home.exists() and not os.access(home, os.W_OK):
        return Path("/tmp/.keras")  # keras.utils.get_file falls back to this
    return home


def keras_dataset_file(name: str) -> Path:
    """Return where ``keras.datasets`` keeps the download of dataset ``name``.

    For ``fashion_mnist``, which is four files, this is their folder.

    Raises:
        DataError: If ``name`` is not one of ``KERAS_DATASETS``.

    """
    files = _keras_files(name)
    if len(files) > 1:
        return files[0][0].parent
    return files[0][0]


def _keras_files(name: str) -> list[tuple[Path, str]]:
    if name not in _KERAS_FILES:
        raise DataError(
            f"unknown Keras dataset {name!r}; choose one of {', '.join(KERAS_DATASETS)}"
        )
    datasets = keras_home() / "datasets"
    return [(datasets / rel, url) for rel, url in _KERAS_FILES[name]]


def load_keras(name: str) -> RawData:
    """Load a ``keras.datasets`` dataset, downloading it only if it is reachable quickly.

    Raises:
        DataError: If the files are not cached and cannot be downloaded,
            naming the file and where to put it.

    """
    files = _keras_files(name)
    missing = [(path, url) for path, url in files if not path.exists()]
    path, url = (missing or files)[0]
    rename = "" if path.name == url.rsplit("/", 1)[-1] else " under that name"
    where = f"{name} needs {path}; download {url} and put it there{rename}"
    if missing and not can_reach(url):
        raise DataError(f"{where} (it is not cached and the download site cannot be reached)")
    try:
        (x, y), (x_test, y_test) = _keras_loader(name)()
    except Exception as exc:  # any download or unpacking failure
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where} (loading failed: {reason})") from None
    arrays = {"x_train": x, "y_train": y, "x_test": x_test, "y_test": y_test}
    return _raw_from_arrays(arrays, list(KERAS_CLASS_NAMES[name]), where=str(path))


def _keras_loader(name: str):
    import keras

    return getattr(keras.datasets, name).load_data
