"""Loading an image folder: the preflight's usable files, split and decoded with tf.data.

The file list comes from :func:`cnnlab.data.folder_preflight.preflight_folder`, so bad
files are simply not in it (``bad_files="skip"``, and named in the splits'
``skipped_files``) or stop the load before anything is decoded
(``bad_files="stop"``, :class:`~cnnlab.data.report.BadFilesError`). Before
TensorFlow reads the files, each is checked again (a stat, no read) to be
still a regular file within the size cap. Images are decoded with
``tf.io.decode_image`` straight to the model's channel count and resized to
its input size, to uint8; the float conversion comes after any cache, so a
cache holds a quarter of what float32 would (see :mod:`cnnlab.data.cache_plan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlab.data.arrays import SPLITS, cap_splits, channel_plan, stats_dict, stratified_split
from cnnlab.data.cache_plan import CachePlan, default_cache_dir, plan_cache
from cnnlab.data.folder_preflight import PreflightReport, preflight_folder
from cnnlab.data.image_cache import file_images, memory_images
from cnnlab.data.report import BadFilesError
from cnnlab.data.safe_read import MAX_IMAGE_BYTES, UnusableFile, regular_size, too_large
from cnnlab.data.splits import DataSplits
from cnnlab.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf


@dataclass
class FolderFiles:
    """The image files of each split and how to turn one into a model input.

    Files decode to uint8 at the model's size (:meth:`decoder`); the float32
    conversion and normalization come after any cache (:meth:`to_float`).
    :meth:`batches` holds the decoded images where :func:`plan_cache` chose
    (memory, a workspace cache file, or none: decoded every epoch) and adds
    that choice to ``notes`` (the splits' list) the first time it is asked.

    Attributes:
        paths: Image files per split.
        image_shape: (H, W, C) the model receives.
        pixel_scale: Divisor of raw pixels (255 for ``normalization: scale``).
        stats: Per-channel ``{"mean", "std"}`` for ``standardize``, in raw pixel units.
        root: The dataset folder (names cache files).
        notes: The data notes the cache choice is added to.
        cache_dir: The cache folder (None: ``<workspace>/cache`` of the default workspace).

    """

    paths: dict[str, np.ndarray]
    image_shape: tuple[int, int, int]
    pixel_scale: float = 1.0
    stats: dict[str, list[float]] | None = None
    root: str = ""
    notes: list[str] = field(default_factory=list)
    cache_dir: Path | None = None
    plan: CachePlan | None = field(default=None, init=False)
    cache_files: dict[str, Path] = field(default_factory=dict, init=False)
    _images: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def decoder(self) -> Callable[[Any], Any]:
        """A TensorFlow function: file path -> uint8 image of ``image_shape``."""
        import tensorflow as tf

        h, w, c = self.image_shape

        def decode(path):
            image = tf.io.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
            image.set_shape([None, None, c])

            def resized():
                scaled = tf.image.resize(tf.cast(image, tf.float32), (h, w), antialias=True)
                return tf.cast(tf.clip_by_value(tf.round(scaled), 0.0, 255.0), tf.uint8)

            same = tf.reduce_all(tf.equal(tf.shape(image)[:2], (h, w)))
            return tf.ensure_shape(tf.cond(same, lambda: image, resized), (h, w, c))

        return decode

    def to_float(self) -> Callable[[Any], Any]:
        """A TensorFlow function: uint8 images -> the model's float32 input (normalized)."""
        import tensorflow as tf

        scale = np.float32(self.pixel_scale)
        mean = std = None
        if self.stats is not None:
            mean = tf.constant(self.stats["mean"], tf.float32)
            std = tf.constant(self.stats["std"], tf.float32)

        def convert(images):
            x = tf.cast(images, tf.float32) / scale
            return x if mean is None else (x - mean) / std

        return convert

    def dataset(self, split: str, labels: np.ndarray) -> tf.data.Dataset:
        """Return the unbatched dataset of decoded, preprocessed (image, label) samples, in order.

        Raises:
            DataError: If a file stopped being a regular file of bounded size
                since the folder check (TensorFlow would block on a FIFO).

        """
        import tensorflow as tf

        _recheck(self.paths[split])
        decode, convert = self.decoder(), self.to_float()
        ds = tf.data.Dataset.from_tensor_slices((self.paths[split], labels.astype(np.int32)))
        return ds.map(lambda path, label: (convert(decode(path)), label),
                      num_parallel_calls=tf.data.AUTOTUNE)

    def batches(self, split: str, labels: np.ndarray, batch_size: int, shuffle: bool,
                seed: int, notes: list[str] | None = None) -> tf.data.Dataset:
        """Return shuffled (optionally), batched, prefetched (images, labels) of ``split``.

        The same batches whatever the cache choice: every path draws from the
        same index stream (:func:`cnnlab.data.pipeline.index_stream`). The
        first call makes the choice and adds it to ``notes`` (default: the
        list given at construction).

        Raises:
            DataError: If a file changed since the folder check, or a cache
                cannot be written.

        """
        from cnnlab.data import pipeline

        if len(labels) != len(self.paths[split]):
            raise ValueError(f"{len(labels)} labels for {len(self.paths[split])} files")
        self.cache_plan(notes)
        images = self.images(split)
        if images is None:
            _recheck(self.paths[split])
            return pipeline.streamed_batches(self.paths[split], labels, batch_size, shuffle,
                                             seed, self.decoder(), self.to_float())
        return pipeline.gathered_batches(images, labels, batch_size, shuffle, seed,
                                         self.to_float())

    def cache_plan(self, notes: list[str] | None = None) -> CachePlan:
        """The cache choice for all splits together; made once, and named in ``notes``."""
        if self.plan is None:
            size = sum(len(p) for p in self.paths.values()) * int(np.prod(self.image_shape))
            directory = self.cache_dir if self.cache_dir is not None else default_cache_dir()
            self.plan = plan_cache(size, Path(directory))
            (self.notes if notes is None else notes).append(self.plan.note())
        return self.plan

    def images(self, split: str) -> np.ndarray | None:
        """The decoded uint8 images of ``split`` (in memory or mapped); None when streaming."""
        if split in self._images:
            return self._images[split]
        plan = self.cache_plan()
        if plan.kind == "none":
            return None
        paths = self.paths[split]
        _recheck(paths)
        if plan.kind == "memory":
            images = memory_images(paths, self.image_shape, self.decoder())
        else:
            images, self.cache_files[split] = file_images(
                paths, self.image_shape, self.decoder(), plan.directory, self.root, split)
        self._images[split] = images
        return images


def _recheck(paths: np.ndarray) -> None:
    """Check again (stat only) that every file is still a regular file within the size cap."""
    for path in paths:
        try:
            size = regular_size(path)
        except UnusableFile as exc:
            raise DataError(f"{path} changed since the folder check: {exc}") from None
        if size > MAX_IMAGE_BYTES:
            raise DataError(f"{path} changed since the folder check: "
                            f"{too_large(size, MAX_IMAGE_BYTES)}")


def load_folder(data: Any, shape: tuple[int, int, int], seed: int) -> DataSplits:
    """Load ``data.path`` (one sub-folder per class) as splits for a model input ``shape``.

    Raises:
        DataError: If the folder is missing, unusable, or has bad files and
            ``data.bad_files == "stop"``.

    """
    if not data.path:
        raise DataError("data.path must name the image folder (one sub-folder per class)")
    if shape[0] is None or shape[1] is None:
        raise DataError("image folders need a model input with a fixed height and width")
    report = preflight_folder(data.path)
    notes: list[str] = []
    names = _usable_classes(report, data.bad_files, notes)
    paths = np.array([p for p, cls in report.images if cls in names], dtype=str)
    labels = np.array([names.index(c) for _, c in report.images if c in names], dtype=np.int32)
    fractions = float(data.validation_split), float(data.test_split)
    idx = dict(zip(SPLITS, stratified_split(labels, *fractions, seed), strict=True))
    idx, cap_note = cap_splits(idx, data.max_samples)
    notes.extend(_fit_notes(report, shape) + ([cap_note] if cap_note else []))
    scale = 255.0 if data.normalization == "scale" else 1.0
    files = FolderFiles({k: paths[v] for k, v in idx.items()}, shape, scale,
                        root=report.root, notes=notes)
    y = {k: labels[v] for k, v in idx.items()}
    if data.normalization == "standardize":
        files.stats = _train_stats(files, y["train"])
    splits = _folder_splits(names, y, files, notes, data.normalization)
    splits.folder = report.root
    splits.skipped_files = list(report.bad_files)
    splits.left_out_classes = report.left_out_classes()
    return splits


def _folder_splits(
    names: list[str], y: dict[str, np.ndarray], files: FolderFiles, notes, normalization: str
) -> DataSplits:
    return DataSplits(
        class_names=names,
        image_shape=files.image_shape,
        x_train=None,
        y_train=y["train"],
        x_val=None,
        y_val=y["val"],
        x_test=None,
        y_test=y["test"],
        notes=notes,
        normalization=normalization,
        normalization_stats=files.stats,
        pixel_scale=files.pixel_scale,
        files=files,
    )


def _usable_classes(report: PreflightReport, bad_files: str, notes: list[str]) -> list[str]:
    """Apply the ``bad_files`` choice to the report; return the classes to train on.

    Raises:
        BadFilesError: With ``bad_files == "stop"``, naming the bad files and empty classes.

    """
    if not report.class_names:
        raise DataError(report.summary())
    if (report.bad_files or report.empty_classes) and bad_files == "stop":
        raise BadFilesError(report.root, report.bad_files, report.left_out_classes())
    if report.bad_files:
        notes.append(f"skipped {len(report.bad_files)} bad file(s): {report.describe_bad(3)}")
    if report.empty_classes:
        notes.append(f"left out class(es) without images: {', '.join(report.empty_classes)}")
    classes = [c for c in report.class_names if c not in report.empty_classes]
    if len(classes) < 2:
        raise DataError(f"{report.root} needs at least 2 classes with images, found {len(classes)}")
    return classes


def _fit_notes(report: PreflightReport, shape: tuple[int, int, int]) -> list[str]:
    """Describe the channel conversion and resizing the pipeline will do."""
    h, w, want = shape
    if want not in (1, 3):
        raise DataError(f"image folders can feed a model with 1 or 3 input channels, not {want}")
    notes = []
    colour = {1: 1, 2: 1, 3: 3, 4: 3}
    for have in sorted({colour[c] for c in report.channel_counts}):
        note = channel_plan(have, want)
        if note:
            notes.append(note)
    alpha = sum(n for c, n in report.channel_counts.items() if c in (2, 4))
    if alpha:
        notes.append(f"dropped the alpha channel of {alpha} image(s)")
    if report.size_range and report.size_range != ((h, w), (h, w)):
        (h0, w0), (h1, w1) = report.size_range
        sizes = f"{h0}x{w0}" if (h0, w0) == (h1, w1) else f"{h0}x{w0} to {h1}x{w1}"
        notes.append(f"resized images ({sizes}) to {h}x{w} to match the model's input")
    return notes


def _train_stats(files: FolderFiles, y_train: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and std over the training images (one decoding pass, raw pixel units)."""
    from cnnlab.data.pipeline import decoded_images

    if not len(y_train):
        raise DataError("the training split is empty; cannot compute standardization statistics")
    _recheck(files.paths["train"])
    total = np.zeros(files.image_shape[-1])
    squares = np.zeros_like(total)
    count = 0
    for images in decoded_images(files.paths["train"], files.decoder()):
        flat = images.numpy().reshape(-1, files.image_shape[-1]).astype(np.float64)
        total += flat.sum(axis=0)
        squares += (flat * flat).sum(axis=0)
        count += len(flat)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    return stats_dict(mean, std)
