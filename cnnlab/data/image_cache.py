"""Decoded uint8 images of one split, held in memory or in a ``.npy`` file read by memory map.

Filled once by a parallel tf.data decoding pass (:func:`cnnlab.data.pipeline.decoded_images`).
A cache file is written under a temporary name and renamed when complete
(:func:`cnnlab.atomic.atomic_path`), so a killed run never leaves a file a
later run would trust; its name is keyed by the files it holds
(:func:`cnnlab.data.cache_plan.cache_file`), and a new one replaces only the
older files of its own family.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.atomic import atomic_path
from cnnlab.data.cache_plan import cache_file, stale_family_files
from cnnlab.errors import DataError

log = logging.getLogger(__name__)


def fill(out: np.ndarray, paths: np.ndarray, decode: Callable[[Any], Any]) -> None:
    """Decode ``paths`` into ``out`` (uint8, (N, H, W, C)) in file order."""
    from cnnlab.data.pipeline import decoded_images

    start = 0
    for chunk in decoded_images(paths, decode):
        array = chunk.numpy()
        out[start : start + len(array)] = array
        start += len(array)
    if start != len(out):
        raise DataError(f"decoded {start} images where {len(out)} were listed")


def memory_images(paths: np.ndarray, shape: tuple[int, int, int],
                  decode: Callable[[Any], Any]) -> np.ndarray:
    """All images of ``paths`` decoded into one uint8 array in memory."""
    out = np.empty((len(paths), *shape), dtype=np.uint8)
    fill(out, paths, decode)
    return out


def file_images(paths: np.ndarray, shape: tuple[int, int, int], decode: Callable[[Any], Any],
                directory: Path, root: str, split: str) -> tuple[np.ndarray, Path]:
    """The images of ``paths`` from their cache file, written first when missing or unusable.

    Returns:
        A read-only memory map of the uint8 images, and the cache file's path.

    Raises:
        DataError: If the cache folder cannot be written.

    """
    target, prefix = cache_file(Path(directory), root, split, shape, paths)
    images = _open(target, (len(paths), *shape))
    if images is not None:
        return images, target
    try:
        with atomic_path(target, suffix=".npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                            shape=(len(paths), *shape))
            fill(out, paths, decode)
            out.flush()
            del out
    except OSError as exc:
        raise DataError(f"cannot write the image cache {target}: {exc.strerror or exc}") from None
    for old in stale_family_files(target, prefix):
        old.unlink(missing_ok=True)
    images = _open(target, (len(paths), *shape))
    if images is None:
        raise DataError(f"the image cache {target} could not be read back")
    return images, target


def _open(target: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """A memory map of ``target`` when it is a complete cache of ``shape``; else None."""
    if not target.is_file() or target.is_symlink():
        return None
    try:
        images = np.load(target, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable image cache %s: %s", target, exc)
        return None
    if images.dtype != np.uint8 or tuple(images.shape) != tuple(shape):
        return None
    return images
