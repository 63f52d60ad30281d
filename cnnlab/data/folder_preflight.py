"""Image folders: one sub-folder per class, checked file by file before training.

:func:`preflight_folder` decodes every file once and names each one that
cannot be used (unreadable, not an image, corrupt) and every class left
without images, so the user hears about them before a run starts rather than
from a crash in the middle of an epoch. Nothing but regular files of bounded
size is ever opened: a FIFO or a link to a device is named, never read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.data.folder_walk import FolderWalk
from cnnlab.data.image_header import content_problem, pixel_problem
from cnnlab.data.safe_read import (
    MAX_IMAGE_BYTES,
    UnusableFile,
    file_kind,
    read_regular,
    stat_reason,
)
from cnnlab.errors import DataError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp")


@dataclass
class PreflightReport:
    """What :func:`preflight_folder` found.

    Attributes:
        root: The folder that was checked.
        class_names: Sub-folder names, sorted; label ``i`` is ``class_names[i]``.
        counts: Usable images per class.
        bad_files: ``(path, reason)`` for every file that cannot be used.
        empty_classes: Classes with no usable image.
        images: ``(path, class_name)`` of every usable image.
        channel_counts: Number of usable images by channel count (1, 2, 3 or 4).
        size_range: ``((min_h, min_w), (max_h, max_w))`` of usable images, or None.

    """

    root: str
    class_names: list[str]
    counts: dict[str, int]
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list, repr=False)
    channel_counts: dict[int, int] = field(default_factory=dict)
    size_range: tuple[tuple[int, int], tuple[int, int]] | None = None

    @property
    def ok(self) -> bool:
        """True if there are classes, every file is usable and no class is empty."""
        return bool(self.class_names) and not self.bad_files and not self.empty_classes

    def left_out_classes(self) -> list[tuple[str, str]]:
        """Return ``(class name, reason)`` for every class without a usable image."""
        out = []
        for name in self.empty_classes:
            folder = str(Path(self.root) / name)
            bad = sum(1 for p, _ in self.bad_files
                      if p == folder or p.startswith(folder + os.sep))
            out.append((name, f"no usable image ({bad} bad file(s))" if bad else "no image files"))
        return out

    def summary(self) -> str:
        """Return a one-paragraph description of the check, for the user."""
        if not self.class_names:
            return (
                f"{self.root} has no class sub-folders; put the images of each class "
                "in a sub-folder named after the class."
            )
        per_class = ", ".join(f"{name}: {self.counts[name]}" for name in self.class_names)
        text = (
            f"Found {sum(self.counts.values())} usable images in "
            f"{len(self.class_names)} classes ({per_class})."
        )
        if self.bad_files:
            text += f" {len(self.bad_files)} file(s) cannot be used: {self.describe_bad()}."
        if self.empty_classes:
            text += f" Class(es) without images: {', '.join(self.empty_classes)}."
        if self.ok:
            text += " Every file is usable."
        return text

    def describe_bad(self, limit: int | None = None) -> str:
        """Return ``"cat/a.txt (not an image file), ..."``, at most ``limit`` entries."""
        shown = self.bad_files if limit is None else self.bad_files[:limit]
        text = "; ".join(f"{self._relative(p)} ({why})" for p, why in shown)
        if len(shown) < len(self.bad_files):
            text += f"; and {len(self.bad_files) - len(shown)} more"
        return text

    def _relative(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path


def preflight_folder(path: str | os.PathLike) -> PreflightReport:
    """Check an image folder (one sub-folder per class) file by file.

    Every file in a class folder (sub-folders included, hidden files
    skipped) is read and decoded. Only regular files are opened (see
    :mod:`cnnlab.data.folder_walk` for links, loops and duplicates), each of
    at most ``MAX_IMAGE_BYTES`` and ``MAX_IMAGE_PIXELS`` as its header
    declares. Files with a non-image extension, anything that is not a
    regular file, files that are too large, cannot be read or fail to decode
    are reported with the reason; so are classes left without a usable image.

    Args:
        path: The dataset folder.

    Returns:
        A :class:`PreflightReport`.

    Raises:
        DataError: If ``path`` is not a readable folder.

    """
    root = Path(path).expanduser()
    _check_root(root)
    try:
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not _hidden(p))
    except OSError as exc:
        raise DataError(f"cannot read the image folder {root}: {exc.strerror}") from None
    report = PreflightReport(root=str(root), class_names=[d.name for d in class_dirs], counts={})
    shapes: list[tuple[int, int, int]] = []
    walk = FolderWalk(bad=report.bad_files)
    walk.reserve(root, *class_dirs)
    for class_dir in class_dirs:
        shapes.extend(_scan_class(class_dir, report, walk))
    report.bad_files.sort()
    report.channel_counts = dict(sorted(Counter(s[2] for s in shapes).items()))
    if shapes:
        hs, ws = [s[0] for s in shapes], [s[1] for s in shapes]
        report.size_range = ((min(hs), min(ws)), (max(hs), max(ws)))
    return report


def _check_root(root: Path) -> None:
    """Refuse a dataset path that is missing or not a folder, saying what it is."""
    try:
        info = os.stat(root)
    except OSError as exc:
        if os.path.lexists(root) or exc.errno != errno.ENOENT:
            raise DataError(f"cannot use the image folder {root}: {stat_reason(exc)}") from None
        raise DataError(f"image folder not found: {root}") from None
    if stat.S_ISREG(info.st_mode):
        hint = " (for an .npz file use the source 'npz')" if root.suffix == ".npz" else ""
        raise DataError(f"{root} is a file, not a folder with one sub-folder per class{hint}")
    if not stat.S_ISDIR(info.st_mode):
        raise DataError(f"{root} is {file_kind(info.st_mode)}, not a folder")


def _scan_class(
    class_dir: Path, report: PreflightReport, walk: FolderWalk
) -> list[tuple[int, int, int]]:
    """Check the files of one class into ``report``; return the (H, W, C) of its good images."""
    shapes = []
    for file in walk.class_files(class_dir):
        shape, reason = _check_image(file)
        if reason:
            report.bad_files.append((str(file), reason))
        else:
            report.images.append((str(file), class_dir.name))
            shapes.append(shape)
    report.counts[class_dir.name] = len(shapes)
    if not shapes:
        report.empty_classes.append(class_dir.name)
    return shapes


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _check_image(file: Path) -> tuple[tuple[int, int, int], str | None]:
    """Decode ``file``; return its (H, W, C) and None, or a dummy shape and the reason it fails."""
    none = (0, 0, 0)
    if file.suffix.lower() not in IMAGE_EXTENSIONS:
        return none, f"not an image: {file.suffix or 'no'} extension"
    try:
        data = read_regular(file, MAX_IMAGE_BYTES)
    except UnusableFile as exc:
        return none, str(exc)
    if not data:
        return none, "empty file"
    refused = content_problem(data) or pixel_problem(data)
    if refused:
        return none, refused
    import tensorflow as tf

    try:
        image = tf.io.decode_image(data, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as exc:
        return none, f"corrupt image: {_tf_reason(exc)}"
    h, w, c = (int(d) for d in image.shape)
    if h == 0 or w == 0:
        return none, "corrupt image: no pixels"
    return (h, w, c), None


def _tf_reason(exc: Exception) -> str:
    """Return the readable part of a TensorFlow error message."""
    text = str(getattr(exc, "message", exc)).strip().splitlines()[0]
    if text.startswith("{{"):
        text = text.split("}}", 1)[-1].strip()
    return text.split(" [Op:", 1)[0].rstrip(". ") or "cannot decode"
