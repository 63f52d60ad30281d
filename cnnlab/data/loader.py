"""``load_data``: from the spec's ``data`` section to splits that fit the model's input."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from cnnlab.data.arrays import (
    SPLITS,
    cap_splits,
    channel_plan,
    channel_stats,
    convert_channels,
    pixel_scale,
    stratified_split,
)
from cnnlab.data.keras_datasets import load_keras
from cnnlab.data.npz import load_npz
from cnnlab.data.raw import RawData
from cnnlab.data.revisions import (
    FOLDER_HINT,
    Revision,
    array_hint,
    array_ids,
    array_sample_check,
    folder_ids,
    folder_sample_check,
    folder_train_stats,
    revise,
)
from cnnlab.data.shapes import generate_shapes
from cnnlab.data.splits import DataSplits
from cnnlab.errors import DataError

SOURCES = ("shapes", "npz", "folder", "keras")
NORMALIZATIONS = ("scale", "standardize", "none")
BAD_FILE_CHOICES = ("skip", "stop")


def load_data(data: Any, input_shape: tuple[int, int, int], seed: int) -> DataSplits:
    """Load the dataset described by ``data`` and fit it to a model input.

    Images are split (validation and test taken class by class; sources with
    their own test set keep it), capped at ``data.max_samples`` training
    samples, scaled or standardized (statistics from the training split
    only), converted between grayscale and RGB, and resized to the model's
    (H, W). The revision (``data.exclude``, ``data.relabel``) is applied
    after the split, so the other samples keep their split. Every such step
    is reported in ``notes``; every sample is named (:meth:`DataSplits.ids`).

    Args:
        data: The spec's ``data`` section (any object with its attributes:
            ``source, path, keras_name, validation_split, test_split,
            normalization, bad_files, max_samples, shapes``, and optionally
            ``exclude, relabel``).
        input_shape: The model's input (H, W, C), channels last. H and W may
            be None to keep the data's size (not for folders).
        seed: Seed of the split (the shapes generator has its own seed).

    Returns:
        The :class:`DataSplits`.

    Raises:
        DataError: If the data cannot be found, read or fitted to the model.

    """
    shape = _check_input_shape(input_shape)
    _check_options(data)
    if data.source == "folder":
        from cnnlab.data.folder import load_folder

        return revise_folder(load_folder(data, shape, seed), Revision.of(data))
    raw = _load_raw(data)
    notes = list(raw.notes)
    idx = _split(raw, data, seed, notes)
    ids = array_ids(idx, own_test=raw.x_test is not None)
    labels = {name: _pool(raw, name, "y")[i] for name, i in idx.items()}
    revision = Revision.of(data)
    if revision:
        n_test = None if raw.y_test is None else len(raw.y_test)
        revised = revise(revision, ids, labels, raw.class_names,
                         array_sample_check(len(raw.y), n_test), array_hint(len(raw.y), n_test))
        idx = {name: i[revised.keep[name]] for name, i in idx.items()}
        labels, ids = revised.labels, revised.ids
        notes.extend([revised.note] if revised.note else [])
    parts = {name: (_pool(raw, name, "x")[i], labels[name]) for name, i in idx.items()}
    splits = _fit(raw, parts, shape, data.normalization, notes)
    splits.sample_ids = ids
    return splits


def revise_folder(splits: DataSplits, revision: Revision) -> DataSplits:
    """Name a folder's samples by file path and apply ``revision`` to its splits.

    The revised splits keep the files' order; standardization statistics are
    computed again over the revised training split.
    """
    files = splits.files
    ids = folder_ids(splits.folder, files.paths)
    if not revision:
        splits.sample_ids = ids
        return splits
    labels = {name: splits.labels(name) for name in SPLITS}
    revised = revise(revision, ids, labels, splits.class_names,
                     folder_sample_check(splits.folder), FOLDER_HINT)
    paths = {name: np.asarray(files.paths[name])[revised.keep[name]] for name in SPLITS}
    notes = splits.notes  # the files add their cache choice to the same list
    notes.extend([revised.note] if revised.note else [])
    files = dataclasses.replace(files, paths=paths)
    if splits.normalization == "standardize":
        files.stats = None
        files.stats = folder_train_stats(files, revised.labels["train"])
    y = revised.labels
    return dataclasses.replace(splits, y_train=y["train"], y_val=y["val"], y_test=y["test"],
                               files=files, normalization_stats=files.stats, notes=notes,
                               sample_ids=revised.ids)


def _pool(raw: RawData, split: str, kind: str) -> np.ndarray:
    """The source arrays a split's indices point into (the own test set for ``test``)."""
    own_test = split == "test" and raw.x_test is not None
    return getattr(raw, f"{kind}_test" if own_test else kind)


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    problem = f"the model input must be (height, width, channels), got {input_shape}"
    try:
        h, w, c = (None if d is None else int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise DataError(problem) from None
    if c is None or c < 1 or any(d is not None and d < 1 for d in (h, w)):
        raise DataError(problem)
    return h, w, c


def _check_options(data: Any) -> None:
    for name, value, choices in (
        ("source", data.source, SOURCES),
        ("normalization", data.normalization, NORMALIZATIONS),
        ("bad_files", data.bad_files, BAD_FILE_CHOICES),
    ):
        if value not in choices:
            raise DataError(f"data.{name} must be one of {', '.join(choices)}, got {value!r}")
    if data.max_samples is not None and int(data.max_samples) < 1:
        raise DataError(f"data.max_samples must be at least 1, got {data.max_samples}")


def _load_raw(data: Any) -> RawData:
    if data.source == "npz":
        return load_npz(data.path)
    if data.source == "keras":
        return load_keras(data.keras_name)
    s = data.shapes
    x, y = generate_shapes(s.classes, s.samples, s.image_size, s.channels, s.noise, s.seed)
    return RawData(x=x, y=y, class_names=[str(c) for c in s.classes])


def _split(raw: RawData, data: Any, seed: int, notes: list[str]) -> dict[str, np.ndarray]:
    """Choose the samples of each split; return ``split -> indices`` into the source's pool.

    Train and validation index ``raw.x``; test indexes ``raw.x_test`` where
    the source has its own test set, else ``raw.x``.
    """
    val_frac, test_frac = float(data.validation_split), float(data.test_split)
    if raw.x_test is None:
        train, val, test = stratified_split(raw.y, val_frac, test_frac, seed)
        idx = {"train": train, "val": val, "test": test}
    else:
        train, val, _ = stratified_split(raw.y, val_frac, 0.0, seed)
        test = np.random.default_rng(seed).permutation(len(raw.y_test))
        idx = {"train": train, "val": val, "test": test}
        notes.append(f"used the dataset's own test set ({len(test)} samples); test_split is unused")
    idx, cap_note = cap_splits(idx, data.max_samples)
    if cap_note:
        notes.append(cap_note)
    return idx


def _fit(
    raw: RawData,
    parts: dict[str, tuple[np.ndarray, np.ndarray]],
    shape: tuple[int, int, int],
    normalization: str,
    notes: list[str],
) -> DataSplits:
    """Scale, convert channels, resize and standardize the split arrays."""
    h0, w0, have = raw.x.shape[1:]
    size = (shape[0] or h0, shape[1] or w0)
    want = shape[2]
    divisor, scale_note = pixel_scale(parts["train"][0], normalization)
    channel_note = channel_plan(have, want)
    resize_note = None
    if size != (h0, w0):
        resize_note = f"resized {h0}x{w0} images to {size[0]}x{size[1]} to match the model's input"
    notes.extend(n for n in (scale_note, channel_note, resize_note) if n)
    xs = {k: _convert(x, divisor, want, size) for k, (x, _) in parts.items()}
    stats = None
    if normalization == "standardize":
        stats = channel_stats(xs["train"])
        mean, std = (np.array(stats[k], np.float32) for k in ("mean", "std"))
        for x in xs.values():
            x -= mean
            x /= std
    return DataSplits(
        class_names=list(raw.class_names),
        image_shape=(size[0], size[1], want),
        x_train=xs["train"],
        y_train=parts["train"][1],
        x_val=xs["val"],
        y_val=parts["val"][1],
        x_test=xs["test"],
        y_test=parts["test"][1],
        notes=notes,
        normalization=normalization,
        normalization_stats=stats,
        pixel_scale=divisor,
    )


def _convert(x: np.ndarray, divisor: float, want: int, size: tuple[int, int]) -> np.ndarray:
    """Raw images -> float32, divided by ``divisor``, with ``want`` channels, resized."""
    from cnnlab.data.pipeline import resize_images

    x = x.astype(np.float32)
    if divisor != 1.0:
        x /= np.float32(divisor)
    if want < x.shape[-1]:
        x = convert_channels(x, want)
    x = resize_images(x, size)
    if want > x.shape[-1]:
        x = convert_channels(x, want)
    return np.ascontiguousarray(x, dtype=np.float32)
