"""Process liveness: tells a dead run from a running one on this host."""

from __future__ import annotations

import os
import sys
from pathlib import Path


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
