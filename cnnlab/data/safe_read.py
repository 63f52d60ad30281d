"""Reading data files safely: only regular files, never more than a size cap.

A FIFO named ``x.png`` would block a reader forever and a link to
``/dev/zero`` would never end, so nothing here ever opens a path before
``os.stat`` (which follows links) says it is a regular file of a bounded
size. The file is then opened non-blocking and checked again on the open
descriptor (the path may have been swapped in between), and at most
``cap + 1`` bytes are read.
"""

from __future__ import annotations

import errno
import os
import stat

MIB = 1 << 20
MAX_IMAGE_BYTES = 64 * MIB

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnusableFile(Exception):  # noqa: N818 - a reason, not a crash
    """A path that is not read; ``str(exc)`` is the reason, for the user."""


def file_kind(mode: int) -> str:
    """Return what a non-regular file is, in words (``"a FIFO (named pipe)"``)."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def stat_reason(exc: OSError) -> str:
    """Return why ``os.stat`` failed, in words (a broken link, a link loop, ...)."""
    if exc.errno == errno.ELOOP:
        return "a link that loops (too many levels of links)"
    if exc.errno == errno.ENOENT:
        return "a broken link (its target does not exist)"
    return f"unreadable: {exc.strerror or exc}"


def regular_size(path: str | os.PathLike) -> int:
    """Return the size of ``path`` after checking (links followed) that it is a regular file.

    Raises:
        UnusableFile: If it is missing, a broken or looping link, or not a regular file.

    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise UnusableFile(stat_reason(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        raise UnusableFile(f"not a regular file: {file_kind(info.st_mode)}")
    return info.st_size


def read_regular(path: str | os.PathLike, cap: int = MAX_IMAGE_BYTES) -> bytes:
    """Read a whole regular file of at most ``cap`` bytes.

    Args:
        path: The file; links are followed.
        cap: The largest size accepted, in bytes.

    Returns:
        The file's bytes.

    Raises:
        UnusableFile: If the file is not a regular file, is larger than ``cap``
            or cannot be read; the message is the reason.

    """
    size = regular_size(path)
    if size > cap:
        raise UnusableFile(too_large(size, cap))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnusableFile(stat_reason(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnusableFile(f"not a regular file: {file_kind(info.st_mode)}")
        data = _read_at_most(fd, cap + 1)
    except OSError as exc:
        raise UnusableFile(f"unreadable: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise UnusableFile(too_large(len(data), cap, at_least=True))
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 4 * MIB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def too_large(size: int, cap: int, at_least: bool = False) -> str:
    """Return ``"too large: 83,886,080 bytes (the limit is 64 MiB)"``."""
    more = "more than " if at_least else ""
    return f"too large: {more}{size:,} bytes (the limit is {cap / MIB:g} MiB)"
