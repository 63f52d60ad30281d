"""Dataset revisions: ``data.exclude`` and ``data.relabel`` applied to the loaded splits.

A revision names samples by id (see :meth:`cnnlab.data.splits.DataSplits.ids`)
and is applied after the split, so every other sample keeps its split and
its place in it. An id that names no sample of the dataset, or a new class
that is not one of the dataset's classes, is one line (:class:`DataError`);
an id of a real sample that the splits do not hold (left out by
``max_samples`` or as a bad file) is counted in a note.

Pure numpy: importing this module never loads TensorFlow.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from cnnlab.data.arrays import SPLITS, stats_dict
from cnnlab.errors import DataError, brief

ARRAY_ID = re.compile(r"(train|test)\[(\d{1,12})\]")


@dataclass(frozen=True)
class Revision:
    """The samples a spec leaves out and the ones it gives another class."""

    exclude: frozenset[str] = frozenset()
    relabel: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, data: Any) -> Revision:
        """The revision of a spec's ``data`` section (empty when it has none)."""
        exclude = frozenset(getattr(data, "exclude", None) or ())
        relabel = dict(getattr(data, "relabel", None) or {})
        return cls(exclude, {k: v for k, v in relabel.items() if k not in exclude})

    def __bool__(self) -> bool:
        return bool(self.exclude or self.relabel)


@dataclass
class Revised:
    """What a revision keeps of each split: positions, labels (revised) and ids."""

    keep: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    note: str | None


def array_ids(idx: dict[str, np.ndarray], own_test: bool) -> dict[str, np.ndarray]:
    """Ids of array samples: ``train[i]`` (x/y) or ``test[i]`` (x_test/y_test) per split."""
    out = {}
    for split, positions in idx.items():
        source = "test" if split == "test" and own_test else "train"
        out[split] = np.array([f"{source}[{int(i)}]" for i in positions], dtype=object)
    return out


def array_sample_check(n_train: int, n_test: int | None) -> Callable[[str], bool]:
    """Whether an id names a sample of arrays with ``n_train`` (and ``n_test``) samples."""

    def is_sample(sample: str) -> bool:
        match = ARRAY_ID.fullmatch(sample)
        if match is None:
            return False
        n = n_train if match.group(1) == "train" else (n_test or 0)
        return int(match.group(2)) < n

    return is_sample


def array_hint(n_train: int, n_test: int | None) -> str:
    """``samples are train[0]..train[99] and test[0]..test[19]``."""
    text = f"samples are train[0]..train[{n_train - 1}]"
    return text + (f" and test[0]..test[{n_test - 1}]" if n_test else "")


FOLDER_HINT = "ids are file paths under data.path, such as cat/img001.png"


