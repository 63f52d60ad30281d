"""Dataset health: class balance, sizes, mean images, duplicates, leaks and bad files.

:func:`check_data` reads a dataset the way an experiment's ``data`` section
names it (``folder``, ``npz``, ``shapes``, or ``keras`` when its file is
cached) in one pass (:mod:`cnnlab.data.health_scan`), assigns every sample to
the split the loader would give it with the same seed
(:mod:`cnnlab.data.health_splits`), applies the experiment's revisions
(``data.exclude``, ``data.relabel``) and groups exact and near duplicates
(:mod:`cnnlab.data.health_duplicates`): within a class, across classes
(conflicting labels) and across splits (leakage). TensorFlow is not needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.data.arrays import SPLITS
from cnnlab.data.health_duplicates import exact_groups
from cnnlab.data.health_near import NEAR_THRESHOLD, near_groups
from cnnlab.data.health_scan import Progress, Scan, scan_arrays, scan_folder
from cnnlab.data.health_splits import array_assignment, folder_assignment
from cnnlab.data.revisions import Revision
from cnnlab.errors import DataError

IMBALANCE_RATIO = 2.0  # largest class / smallest class from which a warning is given
THUMBNAIL_GROUPS = 60  # duplicate groups whose images get thumbnails (for the window)
THUMBNAILS_PER_GROUP = 8


@dataclass
class DuplicateGroup:
    """Samples that are copies (``exact``) or look alike (``near``).

    Attributes:
        files: Sample ids (``cat/a.png``, ``train[3]``).
        kind: ``"exact"`` or ``"near"``.
        classes: The classes of its members, sorted (two or more: conflicting labels).
        splits: The splits of its members, sorted (two or more: leakage).
        paths: The members' files (folders), else None.
    """

    files: list[str]
    kind: str
    classes: list[str]
    splits: list[str]
    paths: list[str] | None = None

    @property
    def conflicting(self) -> bool:
        """True when the members carry different labels."""
        return len(self.classes) > 1

    @property
    def leaking(self) -> bool:
        """True when the members are in different splits (train/val/test)."""
        return len(self.splits) > 1

    def to_json(self) -> dict[str, Any]:
        """The issue's shape: ``{"files", "kind", "classes", "splits"}``."""
        return {"files": self.files, "kind": self.kind, "classes": self.classes,
                "splits": self.splits}


@dataclass
class HealthReport:
    """What :func:`check_data` found (see :meth:`to_json` for the machine-readable form)."""

    source: str
    where: str
    class_names: list[str]
    classes: dict[str, int]
    splits: dict[str, int]
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    sizes: dict[tuple[int, int], int] = field(default_factory=dict)
    channels: dict[int, int] = field(default_factory=dict)
    mean_images: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    thumbnails: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    images: int = 0
    excluded: int = 0
    relabelled: int = 0
    unknown_revisions: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def imbalance(self) -> str | None:
        """A warning when the largest class has ``IMBALANCE_RATIO`` times the smallest."""
        counts = {k: v for k, v in self.classes.items() if v > 0}
        if len(counts) < 2:
            return None
        big, small = max(counts, key=counts.get), min(counts, key=counts.get)
        ratio = counts[big] / counts[small]
        if ratio < IMBALANCE_RATIO:
            return None
        return (f"classes are imbalanced: {big} has {counts[big]} images, {ratio:.1f}x the "
                f"{counts[small]} of {small}")

    @property
    def rate(self) -> float:
        """Images checked per second."""
        return self.images / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """``{"classes", "splits", "duplicates", "bad_files", ...}`` as the issue specifies."""
        return {
            "source": self.source, "where": self.where,
            "classes": self.classes, "splits": self.splits,
            "duplicates": [g.to_json() for g in self.duplicates],
            "bad_files": [{"file": f, "reason": r} for f, r in self.bad_files],
            "empty_classes": self.empty_classes,
            "imbalance": self.imbalance,
            "sizes": {f"{h}x{w}": n for (h, w), n in sorted(self.sizes.items())},
            "channels": {str(c): n for c, n in sorted(self.channels.items())},
            "images": self.images, "excluded": self.excluded, "relabelled": self.relabelled,
            "unknown_revisions": self.unknown_revisions,
            "seconds": round(self.seconds, 3), "images_per_second": round(self.rate, 1),
        }


