"""Process liveness: tells a dead run from a running one, and claims a run for one process.

A claim is an exclusive lock on ``claim.lock`` in the run folder (``flock`` on
POSIX, which Linux also honours across hosts on NFS; ``msvcrt.locking`` on
Windows), held as long as the claiming process keeps the file open: it ends
with :func:`release_folder` or with the process, however that ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnlab.errors import RunError


def pid_alive(pid: int, not_started_after: float | None = None) -> bool:
    """Tell whether process ``pid`` on this host is alive (zombies count as dead).

    Args:
        pid: The process id.
        not_started_after: A time (seconds since the epoch) at which the
            process we mean was already running, such as its last heartbeat.
            Where the start time of a process can be read (Linux), a process
            that started later is a different one that reuses the id.

    Returns:
        True if the process exists and is, as far as can be told, the one meant.

    """
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _pid_alive_windows(pid)
    proc = _linux_proc_info(pid)
    if proc is not None:
        state, started = proc
        if state in ("Z", "X"):
            return False
        if not_started_after is not None and started > not_started_after + 2.0:
            return False
        return True
    return _pid_alive_posix(pid)


def process_gone(row: Mapping[str, Any], stale_after_s: float) -> bool:
    """Whether the process that owns a run (an index row) is gone.

    On this host its pid tells; a run on another host is gone when its last
    heartbeat is older than ``stale_after_s``.
    """
    if row["pid"] and row["hostname"] == socket.gethostname():
        return not pid_alive(row["pid"], row["heartbeat_at"])
    beat = row["heartbeat_at"] or row["started_at"] or row["created_at"]
    return time.time() - beat > stale_after_s


def gone_message(row: Mapping[str, Any]) -> str:
    """Why a run whose process is gone is interrupted, in a few words."""
    if row["hostname"] != socket.gethostname():
        return f"no heartbeat from {row['hostname'] or 'its host'} for a while"
    return "its process ended without finishing"


def _pid_alive_posix(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _linux_proc_info(pid: int) -> tuple[str, float] | None:
    """Return (state, start time since the epoch) from ``/proc``, or None if not there."""
    if not Path("/proc/self/stat").exists():
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ("X", 0.0)
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        boot = _boot_time()
        return fields[0], boot + int(fields[19]) / ticks
    except (ValueError, IndexError, OSError):
        return fields[0] if fields else "R", 0.0


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def _pid_alive_windows(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


# -- exclusive claims of a run folder for a process's lifetime ---------------------

CLAIM_FILENAME = "claim.lock"
# A brief holder (another process cleaning or deleting the folder) lets go within this.
_CLAIM_PATIENCE_S = 1.0
_WINDOWS_LOCK_OFFSET = 1 << 16
_held: dict[str, int] = {}
_adoptable: set[str] = set()
_held_lock = threading.Lock()


class ClaimHeld(RunError):
    """Another process (or this one) holds the claim of a run."""


def claim_folder(folder: Path, what: str, patience_s: float = _CLAIM_PATIENCE_S,
                 *, adoptable: bool = False) -> None:
    """Claim ``folder`` for this process until :func:`release_folder` or the process ends.

    The claim is an exclusive ``flock`` on ``folder/claim.lock``, kept open: the
    operating system drops it when the process ends however it ends, so a
    killed process never leaves a stale claim. The file says who holds it.

    Args:
        folder: The run folder (it must exist).
        what: How errors name the folder's run (``run 20261201-...``).
        patience_s: How long to wait for a brief holder before giving up.
        adoptable: Hold the claim for the next caller in this process: its
            first ``claim_folder`` of the folder takes it over instead of
            failing (a new run is claimed when it is created, and the trainer
            that then claims it gets it).

    Raises:
        ClaimHeld: Another process, or this one, holds the claim; the message
            names the holder's process, host and start time.
        RunError: The lock file cannot be opened.

    """
    key = str(folder.resolve())
    with _held_lock:
        if key in _adoptable:
            _adoptable.discard(key)
            return
        if key in _held:
            raise ClaimHeld(f"{what} is being trained by process {os.getpid()} on "
                            f"{socket.gethostname()} since {_holder(key)[2]} (this process)")
        path = folder / CLAIM_FILENAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"cannot claim {what}: {path}: {exc.strerror or exc}") from exc
        if not _lock_within(fd, patience_s):
            holder = _read_holder(fd)
            os.close(fd)
            pid, host, since = holder or ("?", "?", "?")
            raise ClaimHeld(f"{what} is being trained by process {pid} on {host} since {since}")
        _write_holder(fd)
        _held[key] = fd
        if adoptable:
            _adoptable.add(key)


def try_claim_folder(folder: Path) -> bool:
    """Claim ``folder`` if nobody (this process included) holds it; never waits.

    For brief work on a folder that must not be in use (cleaning, deleting);
    release it with :func:`release_folder` right after.
    """
    key = str(folder.resolve())
    with _held_lock:
        if key in _held:
            return False
        try:
            fd = os.open(folder / CLAIM_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        if not _try_lock(fd):
            os.close(fd)
            return False
        _write_holder(fd)
        _held[key] = fd
        return True


def release_folder(folder: Path) -> bool:
    """Release this process's claim of ``folder``; return whether it held one."""
    key = str(folder.resolve())
    with _held_lock:
        fd = _held.pop(key, None)
        _adoptable.discard(key)
        if fd is None:
            return False
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the only descriptor drops the lock
        return True


def holds_claim(folder: Path) -> bool:
    """Whether this process holds the claim of ``folder``."""
    with _held_lock:
        return str(folder.resolve()) in _held


def _lock_within(fd: int, patience_s: float) -> bool:
    deadline = time.monotonic() + patience_s
    while True:
        if _try_lock(fd):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:  # one byte past the holder's text, which others must still read
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def _write_holder(fd: int) -> None:
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    text = json.dumps({"pid": os.getpid(), "hostname": socket.gethostname(), "since": since})
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (text + "\n").encode("utf-8"))


def _read_holder(fd: int) -> tuple[str, str, str] | None:
    """(pid, host, since) from the lock file; retried while the new holder writes it."""
    for _ in range(10):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            doc = json.loads(os.read(fd, 4096).decode("utf-8"))
            return str(doc["pid"]), str(doc["hostname"]), str(doc["since"])
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(0.02)
    return None


def _holder(key: str) -> tuple[str, str, str]:
    return _read_holder(_held[key]) or ("?", "?", "?")


def _forget_claims_in_child() -> None:
    """Run in a forked child: drop the child's copies of this process's claims.

    Why a fork hook: a claim is a ``flock`` on an open file, and a forked child
    shares that open file with its parent. Left alone, the child's copy keeps
    the run locked after the parent releases it or dies (a resume elsewhere is
    refused while the child lives), the child believes it holds the claim and
    names itself as the holder, and its ``release_folder`` would erase the
    holder's text from the lock file. ``_held_lock`` may also have been held at
    the fork by a parent thread the child does not have. Closing the copies
    here leaves the claim with the parent alone. ``exec``'d children (the
    ``subprocess`` module) inherit nothing: ``os.open`` makes descriptors
    non-inheritable. Tested by tests/core/test_store_claims.py.
    """
    global _held_lock
    _held_lock = threading.Lock()
    for fd in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()
    _adoptable.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_claims_in_child)
