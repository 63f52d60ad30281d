"""Arrays as a source gives them, checked against each other (npz and Keras data)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnlab.data.array_checks import (
    check_images,
    check_label_gaps,
    check_label_range,
    check_labels,
)
from cnnlab.errors import DataError


@dataclass
class RawData:
    """Arrays as a source gives them: a training pool and, where the source has one, a test set."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def raw_from_arrays(
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
