"""The ``keras`` source: ``keras.datasets`` (mnist, fashion_mnist, cifar10, cifar100).

A dataset loads from Keras's cache when its file is there; otherwise a quick
probe decides whether a download can work, and a missing file is one message
naming the file, where to put it and where to get it.
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.data.keras_names import KERAS_CLASS_NAMES
from cnnlab.data.raw import RawData, raw_from_arrays
from cnnlab.download import can_reach, keras_home
from cnnlab.errors import DataError

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
    return raw_from_arrays(arrays, list(KERAS_CLASS_NAMES[name]), where=str(path))


def _keras_loader(name: str):
    import keras

    return getattr(keras.datasets, name).load_data
