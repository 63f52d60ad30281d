"""The workspace on disk: its location, run ids, run folder documents, the index.

A workspace is a directory holding ``index.sqlite`` (runs, spec snapshots,
per-epoch metrics) and ``runs/<id>/`` folders with ``spec.json``,
``metadata.json`` and ``metrics.json``. The folders are the truth; the index
is a fast view of them that :func:`read_run_folder` can rebuild. Process
liveness (:func:`pid_alive`) tells a dead run from a running one.

The index is opened per operation (one short-lived connection each), in WAL
mode with a busy timeout, and every write is a short ``BEGIN IMMEDIATE``
transaction, so the window and a command-line run can write at the same time
from any number of threads and processes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_json, atomic_write_text
from cnnlab.errors import RunError

SCHEMA_VERSION = 1
INDEX_NAME = "index.sqlite"
RUNS_DIRNAME = "runs"
APP_DIRNAME = "cnnlab"
HOME_ENV = "CNNLAB_HOME"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    epochs_planned INTEGER,
    best_val_accuracy REAL,
    device TEXT,
    seed INTEGER,
    label TEXT,
    params INTEGER,
    macs INTEGER,
    run_dir TEXT NOT NULL,
    pid INTEGER,
    hostname TEXT,
    heartbeat_at REAL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
CREATE TABLE IF NOT EXISTS specs (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, epoch, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_tag ON tags (tag);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
"""

# Migrations from version N to N + 1, applied in order inside one transaction.
_MIGRATIONS: dict[int, str] = {}


def default_workspace() -> Path:
    """Return the workspace directory used when none is given explicitly.

    ``$CNNLAB_HOME`` wins when set; otherwise the platform's user data
    directory: ``$XDG_DATA_HOME/cnnlab`` or ``~/.local/share/cnnlab`` on
    Linux, ``~/Library/Application Support/cnnlab`` on macOS,
    ``%APPDATA%/cnnlab`` on Windows.

    Returns:
        The (not necessarily existing) workspace path.

    """
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return _user_data_dir() / APP_DIRNAME


def _user_data_dir() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA", "").strip()
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg)
    return home / ".local" / "share"


def resolve_workspace(path: str | os.PathLike | None = None) -> Path:
    """Return the explicit ``path`` if given, else :func:`default_workspace`.

    Args:
        path: The CLI's ``--workspace`` or the window's choice; ``None`` for the default.

    Returns:
        An absolute workspace path.

    """
    chosen = Path(path).expanduser() if path is not None else default_workspace()
    return chosen.resolve()


def iso_time(t: float | None) -> str | None:
    """Format seconds since the epoch as an ISO 8601 UTC string (None stays None)."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def parse_iso_time(text: Any) -> float | None:
    """Parse what :func:`iso_time` wrote; None for anything unreadable."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def new_run_id(now: float | None = None) -> str:
    """Return a readable, sortable run id: UTC time plus 4 random hex digits.

    Args:
        now: The creation time; defaults to the current time.

    Returns:
        An id such as ``20261124-153012-a1b2``.

    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


# -- the run folder's documents ---------------------------------------------------

RUN_KEYS = ("id", "name", "status", "message", "label", "params", "macs", "epochs_planned",
            "pid", "hostname")
_FOLDER_TYPES = {"status": str, "message": str, "label": str, "hostname": str,
                 "params": int, "macs": int, "epochs_planned": int, "pid": int}


def write_metadata(folder: Path, row: Mapping[str, Any], tags: Iterable[str]) -> None:
    """Write ``metadata.json``: the caller's metadata, times, and the run's bookkeeping.

    Args:
        folder: The run folder.
        row: The run's index row (with its ``metadata`` JSON text).
        tags: The run's tags.

    """
    doc = json.loads(row["metadata"] or "{}")
    run = {key: row[key] for key in RUN_KEYS}
    run.update(tags=list(tags), created_at=iso_time(row["created_at"]),
               updated_at=iso_time(time.time()))
    doc.update(started_at=iso_time(row["started_at"]), ended_at=iso_time(row["ended_at"]),
               run=run)
    atomic_write_json(folder / "metadata.json", doc)


def write_metrics(folder: Path, rows: Iterable[tuple[int, str, float | None]]) -> None:
    """Write ``metrics.json`` from (epoch, name, value) rows; non-finite values as null."""
    epochs: dict[int, dict[str, float | None]] = {}
    for epoch, name, value in rows:
        finite = value is not None and math.isfinite(value)
        epochs.setdefault(epoch, {})[name] = value if finite else None
    lines = [json.dumps({"epoch": e, "metrics": m}, sort_keys=True)
             for e, m in sorted(epochs.items())]
    # One compact line per epoch: readable, and fast to rewrite after every epoch.
    atomic_write_text(folder / "metrics.json", '{"epochs": [\n' + ",\n".join(lines) + "\n]}\n")


def read_json(path: Path) -> Any:
    """Return a JSON file's data, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class FolderRun:
    """What a run folder says about its run, for rebuilding the index."""

    row: dict[str, Any]
    metadata: dict[str, Any]
    spec: dict[str, Any]
    tags: list[str]
    metrics: list[tuple[str, int, str, float | None]]


