"""The result of loading a dataset: train/validation/test splits ready for a model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from cnnlab.data.arrays import SPLITS

if TYPE_CHECKING:
    import tensorflow as tf


class SampleFiles(Protocol):
    """Image files behind the splits of a folder source (see ``cnnlab.data.folder``)."""

    def dataset(self, split: str, labels: np.ndarray) -> tf.data.Dataset:
        """Return the unbatched dataset of preprocessed (image, label) samples of ``split``."""

    def batches(self, split: str, labels: np.ndarray, batch_size: int, shuffle: bool,
                seed: int) -> tf.data.Dataset:
        """Return batched (images, labels) of ``split``, decoded images held by a cache plan."""

    def images(self, split: str) -> np.ndarray | None:
        """The decoded uint8 images of ``split`` the plan holds; None when streamed."""

    def to_float(self) -> Any:
        """A TensorFlow function: uint8 images -> the model's float32 input."""


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
        sample_ids: Split -> the id of each of its samples, in order (see
            :meth:`ids`); None where the loader did not name them.

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
    sample_ids: dict[str, np.ndarray] | None = field(default=None, repr=False)

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

    def ids(self, split: str) -> list[str]:
        """Return the id of every sample of ``split``, in the split's order.

        A folder sample's id is its file's path under the dataset folder with
        POSIX slashes (``cat/img001.png``); an array sample's id is its index
        into the source's own arrays before any split: ``train[123]`` (x/y)
        or ``test[45]`` (x_test/y_test). ``data.exclude`` and ``data.relabel``
        name samples by these ids.
        """
        n = len(self.labels(split))
        if self.sample_ids is None:
            return [f"{split}[{i}]" for i in range(n)]
        return [str(s) for s in self.sample_ids[split]]

    def subset_dataset(self, split: str, indices: np.ndarray, batch_size: int,
                       cache: bool = False) -> tf.data.Dataset:
        """Return (images, labels) batches of the samples at ``indices`` of ``split``, in order.

        ``indices`` must be increasing. Folder images come from the images
        the cache plan holds (see ``FolderFiles.images``); streamed ones are
        decoded on every pass unless ``cache`` keeps them in memory after the
        first.
        """
        from cnnlab.data import pipeline

        pipeline.check_batching(batch_size)
        indices = np.asarray(indices, dtype=np.int64)
        y = self.labels(split)[indices]
        if self.files is None:
            x = getattr(self, f"x_{split}")[indices]
            return pipeline.array_dataset(x, y, int(batch_size), False, 0)
        import tensorflow as tf

        held = self.files.images(split) if hasattr(self.files, "images") else None
        if held is not None:  # the decoded uint8 images the training reads too
            subset = held if np.array_equal(indices, np.arange(len(held))) else held[indices]
            return pipeline.gathered_batches(subset, y, int(batch_size), False, 0,
                                             self.files.to_float())
        files = _files_subset(self.files, split, indices)
        if files is not None:
            samples = files.dataset(split, y)
        else:
            samples = _pick(self.files.dataset(split, self.labels(split)), indices)
        if cache:
            samples = samples.cache()
        return samples.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)

    def dataset(
        self, split: str, batch_size: int, shuffle: bool = False, seed: int = 0
    ) -> tf.data.Dataset:
        """Return a tf.data pipeline of (images, labels) batches for ``split``.

        Folder images are decoded once to uint8 and held where their cache
        plan chose (memory, a workspace cache file, or streamed from disk; see
        ``FolderFiles.batches``); every source is prefetched. With ``shuffle``
        the order changes every epoch, reproducibly from ``seed``.

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
        if hasattr(self.files, "batches"):
            return self.files.batches(split, y, int(batch_size), shuffle, seed)
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


def _files_subset(files: SampleFiles, split: str, indices: np.ndarray) -> SampleFiles | None:
    """The same files with only ``indices`` of ``split`` (None if they keep no ``paths``)."""
    paths = getattr(files, "paths", None)
    if not dataclasses.is_dataclass(files) or not isinstance(paths, dict):
        return None
    return dataclasses.replace(files, paths={**paths, split: np.asarray(paths[split])[indices]})


def _pick(samples: tf.data.Dataset, indices: np.ndarray) -> tf.data.Dataset:
    """The elements of ``samples`` at the sorted, distinct ``indices``, in their order."""
    import tensorflow as tf

    if np.any(np.diff(indices) <= 0):
        raise ValueError("subset indices must be increasing")
    wanted = tf.constant(np.isin(np.arange(int(indices[-1]) + 1 if len(indices) else 0),
                                 indices))
    return (samples.take(len(wanted)).enumerate()
            .filter(lambda i, _: tf.gather(wanted, i))
            .map(lambda _, sample: sample))


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split
