"""Loading an image folder: the preflight's usable files, split and decoded with tf.data.

The file list comes from :func:`cnnlab.data.folder_preflight.preflight_folder`, so bad
files are simply not in it (``bad_files="skip"``, and named in the splits'
``skipped_files``) or stop the load before anything is decoded
(``bad_files="stop"``, :class:`~cnnlab.data.report.BadFilesError`). Before
TensorFlow reads the files, each is checked again (a stat, no read) to be
still a regular file within the size cap. Images are decoded with
``tf.io.decode_image`` straight to the model's channel count and resized to
its input size inside the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlab.data.arrays import SPLITS, cap_splits, channel_plan, stats_dict, stratified_split
from cnnlab.data.folder_preflight import PreflightReport, preflight_folder
from cnnlab.data.report import BadFilesError
from cnnlab.data.safe_read import MAX_IMAGE_BYTES, UnusableFile, regular_size, too_large
from cnnlab.data.splits import DataSplits
from cnnlab.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf


@dataclass
class FolderFiles:
    """The image files of each split and how to turn one into a model input."""

    paths: dict[str, np.ndarray]
    image_shape: tuple[int, int, int]
    pixel_scale: float = 1.0
    stats: dict[str, list[float]] | None = None

    def dataset(self, split: str, labels: np.ndarray) -> tf.data.Dataset:
        """Return the unbatched dataset of decoded, preprocessed (image, label) samples.

        Raises:
            DataError: If a file stopped being a regular file of bounded size
                since the folder check (TensorFlow would block on a FIFO).

        """
        import tensorflow as tf

        _recheck(self.paths[split])
        h, w, c = self.image_shape
        scale = np.float32(self.pixel_scale)
        mean = std = None
        if self.stats is not None:
            mean = tf.constant(self.stats["mean"], tf.float32)
            std = tf.constant(self.stats["std"], tf.float32)

        def load(path, label):
            image = tf.io.decode_image(tf.io.read_file(path), channels=c, expand_animations=False)
            image.set_shape([None, None, c])
            image = tf.image.resize(tf.cast(image, tf.float32), (h, w), antialias=True)
            image = image / scale
            if mean is not None:
                image = (image - mean) / std
            return image, label

        ds = tf.data.Dataset.from_tensor_slices((self.paths[split], labels.astype(np.int32)))
        return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)


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
    files = FolderFiles({k: paths[v] for k, v in idx.items()}, shape, scale)
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
    """Per-channel mean and std over the training images (one decoding pass)."""
    if not len(y_train):
        raise DataError("the training split is empty; cannot compute standardization statistics")
    total = np.zeros(files.image_shape[-1])
    squares = np.zeros_like(total)
    count = 0
    for images, _ in files.dataset("train", y_train).batch(256):
        flat = images.numpy().reshape(-1, files.image_shape[-1]).astype(np.float64)
        total += flat.sum(axis=0)
        squares += (flat * flat).sum(axis=0)
        count += len(flat)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    return stats_dict(mean, std)
