"""The arrays of the in-memory sources for the health check, and thumbnails of samples.

``npz`` and ``keras`` sources are read by the loader's own readers (checked
arrays, ``class_names`` from the file); a Keras dataset is used only when its
file is already cached: the check never downloads, and a missing file is one
line naming it. ``shapes`` are generated from the spec's options.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

from cnnlab.errors import DataError

THUMBNAIL_SIDE = 48
_ARRAY_ID = re.compile(r"^(train|test)\[(\d+)\]$")


def array_source(data: Any):
    """Return ``(where, class names, x, y, x_test or None, y_test or None)`` of a data section.

    Raises:
        DataError: For an unknown source, a missing or malformed file, or a
            Keras dataset that is not cached.

    """
    if data.source == "shapes":
        from cnnlab.data.shapes import generate_shapes

        s = data.shapes
        x, y = generate_shapes(s.classes, s.samples, s.image_size, s.channels, s.noise, s.seed)
        return "shapes", [str(c) for c in s.classes], x, y, None, None
    if data.source == "npz":
        from cnnlab.data.npz import load_npz

        raw = load_npz(data.path)
        where = str(data.path)
    elif data.source == "keras":
        raw = _cached_keras(data.keras_name)
        where = f"keras {data.keras_name}"
    else:
        raise DataError(f"data.source must be one of shapes, npz, folder, keras, "
                        f"got {data.source!r}")
    return where, list(raw.class_names), raw.x, raw.y, raw.x_test, raw.y_test


def _cached_keras(name: str):
    """Load a Keras dataset from Keras's cache, or say in one line which file is missing."""
    from cnnlab.data.keras_datasets import _keras_files, load_keras

    missing = [(path, url) for path, url in _keras_files(name) if not path.exists()]
    if missing:
        path, url = missing[0]
        raise DataError(f"{name} is not cached: {path} is missing; download {url} and put it "
                        "there (cnnlab data check never downloads)")
    return load_keras(name)


def file_thumbnail(path: str) -> np.ndarray | None:
    """A small RGB uint8 picture of an image file (None if it cannot be read now)."""
    from PIL import Image

    from cnnlab.data.safe_read import MAX_IMAGE_BYTES, UnusableFile, read_regular

    try:
        image = Image.open(io.BytesIO(read_regular(path, MAX_IMAGE_BYTES)))
        image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        return _fit(image.convert("RGB"))
    except (UnusableFile, OSError, SyntaxError, ValueError):
        return None


def array_thumbnail(pools: dict[str, tuple[np.ndarray, np.ndarray]], sample_id: str,
                    factor: float) -> np.ndarray | None:
    """A small RGB uint8 picture of sample ``train[i]`` or ``test[i]`` of an array source.

    ``factor`` brings the pixels to 0..255 (``health_scan.uint8_factor`` of the arrays).
    """
    from PIL import Image

    from cnnlab.data.health_scan import array_image, to_uint8

    match = _ARRAY_ID.match(sample_id)
    if match is None or match.group(1) not in pools:
        return None
    x = pools[match.group(1)][0]
    index = int(match.group(2))
    if index >= len(x):
        return None
    pixels = to_uint8(x[index:index + 1], factor)[0]
    return _fit(Image.fromarray(array_image(pixels)).convert("RGB"))


def _fit(image) -> np.ndarray:
    from PIL import Image

    return np.asarray(image.resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.NEAREST
                                   if max(image.size) <= THUMBNAIL_SIDE else Image.BILINEAR))