def check_data(data: Any, seed: int, near_threshold: int = NEAR_THRESHOLD,
               progress: Progress | None = None, stop: Callable[[], bool] | None = None,
               thumbnails: bool = False) -> HealthReport:
    """Check the dataset an experiment's ``data`` section names.

    Args:
        data: The spec's data section (``source, path, keras_name, shapes,
            validation_split, test_split, max_samples`` and, where present,
            ``exclude`` and ``relabel``).
        seed: The experiment's seed (``training.seed``): the loader's split.
        near_threshold: Largest perceptual-hash distance of near duplicates
            (bits of 64); below 0, near duplicates are not looked for.
        progress: Called with ``(images done, images in all)`` now and then.
        stop: Polled as often; True stops the check (``ScanStopped``).
        thumbnails: Also keep small pictures of the duplicates (for the window).

    Returns:
        The :class:`HealthReport`.

    Raises:
        DataError: If the data cannot be found or read, naming the file.

    """
    started = time.perf_counter()
    revisions = _Revisions(data)
    if data.source == "folder":
        scan, where, assignment = _folder(data, seed, revisions, progress, stop)
    else:
        scan, where, assignment, arrays = _arrays(data, seed, revisions, progress, stop)
    report = _report(data.source, where, scan, assignment, near_threshold)
    report.unknown_revisions = revisions.unknown(scan)
    if thumbnails:
        report.thumbnails = _thumbnails(report, scan, None if data.source == "folder"
                                        else arrays)
    report.seconds = time.perf_counter() - started
    return report


class _Revisions:
    """``data.exclude`` and ``data.relabel`` of the experiment, as a label function."""

    def __init__(self, data: Any) -> None:
        revision = Revision.of(data)
        self.exclude, self.relabel = revision.exclude, revision.relabel
        self.class_names: list[str] = []

    def unknown(self, scan: Scan) -> list[str]:
        """The ids the revision names that are no usable sample (a typo, a deleted file)."""
        known = set(scan.ids)
        return sorted(i for i in (*self.exclude, *self.relabel) if i not in known)

    def revise(self, sample_id: str, label: int) -> int:
        if sample_id in self.exclude:
            return -1
        name = self.relabel.get(sample_id)
        if name is None:
            return label
        if name not in self.class_names:
            raise DataError(f"data.relabel[{sample_id!r}]: {name!r} is not one of the classes "
                            f"({', '.join(self.class_names)})")
        return self.class_names.index(name)


def _folder(data, seed, revisions, progress, stop) -> tuple[Scan, str, np.ndarray]:
    from cnnlab.data.folder_preflight import _check_root

    if not data.path:
        raise DataError("data.path must name the image folder (one sub-folder per class)")
    root = Path(data.path).expanduser()
    _check_root(root)
    try:
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise DataError(f"cannot read the image folder {root}: {exc.strerror}") from None
    if not class_dirs:
        raise DataError(f"{root} has no class sub-folders; put the images of each class in "
                        "a sub-folder named after the class")
    revisions.class_names = [d.name for d in class_dirs]
    scan = scan_folder(root, class_dirs, revisions.revise, progress, stop)
    assignment = folder_assignment(np.array(scan.labels, np.int64), len(class_dirs), data, seed)
    return scan, str(root), assignment


