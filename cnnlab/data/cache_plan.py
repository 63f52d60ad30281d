"""Where decoded folder images live during a run: memory, a cache file, or nowhere.

Decoded images are held as uint8 (a quarter of float32). They stay in memory
when their size fits the memory budget, a fraction of the RAM the kernel says
is available; otherwise they go to a ``.npy`` file in the workspace's
``cache/`` folder, read through a memory map, when the disk has room; otherwise
they are decoded again every epoch, streamed from disk. No TensorFlow here.

Two environment variables make every path testable:

- ``CNNLAB_DATA_MEMORY_BUDGET``: the budget in bytes (``"64M"``, ``"2G"``, ``"0"``).
- ``CNNLAB_DATA_CACHE``: ``auto`` (default), or force ``memory``, ``file`` or ``none``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cnnlab.errors import DataError

BUDGET_ENV = "CNNLAB_DATA_MEMORY_BUDGET"
CACHE_ENV = "CNNLAB_DATA_CACHE"
CACHE_KINDS = ("auto", "memory", "file", "none")
MEMORY_FRACTION = 0.5
DISK_RESERVE = 512 * 2**20
_FALLBACK_AVAILABLE = 2 * 2**30
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def human_bytes(n: float) -> str:
    """``1288490188`` -> ``"1.2 GB"`` (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            break
        n /= 1024
    if unit == "GB" and abs(n) >= 1024:
        return f"{n / 1024:.1f} TB"
    return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"


def available_memory() -> int | None:
    """The RAM the kernel can give without swapping (``MemAvailable``) in bytes, or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # optional: macOS and Windows
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def parse_bytes(text: str) -> int:
    """``"64M"`` -> 67108864. Units K, M, G, T (powers of 1024), optional ``B``.

    Raises:
        DataError: If ``text`` is not a size.

    """
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1:] if value[-1:] in _UNITS else ""
    try:
        number = float(value[: len(value) - len(unit)])
    except ValueError:
        number = -1.0
    if number < 0:
        raise DataError(f"{BUDGET_ENV} must be a size such as 512M or 4G, got {text!r}")
    return int(number * _UNITS[unit])


def memory_budget() -> int:
    """Bytes of decoded images that may stay in memory: the env override or half of MemAvailable."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    if text:
        return parse_bytes(text)
    available = available_memory()
    return int(MEMORY_FRACTION * (available if available is not None else _FALLBACK_AVAILABLE))


def forced_kind() -> str:
    """The cache kind ``CNNLAB_DATA_CACHE`` forces (``auto`` when unset).

    Raises:
        DataError: For a value that is not a cache kind.

    """
    kind = os.environ.get(CACHE_ENV, "").strip().lower() or "auto"
    if kind not in CACHE_KINDS:
        raise DataError(f"{CACHE_ENV} must be one of {', '.join(CACHE_KINDS)}, got {kind!r}")
    return kind


@dataclass(frozen=True)
class CachePlan:
    """The choice for one dataset: ``kind`` is ``memory``, ``file`` or ``none``.

    Attributes:
        kind: Where decoded images live.
        size: Bytes of all decoded uint8 images (N x H x W x C).
        budget: The memory budget the size was compared with.
        directory: The cache folder for ``kind == "file"``, else None.
        reason: Why, when the choice was not the budget's (forced, no disk room).

    """

    kind: str
    size: int
    budget: int
    directory: Path | None = None
    reason: str = ""

    def note(self) -> str:
        """One sentence for the run's data notes."""
        size, budget = human_bytes(self.size), human_bytes(self.budget)
        if self.kind == "memory":
            why = f"; {self.reason}" if self.reason else ""
            return f"images cached in memory as uint8 ({size} of a {budget} budget{why})"
        why = self.reason if self.reason.startswith(CACHE_ENV) else (
            f"over the {budget} memory budget" + (f", {self.reason}" if self.reason else ""))
        if self.kind == "file":
            return (f"images cached as uint8 in a file in {self.directory} ({size}, {why}; "
                    f"kept for the next run on the same files)")
        return f"images streamed from disk, decoded every epoch in parallel ({size}, {why})"


def plan_cache(size: int, directory: Path | None) -> CachePlan:
    """Choose where ``size`` bytes of decoded images live.

    Args:
        size: Bytes of every split's uint8 images together.
        directory: The workspace's cache folder (None: no file cache).

    Returns:
        The :class:`CachePlan`.

    Raises:
        DataError: If an environment override is not valid.

    """
    budget, kind = memory_budget(), forced_kind()
    if kind != "auto":
        return CachePlan(kind, size, budget, directory if kind == "file" else None,
                         f"{CACHE_ENV}={kind}")
    if size <= budget:
        return CachePlan("memory", size, budget)
    room = _free_disk(directory)
    if directory is not None and room is not None and room - size > DISK_RESERVE:
        return CachePlan("file", size, budget, directory)
    where = "no cache folder" if directory is None else f"{human_bytes(room or 0)} free on disk"
    return CachePlan("none", size, budget, None, where)


def _free_disk(directory: Path | None) -> int | None:
    """Free bytes on the disk of ``directory`` (or its nearest existing parent)."""
    if directory is None:
        return None
    probe = Path(directory)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def default_cache_dir() -> Path:
    """``<workspace>/cache`` of the workspace ``$CNNLAB_HOME`` or the user's names."""
    from cnnlab.runs.workspace import resolve_workspace

    return Path(resolve_workspace()) / "cache"


def cache_file(directory: Path, root: str, split: str, shape: Sequence[int],
               paths: Sequence[str]) -> tuple[Path, str]:
    """The cache file of one split, keyed by the files it holds; and the prefix of its family.

    The name holds a digest of every file's path, size and modification time
    and of the decoded shape, so a changed file means a new name and an old
    cache is never read for new images. The prefix (folder, split, shape)
    names the family a new cache replaces.
    """
    family = hashlib.sha256(repr((str(root), split, tuple(shape))).encode()).hexdigest()[:12]
    content = hashlib.sha256()
    for path in paths:
        info = os.stat(path)
        content.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    name = Path(str(root)).name or "images"
    prefix = f"{_safe(name)}-{split}-{family}-"
    return directory / f"{prefix}{content.hexdigest()[:16]}.npy", prefix


def _safe(name: str) -> str:
    """A folder name reduced to letters, digits, ``-`` and ``_`` (at most 40 characters)."""
    kept = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    return kept[:40] or "images"


def stale_family_files(target: Path, prefix: str) -> list[Path]:
    """Older cache files of the same family as ``target`` (ours by name, ``.npy``)."""
    if not target.parent.is_dir():
        return []
    return [p for p in target.parent.glob(f"{prefix}*.npy")
            if p.name != target.name and p.is_file() and not p.is_symlink()]
