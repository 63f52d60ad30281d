"""One pass over a dataset's images: what the health check needs, each image decoded once.

For a folder the walk is the preflight's (:class:`~cnnlab.data.folder_walk.FolderWalk`:
regular files only, each real file once), every file is read once with the
size cap (:func:`~cnnlab.data.safe_read.read_regular`), its header checked
(content and declared pixels, :mod:`cnnlab.data.image_header`) and only then
decoded, once, with Pillow. From the decoded image come the content hash (of
the bytes read), the phash thumbnail, the size and channel count, and the
class's running mean. Array sources give the same from their arrays.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.data.folder_preflight import IMAGE_EXTENSIONS
from cnnlab.data.folder_walk import FolderWalk
from cnnlab.data.health_duplicates import (
    PHASH_SIDE,
    content_digest,
    phash_batch,
    small_thumbnails,
)
from cnnlab.data.image_header import content_problem, pixel_problem
from cnnlab.data.safe_read import MAX_IMAGE_BYTES, UnusableFile, read_regular

MEAN_SIDE = 32  # per-class mean images are this many pixels square
BATCH = 1024  # thumbnails hashed at a time
Progress = Callable[[int, int], None]
Revise = Callable[[str, int], int]  # (sample id, label) -> revised label, or -1 if excluded


class ScanStopped(Exception):  # noqa: N818 - the user's stop, not a failure
    """The caller asked the scan to stop."""


@dataclass
class Scan:
    """What one pass over the images found.

    Attributes:
        ids: Sample ids (``cat/a.png`` or ``train[3]``), one per usable image.
        labels: Class index of each usable image, as the source gives it.
        effective: Class index after the experiment's revisions (-1: excluded).
        class_names: Label ``i`` is ``class_names[i]``.
        digests: Content hash of each image.
        hashes: uint64 perceptual hash of each image.
        thumbnails: uint8 (N, 16, 16) grayscale thumbnails (the near-pair check).
        sizes: Images per (height, width).
        channels: Images per channel count.
        mean_sums: float64 (K, S, S, 3) sums of each class's images at ``MEAN_SIDE``.
        bad_files: ``(sample id, reason)`` of every file that cannot be used.
        paths: Absolute file of each image (folders), else None.
        pools: For arrays, which array (``train`` or ``test``) each image is from.
    """

    ids: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    effective: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    digests: list[bytes] = field(default_factory=list)
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    thumbnails: np.ndarray = field(default_factory=lambda: np.zeros((0, 16, 16), np.uint8))
    sizes: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)
    mean_sums: np.ndarray | None = None
    bad_files: list[tuple[str, str]] = field(default_factory=list)
    paths: list[str] | None = None
    pools: list[str] | None = None


class _Hasher:
    """Collects 32x32 phash thumbnails and hashes them a batch at a time."""

    def __init__(self) -> None:
        self.pending: list[np.ndarray] = []
        self.hashes: list[np.ndarray] = []
        self.small: list[np.ndarray] = []

    def add(self, gray) -> None:
        from PIL import Image

        self.pending.append(np.asarray(gray.resize((PHASH_SIDE, PHASH_SIDE), Image.LANCZOS)))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            stack = np.stack(self.pending)
            self.hashes.append(phash_batch(stack))
            self.small.append(small_thumbnails(stack))
            self.pending = []

    def finish(self, scan: Scan) -> None:
        self.flush()
        if self.hashes:
            scan.hashes = np.concatenate(self.hashes)
            scan.thumbnails = np.concatenate(self.small)


def scan_folder(root: Path, class_dirs: list[Path], revise: Revise,
                progress: Progress | None = None, stop: Callable[[], bool] | None = None
                ) -> Scan:
    """Read and decode every file of the class folders once (see the module docstring)."""
    walk = FolderWalk()
    walk.reserve(root, *class_dirs)
    listing = [(file, label) for label, d in enumerate(class_dirs)
               for file in walk.class_files(d)]
    scan = Scan(class_names=[d.name for d in class_dirs], paths=[])
    scan.bad_files = [(_relative(Path(p), root), why) for p, why in walk.bad]
    scan.mean_sums = np.zeros((len(class_dirs), MEAN_SIDE, MEAN_SIDE, 3))
    hasher = _Hasher()
    for done, (file, label) in enumerate(listing):
        if done % 256 == 0:
            _report(progress, stop, done, len(listing))
        image, data, reason = _decode(file)
        if reason:
            scan.bad_files.append((_relative(file, root), reason))
            continue
        sample_id = _relative(file, root)
        _add_image(scan, hasher, image, (label, revise(sample_id, label)), content_digest(data))
        scan.ids.append(sample_id)
        scan.paths.append(str(file))
    hasher.finish(scan)
    _report(progress, stop, len(listing), len(listing))
    scan.bad_files.sort()
    return scan


def scan_arrays(pools: dict[str, tuple[np.ndarray, np.ndarray]], class_names: list[str],
                revise: Revise, progress: Progress | None = None,
                stop: Callable[[], bool] | None = None) -> Scan:
    """The same pass over in-memory arrays: ``pool name -> (images, labels)``."""
    from PIL import Image

    scan = Scan(class_names=list(class_names), pools=[])
    scan.mean_sums = np.zeros((len(class_names), MEAN_SIDE, MEAN_SIDE, 3))
    hasher = _Hasher()
    total, done = sum(len(y) for _, y in pools.values()), 0
    for pool, (x, y) in pools.items():
        pixels = as_uint8(x)
        for index in range(len(x)):
            if done % 1024 == 0:
                _report(progress, stop, done, total)
            done += 1
            image = Image.fromarray(array_image(pixels[index]))
            sample_id, label = f"{pool}[{index}]", int(y[index])
            _add_image(scan, hasher, image, (label, revise(sample_id, label)),
                       content_digest(x[index].tobytes()), channels=x.shape[-1])
            scan.ids.append(sample_id)
            scan.pools.append(pool)
    hasher.finish(scan)
    _report(progress, stop, total, total)
    return scan


def _add_image(scan: Scan, hasher: _Hasher, image, labels: tuple[int, int], digest: bytes,
               channels: int | None = None) -> None:
    """Record one decoded image; ``labels``: (as given, revised); the class mean uses the latter."""
    from PIL import Image

    label, revised = labels
    scan.labels.append(label)
    scan.effective.append(revised)
    scan.digests.append(digest)
    scan.sizes[(image.height, image.width)] += 1
    scan.channels[channels or _channel_count(image)] += 1
    rgb = image.convert("RGB")
    if rgb.size != (MEAN_SIDE, MEAN_SIDE):
        rgb = rgb.resize((MEAN_SIDE, MEAN_SIDE), Image.BILINEAR)
    if revised >= 0:
        scan.mean_sums[revised] += np.asarray(rgb)
    hasher.add(image.convert("L"))  # as imagehash.phash: grayscale of the image itself


def _decode(file: Path):
    """Return ``(image, bytes, None)`` or ``(None, None, reason)`` for one file."""
    from PIL import Image

    if file.suffix.lower() not in IMAGE_EXTENSIONS:
        return None, None, f"not an image: {file.suffix or 'no'} extension"
    try:
        data = read_regular(file, MAX_IMAGE_BYTES)
    except UnusableFile as exc:
        return None, None, str(exc)
    if not data:
        return None, None, "empty file"
    refused = content_problem(data) or pixel_problem(data)
    if refused:
        return None, None, refused
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return None, None, f"corrupt image: {_first_line(exc)}"
    if not image.width or not image.height:
        return None, None, "corrupt image: no pixels"
    return image, data, None


def array_image(pixels: np.ndarray) -> np.ndarray:
    """One (H, W, C) uint8 image as Pillow takes it: gray (C < 3) or RGB (its first 3)."""
    return pixels[:, :, 0] if pixels.shape[-1] < 3 else pixels[:, :, :3]


def _channel_count(image) -> int:
    """Channels as the training pipeline decodes them (a palette gives RGB or RGBA)."""
    if image.mode == "P":
        return 4 if "transparency" in image.info else 3
    return len(image.getbands())


def as_uint8(x: np.ndarray) -> np.ndarray:
    """Images as uint8 0..255 for hashing (floats in [0, 1] or 0..255, 16-bit integers)."""
    if x.dtype == np.uint8:
        return x
    top = float(x.max()) if x.size else 1.0
    scale = 255.0 if top <= 1.0 else (255.0 / 65535.0 if top > 255 else 1.0)
    out = np.empty(x.shape, np.uint8)
    for start in range(0, len(x), BATCH):  # bounded temporary memory
        part = x[start:start + BATCH].astype(np.float32) * scale
        out[start:start + BATCH] = np.clip(part, 0, 255).round()
    return out


def _report(progress: Progress | None, stop: Callable[[], bool] | None, done: int,
            total: int) -> None:
    if stop is not None and stop():
        raise ScanStopped
    if progress is not None:
        progress(done, total)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
