"""Checks of image and label arrays (npz files, Keras datasets) before anything trains on them.

Every problem is one :class:`~cnnlab.errors.DataError` naming the file, the
array, how many values are wrong and the index of the first one, so that a
label 7 among 3 classes or a NaN pixel is found at load time, not deep
inside TensorFlow or as a NaN loss. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from cnnlab.errors import DataError

INT32_MAX = np.iinfo(np.int32).max
_CHUNK = 1024  # images checked at a time for NaN (bounded temporary memory)


def _prefix(where: str, key: str) -> str:
    return f"{where}: {key}" if where else key


def check_labels(
    y: np.ndarray, key: str, notes: list[str] | None = None, where: str = ""
) -> np.ndarray:
    """Return labels as int32 class indices of shape (N,), accepting (N, 1) and one-hot (N, K).

    Args:
        y: The labels.
        key: The array's name (``"y_train"``).
        notes: Where to note a one-hot conversion.
        where: The file, for messages.

    Raises:
        DataError: If the labels are not whole, non-negative class indices
            that fit int32, with the count and the first bad index.

    """
    name = _prefix(where, key)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1:
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise DataError(f"{name} has shape {y.shape}; expected class indices (N,) or one-hot")
        y = y.argmax(axis=1)
        if notes is not None and not any("one-hot" in n for n in notes):
            notes.append("converted one-hot labels to class indices")
    if y.ndim != 1:
        raise DataError(f"{name} has shape {y.shape}; expected class indices of shape (N,)")
    if y.dtype.kind not in "iubf":
        raise DataError(f"{name} must hold integer class indices, got {y.dtype}")
    if y.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(y) | (y != np.round(y))
        _refuse(bad, y, f"{name}: {{n}} label(s) are not whole numbers")
    _refuse(y < 0, y, f"{name}: {{n}} label(s) are negative")
    _refuse(y > INT32_MAX, y, f"{name}: {{n}} label(s) are too large for class indices")
    return y.astype(np.int32)


def check_label_range(y: np.ndarray, key: str, num_classes: int, where: str = "") -> None:
    """Refuse labels outside ``0 .. num_classes - 1``.

    Raises:
        DataError: With the count and the first bad index.

    """
    name = _prefix(where, key)
    _refuse(y >= num_classes, y,
            f"{name}: {{n}} label(s) are outside the {num_classes} classes 0..{num_classes - 1}")


def check_label_gaps(labels: dict[str, np.ndarray], where: str = "") -> int:
    """Return the class count (highest label + 1) of unnamed labels, refusing unused classes.

    Without class names the labels must be 0..K-1 with every class present
    (in training or test data); a label 7 among labels 0..2 is a mistake,
    not five classes nobody has seen.

    Raises:
        DataError: Naming the absent classes and the first sample of the highest label.

    """
    every = np.concatenate([v.astype(np.int64) for v in labels.values()])
    num_classes = int(every.max()) + 1
    present = np.bincount(every, minlength=num_classes) > 0
    absent = np.flatnonzero(~present)
    if not len(absent):
        return num_classes
    top = num_classes - 1
    key, y = next((k, v) for k, v in labels.items() if len(v) and v.max() == top)
    first = int(np.flatnonzero(y == top)[0])
    shown = ", ".join(str(int(a)) for a in absent[:10]) + (", ..." if len(absent) > 10 else "")
    raise DataError(
        f"{_prefix(where, key)}: the labels go up to {top} (first at index {first}) but "
        f"{len(absent)} class(es) below it have no sample at all ({shown}); labels must be "
        "class indices 0..K-1 (add a class_names array to declare K classes)"
    )


def _refuse(bad: np.ndarray, values: np.ndarray, message: str) -> None:
    """Raise ``message`` (with ``{n}``) plus the first bad index and value if any is bad."""
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    value = values[first]
    shown = f"{value:g}" if values.dtype.kind == "f" else str(value)
    raise DataError(f"{message.format(n=int(bad.sum()))} (first at index {first}: {shown})")


def check_images(x: np.ndarray, key: str, where: str = "") -> np.ndarray:
    """Return images as (N, H, W, C), accepting (N, H, W) grayscale.

    Raises:
        DataError: If the array is not a stack of number images or holds NaN
            or infinite pixels (with the counts and the first image's index).

    """
    name = _prefix(where, key)
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or min(x.shape[1:]) < 1:
        raise DataError(
            f"{name} has shape {x.shape}; expected images (N, H, W), (N, H, W, 1) or (N, H, W, 3)"
        )
    if x.dtype.kind not in "uif" and x.dtype != np.bool_:
        raise DataError(f"{name} must hold numbers, got {x.dtype}")
    if x.dtype.kind == "f":
        _check_finite(x, name)
    return x


def _check_finite(x: np.ndarray, name: str) -> None:
    values = images = 0
    first = -1
    for start in range(0, len(x), _CHUNK):
        bad = ~np.isfinite(x[start : start + _CHUNK]).reshape(min(_CHUNK, len(x) - start), -1)
        per_image = bad.any(axis=1)
        if per_image.any() and first < 0:
            first = start + int(np.flatnonzero(per_image)[0])
        values += int(bad.sum())
        images += int(per_image.sum())
    if values:
        raise DataError(
            f"{name}: {values} pixel value(s) are NaN or infinite, in {images} image(s) "
            f"(first: image {first}); training on them gives NaN losses"
        )
