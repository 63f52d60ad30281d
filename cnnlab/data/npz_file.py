"""Reading ``.npz`` files without trusting them: checked before anything is decompressed.

An ``.npz`` is a zip archive of ``.npy`` arrays. Before a byte of array data
is inflated, :func:`read_npz` checks

- that the path is a regular file (a folder, a FIFO or a device is named as
  such) and that it is a zip archive (a text file or a lone ``.npy`` is
  named as such, not as "pickled data");
- each wanted member's ``.npy`` header (only the header is inflated): its
  dtype must hold numbers (object arrays, which need pickle, are refused),
  and the size it declares (shape x item size) must agree with the size the
  zip directory declares;
- the declared sizes against ``MAX_NPZ_BYTES`` in total, and the
  compression ratio of every large member against ``MAX_RATIO``, so a zip
  bomb is refused in milliseconds with its sizes in the message.

Arrays are then read with ``numpy.lib.format.read_array`` (never pickle),
which reads exactly the declared bytes.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cnnlab.data.safe_read import file_kind, stat_reason
from cnnlab.errors import DataError

GIB = 1 << 30
MAX_NPZ_BYTES = 2 * GIB
MAX_RATIO = 200
RATIO_FLOOR = 16 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def read_npz(path: Path, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """Return the arrays ``keys`` (all required) and ``optional`` (if present) of an ``.npz``.

    Args:
        path: The ``.npz`` file.
        keys: Array names that must be present.
        optional: Array names read when present.

    Returns:
        ``{name: numpy array}``.

    Raises:
        DataError: If the file is not a regular file, not a zip archive, lacks
            a key, holds object arrays, or declares too much data; naming the
            file and the sizes.

    """
    with _open_regular(path) as handle:
        try:
            _check_magic(path, handle)
            with zipfile.ZipFile(handle) as archive:
                members = _members(path, archive, keys, optional)
                headers = {k: _header(path, archive, info) for k, info in members.items()}
                _check_sizes(path, members, headers)
                return {k: _read(path, archive, info) for k, info in members.items()}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
            raise DataError(f"cannot read {path} as an .npz file: {exc}") from None


def _open_regular(path: Path) -> BinaryIO:
    try:
        info = os.stat(path)
    except OSError as exc:
        if not os.path.lexists(path):
            raise DataError(f"npz file not found: {path}") from None
        raise DataError(f"cannot read the npz file {path}: {stat_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path} is a folder, not an .npz file (for a folder of images "
                        "per class, use the source 'folder')")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path} is not a regular file but {file_kind(info.st_mode)}; "
                        "an .npz must be a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"cannot read the npz file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DataError(f"{path} is not a regular file; an .npz must be a file")
    return os.fdopen(fd, "rb")


def _check_magic(path: Path, handle: BinaryIO) -> None:
    start = handle.read(6)
    handle.seek(0)
    if start[:4] in _ZIP_MAGIC:
        return
    if start == b"\x93NUMPY":
        raise DataError(f"{path} is a single .npy array, not an .npz archive; save "
                        "x_train, y_train, x_test, y_test with numpy.savez")
    what = "it is empty" if not start else "it does not start like a zip archive"
    raise DataError(f"{path} is not an .npz file ({what}); an .npz is a zip archive of "
                    ".npy arrays, written by numpy.savez")


def _members(path: Path, archive: zipfile.ZipFile, keys, optional) -> dict:
    infos = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        infos.setdefault(name, info)
    missing = [k for k in keys if k not in infos]
    if missing:
        raise DataError(
            f"{path.name} has no {missing[0]!r} array; expected keys {', '.join(keys)}"
        )
    return {k: infos[k] for k in (*keys, *optional) if k in infos}


def _header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple:
    """Return (shape, dtype, header length) from a member's .npy header (nothing else read)."""
    fmt = np.lib.format
    with archive.open(info) as member:
        try:
            version = fmt.read_magic(member)
            reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = reader(member)
        except ValueError as exc:
            raise DataError(f"{path.name}: {info.filename} is not a .npy array ({exc})") from None
        header_len = member.tell()
    if dtype.hasobject:
        raise DataError(f"{path.name}: {info.filename} holds Python objects (pickled data), "
                        "which are never loaded; save arrays of numbers")
    return shape, dtype, header_len


def _check_sizes(path: Path, members: dict, headers: dict) -> None:
    total = 0
    for key, info in members.items():
        shape, dtype, header_len = headers[key]
        declared = math.prod(shape) * dtype.itemsize
        where = f"{path.name}: {info.filename} ({'x'.join(map(str, shape))} {dtype})"
        if info.file_size < declared + header_len:
            raise DataError(f"{where} declares {_size(declared)} of data but the archive "
                            f"holds only {_size(info.file_size)}; the file is corrupt")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise DataError(f"{where} inflates {_size(info.compress_size)} to "
                            f"{_size(info.file_size)} (ratio {ratio:.0f}:1, the limit is "
                            f"{MAX_RATIO}:1); refused as a zip bomb")
        total += declared
    if total > MAX_NPZ_BYTES:
        raise DataError(f"{path.name} declares {_size(total)} of arrays, more than the "
                        f"limit of {_size(MAX_NPZ_BYTES)}; use a smaller dataset")


def _read(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as member:
        try:
            return np.lib.format.read_array(member, allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"{path.name}: cannot read {info.filename}: {exc}") from None


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