def _arrays(data, seed, revisions, progress, stop):
    from cnnlab.data.health_sources import array_source

    where, names, x, y, x_test, y_test = array_source(data)
    revisions.class_names = names
    pools = {"train": (x, y)} if x_test is None else {"train": (x, y), "test": (x_test, y_test)}
    scan = scan_arrays(pools, names, revisions.revise, progress, stop)
    test_count = None if x_test is None else len(x_test)
    assignment = array_assignment(y, test_count, data, seed)
    return scan, where, assignment, pools


def _report(source: str, where: str, scan: Scan, assignment: np.ndarray, threshold: int
            ) -> HealthReport:
    names = scan.class_names
    effective = np.array(scan.effective, np.int64)
    kept = np.flatnonzero(effective >= 0)
    counts = np.bincount(effective[kept], minlength=len(names))
    report = HealthReport(
        source=source, where=where, class_names=list(names),
        classes={n: int(c) for n, c in zip(names, counts, strict=True)},
        splits={s: int(np.sum(assignment[kept] == s)) for s in SPLITS},
        bad_files=list(scan.bad_files),
        empty_classes=[n for n, c in zip(names, counts, strict=True) if not c],
        sizes=dict(scan.sizes), channels=dict(scan.channels), images=len(scan.ids),
        excluded=int(np.sum(effective < 0)),
        relabelled=int(np.sum((effective >= 0) & (effective != np.array(scan.labels)))),
    )
    gray = bool(scan.channels) and set(scan.channels) <= {1, 2}
    for k, name in enumerate(names):
        if counts[k]:
            mean = (scan.mean_sums[k] / counts[k]).astype(np.float32)
            report.mean_images[name] = mean[..., :1] if gray else mean
    report.duplicates = _duplicates(scan, assignment, kept, threshold)
    return report


def _duplicates(scan: Scan, assignment: np.ndarray, kept: np.ndarray, threshold: int
                ) -> list[DuplicateGroup]:
    """Exact groups, then near groups that are not just one exact group; problems first."""
    digests = [scan.digests[i] for i in kept]
    exact = [[int(kept[i]) for i in g] for g in exact_groups(digests)]
    near = [[int(kept[i]) for i in g]
            for g in near_groups(scan.hashes[kept], scan.thumbnails[kept], threshold)]
    near = [g for g in near if len({scan.digests[i] for i in g}) > 1]
    groups = [_group(scan, assignment, g, "exact") for g in exact]
    groups += [_group(scan, assignment, g, "near") for g in near]
    return sorted(groups, key=lambda g: (not g.conflicting, not g.leaking, g.kind != "exact",
                                         -len(g.files)))


def _group(scan: Scan, assignment: np.ndarray, members: list[int], kind: str) -> DuplicateGroup:
    names = scan.class_names
    return DuplicateGroup(
        files=[scan.ids[i] for i in members], kind=kind,
        classes=sorted({names[scan.effective[i]] for i in members}),
        splits=sorted({str(assignment[i]) for i in members if assignment[i]},
                      key=SPLITS.index),
        paths=None if scan.paths is None else [scan.paths[i] for i in members],
    )


def _thumbnails(report: HealthReport, scan: Scan, arrays) -> dict[str, np.ndarray]:
    """Small RGB pictures of the first groups' members, for the window's duplicate list."""
    from cnnlab.data.health_scan import uint8_factor
    from cnnlab.data.health_sources import array_thumbnail, file_thumbnail

    factor = 1.0 if arrays is None else uint8_factor(*(x for x, _ in arrays.values()))
    index = {sample_id: i for i, sample_id in enumerate(scan.ids)}
    out: dict[str, np.ndarray] = {}
    for group in report.duplicates[:THUMBNAIL_GROUPS]:
        for sample_id in group.files[:THUMBNAILS_PER_GROUP]:
            if sample_id in out:
                continue
            if arrays is None:
                picture = file_thumbnail(scan.paths[index[sample_id]])
            else:
                picture = array_thumbnail(arrays, sample_id, factor)
            if picture is not None:
                out[sample_id] = picture
    return out
