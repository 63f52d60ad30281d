"""Atomic file writes: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and a crash mid-write leaves the old
file in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    Use this for writers that want a file name (``model.save``, ``h5py``). The
    temporary file keeps ``suffix`` (or the target's own suffix) so that
    writers which dispatch on the extension still work.

    Args:
        target: The final path.
        suffix: Extension for the temporary file; defaults to the target's.

    Yields:
        A path in the same directory as ``target`` to write to.

    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.tmp-", suffix=suffix or target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as pretty, key-sorted JSON to ``target`` atomically."""
    atomic_write_text(target, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def replace_dir(new: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move folder ``new`` to ``target``, removing what is there only once ``new`` is in place.

    The caller decides whether ``target`` may be replaced (see
    :func:`cnnlab.modelio.targets.check_targets`); a failed move puts the
    old one back.
    """
    new, target = Path(new), Path(target)
    backup = None
    if target.exists() or target.is_symlink():
        backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, backup)
    try:
        os.replace(new, target)
    except BaseException:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        _remove(backup)


def _fsync_path(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
