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
import os
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
BATCH = 1024  # images whose pictures are hashed and summed at a time
WINDOW = 256  # files decoded (in parallel) before their results are used
DECODE_THREADS = 4
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


class _Batch:
    """Pictures of up to ``BATCH`` images: 32x32 RGB (class means) and 32x32 gray (phash)."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.rgb: list[np.ndarray] = []
        self.gray: list[np.ndarray] = []
        self.labels: list[int] = []
        self.hashes: list[np.ndarray] = []
        self.small: list[np.ndarray] = []

    def add(self, rgb: np.ndarray, gray: np.ndarray, labels) -> None:
        """Add one image (``rgb`` (S, S, 3), one label) or a stack (``rgb`` (N, S, S, 3))."""
        if rgb.ndim == 3:
            rgb, gray, labels = rgb[None], gray[None], [labels]
        self.rgb.append(rgb)
        self.gray.append(gray)
        self.labels.extend(labels)
        if len(self.labels) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.labels:
            return
        rgb, gray = np.concatenate(self.rgb), np.concatenate(self.gray)
        labels = np.array(self.labels)
        self.hashes.append(phash_batch(gray))
        self.small.append(small_thumbnails(gray))
        for k in np.unique(labels[labels >= 0]):  # a batch's sums fit uint32
            self.scan.mean_sums[k] += rgb[labels == k].sum(axis=0, dtype=np.uint32)
        self.rgb, self.gray, self.labels = [], [], []

    def finish(self) -> None:
        self.flush()
        if self.hashes:
            self.scan.hashes = np.concatenate(self.hashes)
            self.scan.thumbnails = np.concatenate(self.small)


def scan_folder(root: Path, class_dirs: list[Path], revise: Revise,
                progress: Progress | None = None, stop: Callable[[], bool] | None = None
                ) -> Scan:
    """Read and decode every file of the class folders once (see the module docstring)."""
    walk = FolderWalk()
    walk.reserve(root, *class_dirs)
    listing = [(file, label) for label, d in enumerate(class_dirs)
               for file in walk.class_files(d)]
    scan = _new_scan([d.name for d in class_dirs])
    scan.paths = []
    scan.bad_files = [(_relative(Path(p), root), why) for p, why in walk.bad]
    batch = _Batch(scan)
    for (file, label), (image, data, reason) in _decoded(listing, progress, stop):
        if reason:
            scan.bad_files.append((_relative(file, root), reason))
            continue
        sample_id = _relative(file, root)
        revised = revise(sample_id, label)
        scan.ids.append(sample_id)
        scan.paths.append(str(file))
        scan.labels.append(label)
        scan.effective.append(revised)
        scan.digests.append(content_digest(data))
        scan.sizes[(image.height, image.width)] += 1
        scan.channels[_channel_count(image)] += 1
        batch.add(*_pictures(image), revised)
    batch.finish()
    _report(progress, stop, len(listing), len(listing))
    scan.bad_files.sort()
    return scan


def scan_arrays(pools: dict[str, tuple[np.ndarray, np.ndarray]], class_names: list[str],
                revise: Revise, progress: Progress | None = None,
                stop: Callable[[], bool] | None = None) -> Scan:
    """The same pass over in-memory arrays: ``pool name -> (images, labels)``, a batch at a time."""
    scan = _new_scan(class_names)
    scan.pools = []
    batch = _Batch(scan)
    total, done = sum(len(y) for _, y in pools.values()), 0
    factor = uint8_factor(*(x for x, _ in pools.values()))
    for pool, (x, y) in pools.items():
        scan.sizes[tuple(x.shape[1:3])] += len(x)
        scan.channels[int(x.shape[-1])] += len(x)
        for start in range(0, len(x), BATCH):
            _report(progress, stop, done, total)
            end = min(start + BATCH, len(x))
            ids = [f"{pool}[{i}]" for i in range(start, end)]
            labels = [int(v) for v in y[start:end]]
            revised = [revise(i, v) for i, v in zip(ids, labels, strict=True)]
            scan.ids += ids
            scan.pools += [pool] * len(ids)
            scan.labels += labels
            scan.effective += revised
            scan.digests += [content_digest(x[i].tobytes()) for i in range(start, end)]
            rgb, gray = _array_pictures(to_uint8(x[start:end], factor))
            batch.add(rgb, gray, revised)
            done += end - start
    batch.finish()
    _report(progress, stop, total, total)
    return scan


def _decoded(listing: list[tuple[Path, int]], progress: Progress | None,
             stop: Callable[[], bool] | None):
    """Yield ``((file, label), _decode(file))`` in order, decoded by a few threads.

    Reading and Pillow's decoders release the GIL, so the files of a window
    are decoded in parallel; only one window of images is held at a time.
    """
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(DECODE_THREADS, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="cnnlab-health") as pool:
        for start in range(0, len(listing), WINDOW):
            _report(progress, stop, start, len(listing))
            window = listing[start:start + WINDOW]
            decoded = pool.map(_decode, [file for file, _ in window])
            yield from zip(window, decoded, strict=True)


def _new_scan(class_names: list[str]) -> Scan:
    scan = Scan(class_names=list(class_names))
    scan.mean_sums = np.zeros((len(class_names), MEAN_SIDE, MEAN_SIDE, 3))
    return scan


def _pictures(image) -> tuple[np.ndarray, np.ndarray]:
    """The 32x32 RGB picture (for the mean) and phash's 32x32 gray thumbnail of one image.

    The gray thumbnail is exactly what ``imagehash.phash`` makes:
    ``image.convert("L").resize((32, 32), LANCZOS)``.
    """
    from PIL import Image

    side = (MEAN_SIDE, MEAN_SIDE)
    if image.mode == "RGB" and image.size == side:
        rgb = np.asarray(image)
        return rgb, luma(rgb)
    rgb = image.convert("RGB")
    rgb = rgb if rgb.size == side else rgb.resize(side, Image.BILINEAR)
    gray = image.convert("L").resize((PHASH_SIDE, PHASH_SIDE), Image.LANCZOS)
    return np.asarray(rgb), np.asarray(gray)


def _array_pictures(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_pictures` for a stack of uint8 images (N, H, W, C), vectorised where it can be."""
    from PIL import Image

    if pixels.shape[-1] < 3:
        gray = pixels[..., 0]
        rgb = np.repeat(gray[..., None], 3, axis=-1)
    else:
        rgb = pixels[..., :3]
        gray = luma(rgb)
    if rgb.shape[1:3] == (MEAN_SIDE, MEAN_SIDE):
        return rgb, gray
    side = (MEAN_SIDE, MEAN_SIDE)
    rgb = np.stack([np.asarray(Image.fromarray(a).resize(side, Image.BILINEAR)) for a in rgb])
    gray = np.stack([np.asarray(Image.fromarray(g).resize((PHASH_SIDE, PHASH_SIDE),
                                                          Image.LANCZOS)) for g in gray])
    return rgb, gray


def luma(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("L")`` of uint8 RGB pixels (ITU-R 601-2, its integer rounding)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


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


def uint8_factor(*arrays: np.ndarray) -> float:
    """The factor that brings images to 0..255: floats in [0, 1], 0..255, 16-bit integers."""
    if all(x.dtype == np.uint8 for x in arrays):
        return 1.0
    top = max((float(x.max()) for x in arrays if x.size), default=1.0)
    return 255.0 if top <= 1.0 else (255.0 / 65535.0 if top > 255 else 1.0)


def to_uint8(x: np.ndarray, factor: float) -> np.ndarray:
    """Images as uint8 0..255 (``factor`` from :func:`uint8_factor`)."""
    if x.dtype == np.uint8:
        return x
    return np.clip(x.astype(np.float32) * np.float32(factor), 0, 255).round().astype(np.uint8)


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
