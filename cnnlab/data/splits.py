"""The result of loading a dataset: train/validation/test splits ready for a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from cnnlab.data.arrays import SPLITS

if TYPE_CHECKING:
    import tensorflow as tf


class SampleFiles(Protocol):
    """Image files behind the splits of a folder source (see ``cnnlab.data.folder``)."""

    def dataset(self, split: str, labels: np.ndarray) -> tf.data.Dataset:
        """Return the unbatched dataset of preprocessed (image, label) samples of ``split``."""


@dataclass
class DataSplits:
    """Train/validation/test data, normalised, resized and channel-converted for the model.

    In-memory sources (shapes, npz, keras) hold float32 images in ``x_*``.
    Folder sources keep images on disk: ``x_*`` are None and ``files``
    decodes them on demand. Labels ``y_*`` (int32 class indices) are always
    arrays. Use :meth:`dataset`, :meth:`samples` and :meth:`arrays` to read
    any source the same way.

    Attributes:
        class_names: Label ``i`` is ``class_names[i]``.
        image_shape: (H, W, C) of the images as the model receives them.
        x_train: Training images, float32 (N, H, W, C), or None for folders.
        y_train: Training labels, int32 (N,).
        x_val: Validation images or None.
        y_val: Validation labels.
        x_test: Test images or None.
        y_test: Test labels.
        notes: What was done to fit the data to the model, one sentence each.
        normalization: ``"scale"``, ``"standardize"`` or ``"none"``.
        normalization_stats: For ``"standardize"``: ``{"mean": [...], "std": [...]}``
            per channel, computed on the training split in raw pixel units
            (0..255 for 8-bit images); the model sees ``(pixel - mean) / std``.
            None otherwise.
        pixel_scale: For ``"scale"``, the divisor applied to raw pixels
            (255 for 8-bit images; 1 if already in [0, 1]); 1 otherwise.
        files: For folder sources, the image files behind the splits.
        folder: For folder sources, the dataset folder (None otherwise).
        skipped_files: ``(path, reason)`` of every file a folder source skipped
            (``bad_files: skip``); print them with
            :func:`cnnlab.data.report.skipped_lines`.
        left_out_classes: ``(class name, reason)`` of every class left out
            because it has no usable image.

    """

    class_names: list[str]
    image_shape: tuple[int, int, int]
    x_train: np.ndarray | None
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray
    notes: list[str] = field(default_factory=list)
    normalization: str = "scale"
    normalization_stats: dict[str, list[float]] | None = None
    pixel_scale: float = 1.0
    files: SampleFiles | None = field(default=None, repr=False)
    folder: str | None = None
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    left_out_classes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def sizes(self) -> dict[str, int]:
        """Number of samples per split: ``{"train": ..., "val": ..., "test": ...}``."""
        return {name: len(self.labels(name)) for name in SPLITS}

    def labels(self, split: str) -> np.ndarray:
        """Return the int32 labels of ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
        return getattr(self, f"y_{_check_split(split)}")

    def dataset(
        self, split: str, batch_size: int, shuffle: bool = False, seed: int = 0
    ) -> tf.data.Dataset:
        """Return a tf.data pipeline of (images, labels) batches for ``split``.

        Folder images are decoded once, then cached in memory; every source is
        prefetched. With ``shuffle`` the order changes every epoch, reproducibly
        from ``seed``.

        Args:
            split: ``"train"``, ``"val"`` or ``"test"``.
            batch_size: Samples per batch (the last batch may be smaller).
            shuffle: Shuffle the samples (use for training).
            seed: Shuffle seed.

        Returns:
            A ``tf.data.Dataset`` of (float32 (B, H, W, C), int32 (B,)) batches.

        """
        from cnnlab.data import pipeline

        pipeline.check_batching(batch_size)
        y = self.labels(split)
        if self.files is None:
            x = getattr(self, f"x_{split}")
            return pipeline.array_dataset(x, y, int(batch_size), shuffle, seed)
        samples = self.files.dataset(split, y)
        return pipeline.batch_cached(samples, len(y), int(batch_size), shuffle, seed)

    def samples(self, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the first ``n`` samples of ``split`` as numpy (for previews and inspection).

        The order is fixed (a random mix of classes chosen when the data were
        split), so the same call always gives the same samples.
        """
        y = self.labels(split)[: max(int(n), 0)]
        if self.files is None:
            return getattr(self, f"x_{split}")[: len(y)], y
        if not len(y):
            return np.zeros((0, *self.image_shape), np.float32), y
        ds = self.files.dataset(split, self.labels(split)).take(len(y)).batch(len(y))
        x = next(iter(ds))[0].numpy()
        return x, y

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Return all of ``split`` as numpy (folder images are decoded into memory)."""
        return self.samples(split, len(self.labels(split)))


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split