def folder_ids(root: str, paths: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ids of folder samples: each file's path under ``root``, POSIX slashes."""
    base = Path(root)
    return {split: np.array([Path(p).relative_to(base).as_posix() for p in files],
                            dtype=object) for split, files in paths.items()}


def folder_sample_check(root: str) -> Callable[[str], bool]:
    """Whether an id names a regular file inside the folder ``root`` (a stat, no read)."""
    base = Path(root)

    def is_sample(sample: str) -> bool:
        parts = PurePosixPath(sample).parts
        if not parts or sample.startswith("/") or any(p in ("..", ".") for p in parts):
            return False
        try:
            return (base / Path(*parts)).is_file()
        except (OSError, ValueError):
            return False

    return is_sample


def revise(
    revision: Revision,
    ids: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    class_names: list[str],
    is_sample: Callable[[str], bool],
    hint: str = "",
) -> Revised:
    """Apply ``revision`` to splits given by their sample ids and labels.

    Args:
        revision: What to exclude and relabel.
        ids: Split -> the id of each sample, in order.
        labels: Split -> int labels, in the same order.
        class_names: The dataset's classes (relabel targets must be among them).
        is_sample: Whether an id the splits do not hold still names a sample
            of the dataset (then it is counted in the note, not refused).
        hint: What the ids of this source look like, for the message of a bad id.

    Returns:
        The :class:`Revised` positions, labels and ids of each split.

    Raises:
        DataError: If an id names no sample or a new class is not a class.

    """
    held = {str(s) for split in SPLITS for s in ids[split]}
    missing = _check_ids(revision, held, is_sample, hint)
    targets = _relabel_targets(revision.relabel, class_names)
    keep, new_labels, new_ids = {}, {}, {}
    relabelled = 0
    for split in SPLITS:
        split_ids = np.asarray(ids[split], dtype=object)
        mask = np.array([s not in revision.exclude for s in split_ids], dtype=bool)
        keep[split] = np.flatnonzero(mask)
        y = np.array(labels[split], dtype=np.int32, copy=True)
        for pos, sample in enumerate(split_ids):
            if sample in targets:
                relabelled += int(y[pos] != targets[sample])
                y[pos] = targets[sample]
        new_labels[split] = y[keep[split]]
        new_ids[split] = split_ids[keep[split]]
    excluded = sum(len(ids[s]) - len(keep[s]) for s in SPLITS)
    return Revised(keep, new_labels, new_ids, _note(excluded, relabelled, missing))


def _check_ids(revision: Revision, held: set[str], is_sample: Callable[[str], bool],
               hint: str) -> int:
    """Refuse an id that names no sample; return how many name samples the splits lack."""
    missing = 0
    for key, names in (("exclude", sorted(revision.exclude)),
                       ("relabel", sorted(revision.relabel))):
        for sample in names:
            if sample in held:
                continue
            if not is_sample(sample):
                raise DataError(f"data.{key} names {_shown(sample)}, which is not a sample"
                                + (f" ({hint})" if hint else ""))
            missing += 1
    return missing


def _relabel_targets(relabel: dict[str, str], class_names: list[str]) -> dict[str, int]:
    targets = {}
    known = _shown(", ".join(class_names), 200)
    for sample, name in relabel.items():
        if name not in class_names:
            raise DataError(f"data.relabel gives {_shown(sample)} the class {brief(name)}, "
                            f"which is not a class (classes: {known})")
        targets[sample] = class_names.index(name)
    return targets


def _note(excluded: int, relabelled: int, missing: int) -> str | None:
    """``excluded 5 samples, relabelled 2 (data.exclude, data.relabel)``, or None."""
    parts, keys = [], []
    if excluded:
        parts.append(f"excluded {_samples(excluded)}")
        keys.append("data.exclude")
    if relabelled:
        parts.append(f"relabelled {relabelled}")
        keys.append("data.relabel")
    text = f"{', '.join(parts)} ({', '.join(keys)})" if parts else ""
    if missing:
        also = f"{_samples(missing)} named by the revision are not in the splits"
        text = f"{text}; {also}" if text else f"the {also}"
        text += " (left out by max_samples or as bad files)"
    return text or None


def _shown(sample: str, limit: int = 80) -> str:
    """A sample id for a one-line message: as is when printable and short, else quoted."""
    text = sample if sample.isprintable() else repr(sample)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _samples(n: int) -> str:
    return f"{n} sample" if n == 1 else f"{n} samples"


def folder_train_stats(files: Any, y_train: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and std of the raw training images of a folder (one decoding pass).

    ``files`` must decode unstandardized images (its ``stats`` None).
    """
    if not len(y_train):
        raise DataError("the training split is empty; cannot compute standardization statistics")
    channels = files.image_shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    count = 0
    for images, _ in files.dataset("train", y_train).batch(256):
        flat = images.numpy().reshape(-1, channels).astype(np.float64)
        total += flat.sum(axis=0)
        squares += (flat * flat).sum(axis=0)
        count += len(flat)
    mean = total / count
    return stats_dict(mean, np.sqrt(np.maximum(squares / count - mean * mean, 0.0)))