def read_run_folder(folder: Path) -> FolderRun | None:
    """Read a run folder back (None unless it has a readable ``spec.json``)."""
    spec = read_json(folder / "spec.json")
    if folder.name.startswith(".") or not isinstance(spec, dict):
        return None
    meta = read_json(folder / "metadata.json")
    meta = meta if isinstance(meta, dict) else {}
    run = meta.pop("run", None)
    run = run if isinstance(run, dict) else {}
    started, ended = meta.pop("started_at", None), meta.pop("ended_at", None)
    row = {key: _typed(run.get(key), kind) for key, kind in _FOLDER_TYPES.items()}
    row.update(
        id=folder.name, name=str(run.get("name") or spec.get("name") or folder.name),
        created_at=parse_iso_time(run.get("created_at")) or _id_time(folder),
        started_at=parse_iso_time(started), ended_at=parse_iso_time(ended),
        heartbeat_at=parse_iso_time(run.get("updated_at")),
    )
    tags = [t for t in run.get("tags") or [] if isinstance(t, str) and t.strip()]
    return FolderRun(row, meta, spec, tags, _folder_metrics(folder))


def _typed(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _folder_metrics(folder: Path) -> list[tuple[str, int, str, float | None]]:
    doc = read_json(folder / "metrics.json")
    items = doc.get("epochs") if isinstance(doc, dict) else None
    rows: list[tuple[str, int, str, float | None]] = []
    for item in items if isinstance(items, list) else []:
        epoch = _typed(item.get("epoch"), int) if isinstance(item, dict) else None
        values = item.get("metrics") if epoch is not None else None
        if epoch is not None and epoch >= 0 and isinstance(values, dict):
            rows += [(folder.name, epoch, str(k), None if v is None else float(v))
                     for k, v in values.items() if v is None or isinstance(v, (int, float))]
    return rows


def _id_time(folder: Path) -> float:
    try:
        parsed = datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S")
        return parsed.replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return folder.stat().st_mtime


# Threads of one process queue on a lock per index instead of SQLite's sleeping
# busy handler; other processes are kept out by SQLite's own locking.
_writer_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _writer_locks.setdefault(str(path), threading.Lock())


def _reset_writer_locks() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    _writer_locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_writer_locks)


class IndexUnreadable(RunError):
    """The index file exists but is not a readable SQLite database."""


class RunIndex:
    """Open-per-operation access to ``index.sqlite`` with lazy schema setup.

    Args:
        path: The index file.
        timeout_s: How long a writer waits for another writer before giving up.

    """

    def __init__(self, path: Path, timeout_s: float = 30.0):
        self.path = path
        self.timeout_s = timeout_s
        self._ready = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection for reading (autocommit; WAL readers never block)."""
        with self._connection() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection inside a ``BEGIN IMMEDIATE`` transaction.

        The transaction commits when the block ends and rolls back on any
        exception. Keep the block short: other writers wait for it.
        """
        with _writer_lock(self.path), self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def discard(self) -> Path | None:
        """Move an unreadable index (and its WAL files) aside; return where it went."""
        if not self.path.exists():
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.path}{suffix}")
        self._ready = False
        return aside

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        try:
            self._ensure_schema(conn)
            yield conn
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RunError(f"cannot open the run index {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable on crash, fast commits
        if self._ready:
            return
        with self._lock:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                self._create_or_migrate(conn)
            self._ready = True

    def _create_or_migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RunError(
                    f"the run index {self.path} has schema version {version}; this CNN Lab "
                    f"reads up to {SCHEMA_VERSION}, please upgrade"
                )
            self._apply(conn, version)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @staticmethod
    def _apply(conn: sqlite3.Connection, version: int) -> None:
        if version == 0:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            version = SCHEMA_VERSION
        while version < SCHEMA_VERSION:
            for statement in _MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            version += 1
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        conn.execute(f"PRAGMA user_version = {int(version)}")

    def _translate(self, exc: sqlite3.Error) -> RunError:
        if type(exc) is sqlite3.DatabaseError:
            return IndexUnreadable(
                f"the run index {self.path} is unreadable ({exc}); "
                "rebuild it from the run folders (RunStore.rebuild_index)"
            )
        if "locked" in str(exc) or "busy" in str(exc):
            return RunError(
                f"the run index {self.path} stayed busy for {self.timeout_s:g} s; try again"
            )
        return RunError(f"the run index {self.path} failed: {exc}")


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
