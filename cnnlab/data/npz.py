"""The ``npz`` source: arrays in the layout of Keras's ``mnist.npz``."""

from __future__ import annotations

import os
from pathlib import Path

from cnnlab.data.npz_file import read_npz
from cnnlab.data.raw import RawData, raw_from_arrays
from cnnlab.errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


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
    return raw_from_arrays(arrays, names, where=path.name)
