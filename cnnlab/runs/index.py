"""The SQLite index of a workspace: runs, spec snapshots and per-epoch metrics.

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
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cnnlab.errors import RunError
from cnnlab.runs.records import BEST_METRIC, INTERRUPTED, STATUSES
from cnnlab.runs.workspace import RUNS_DIRNAME, TEST_KEYS, FolderRun

SCHEMA_VERSION = 2
# Migrations from version N to N + 1, applied in order inside one transaction.
_MIGRATIONS: dict[int, str] = {
    1: """
    ALTER TABLE runs ADD COLUMN test_loss REAL;
    ALTER TABLE runs ADD COLUMN test_accuracy REAL;
    ALTER TABLE runs ADD COLUMN test_top5 REAL
    """,
}

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
    metadata TEXT NOT NULL DEFAULT '{}',
    test_loss REAL,
    test_accuracy REAL,
    test_top5 REAL
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


class DuplicateRunId(Exception):
    """A new run's id is already taken (the caller draws another)."""


class IndexUnreadable(RunError):
    """The index file exists but is not a readable SQLite database."""


class RunIndex:
    """Open-per-operation access to ``index.sqlite`` with lazy schema setup.

    Read-only, it never writes or creates anything: no schema set-up or
    migration (an older index reads without the newer columns), no ``-wal`` or
    ``-shm`` file where none is (the file is read as immutable then), and a
    missing index reads as an empty one.

    Args:
        path: The index file.
        timeout_s: How long a writer waits for another writer before giving up.
        read_only: Only read (for commands that only read, and read-only workspaces).

    """

    def __init__(self, path: Path, timeout_s: float = 30.0, read_only: bool = False):
        self.path = path
        self.timeout_s = timeout_s
        self.read_only = read_only
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

        Raises:
            RunError: The index is open read-only.

        """
        if self.read_only:
            raise RunError(f"the workspace {self.path.parent} is open read-only")
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
        if self.read_only:
            return self._open_read_only()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RunError(f"cannot open the run index {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        """A connection that cannot write: ``mode=ro`` while a WAL is there, else immutable."""
        if not self.path.exists():
            conn = sqlite3.connect(":memory:", isolation_level=None)
            self._apply(conn, 0)  # an empty index, in memory only
        else:
            modes = ["mode=ro", "immutable=1"] if _wal_exists(self.path) else ["immutable=1"]
            conn = None
            for mode in modes:
                try:
                    conn = sqlite3.connect(f"{self.path.as_uri()}?{mode}", uri=True,
                                           timeout=self.timeout_s, isolation_level=None)
                    conn.execute("PRAGMA user_version").fetchone()
                    break
                except sqlite3.OperationalError as exc:
                    if conn is not None:
                        conn.close()
                    conn, error = None, exc
            if conn is None:
                raise RunError(f"cannot read the run index {self.path}: {error}")
            if not _has_runs_table(conn):  # a creator was killed before its schema committed
                conn.close()
                conn = sqlite3.connect(":memory:", isolation_level=None)
                self._apply(conn, 0)  # read as an empty index; the folders are still listed
        conn.row_factory = sqlite3.Row
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if self.read_only:
            self._check_version(conn.execute("PRAGMA user_version").fetchone()[0])
            return
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable on crash, fast commits
        # user_version is read every time: the file may have been deleted meanwhile
        if self._ready and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
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
            self._check_version(version)
            self._apply(conn, version)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise RunError(
                f"the run index {self.path} has schema version {version}; this CNN Lab "
                f"reads up to {SCHEMA_VERSION}, please upgrade"
            )

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


def _wal_exists(path: Path) -> bool:
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def to_json_text(obj: Any, what: str) -> str:
    """JSON text of a spec or metadata dict, or a RunError naming what is not JSON."""
    try:
        return json.dumps(obj, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RunError(f"the {what} is not JSON data: {exc}") from exc


def insert_run(conn: sqlite3.Connection, row: dict, meta: dict, spec_text: str) -> None:
    """Insert a new run row and its spec snapshot (DuplicateRunId if the id is taken)."""
    device = meta.get("device")
    seed = meta.get("seed")
    values = dict(row, run_dir=f"{RUNS_DIRNAME}/{row['id']}", metadata=json.dumps(meta),
                  device=None if device is None else str(device),
                  seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    try:
        conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})",
                     tuple(values.values()))
    except sqlite3.IntegrityError as exc:
        raise DuplicateRunId(row["id"]) from exc
    conn.execute("INSERT INTO specs VALUES (?, ?)", (row["id"], spec_text))


def insert_folder_run(conn: sqlite3.Connection, entry: FolderRun) -> None:
    """Index a run read back from its folder (with no known status: ``interrupted``).

    A ``running`` one keeps its pid and host, so the liveness check decides.
    """
    run_id = entry.row["id"]
    row = dict(entry.row, status=folder_status(entry))
    insert_run(conn, row, entry.metadata, json.dumps(entry.spec, sort_keys=True))
    conn.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)",
                     [(run_id, tag) for tag in entry.tags])
    conn.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?)", entry.metrics)
    refresh_stats(conn, run_id)


def folder_status(entry: FolderRun) -> str:
    """The status a run folder's documents give, ``interrupted`` for none."""
    status = entry.row.get("status")
    return status if status in STATUSES else INTERRUPTED


def folder_row(entry: FolderRun) -> dict[str, Any]:
    """An index row (as :func:`insert_folder_run` would store it) without an index."""
    epochs = [epoch for _, epoch, _, _ in entry.metrics]
    best = [v for _, _, name, v in entry.metrics if name == BEST_METRIC and v is not None]
    meta = entry.metadata
    seed = meta.get("seed")
    return dict(
        entry.row, status=folder_status(entry), run_dir=f"{RUNS_DIRNAME}/{entry.row['id']}",
        metadata=json.dumps(meta), epochs_done=max(epochs) + 1 if epochs else 0,
        best_val_accuracy=max(best) if best else None,
        device=None if meta.get("device") is None else str(meta["device"]),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
    )


def metric_rows(run_id: str, epoch: int, metrics: Mapping[str, float]) -> list[tuple]:
    """Rows (run, epoch, name, value) for one epoch; NaN is stored as NULL."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise RunError(f"epoch must be a whole number from 0, not {epoch!r}")
    rows = []
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RunError(f"metric {name!r} of epoch {epoch} is not a number: {value!r}") from None
        rows.append((run_id, epoch, str(name), None if math.isnan(number) else number))
    return rows


def test_columns(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """The index columns of a test evaluation: ``test_loss``, ``test_accuracy``, ``test_top5``.

    Args:
        metrics: Keras's evaluation names (``loss``, ``accuracy``, ``top5``) or
            the same with a ``test_`` prefix; other names are ignored, an absent
            one is None, NaN is stored as None.

    Raises:
        RunError: A test metric is not a number.

    """
    columns: dict[str, float | None] = dict.fromkeys(TEST_KEYS.values())
    for name, value in metrics.items():
        column = TEST_KEYS.get(str(name).removeprefix("test_"))
        if column is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RunError(f"test metric {name!r} is not a number: {value!r}") from None
        columns[column] = None if not math.isfinite(number) else number
    return columns


def refresh_stats(conn: sqlite3.Connection, run_id: str) -> None:
    """Recompute a run's epochs_done and best validation accuracy from its metrics."""
    conn.execute(
        "UPDATE runs SET"
        " epochs_done = (SELECT COALESCE(MAX(epoch) + 1, 0) FROM metrics WHERE run_id = ?1),"
        " best_val_accuracy = (SELECT MAX(value) FROM metrics WHERE run_id = ?1 AND name = ?2)"
        " WHERE id = ?1",
        (run_id, BEST_METRIC),
    )


def metrics_table(rows: Iterable[tuple]) -> dict[str, list[float]]:
    """Rows (epoch, name, value) as {name: [value per epoch]} with NaN gaps."""
    rows = list(rows)
    if not rows:
        return {}
    length = max(epoch for epoch, _, _ in rows) + 1
    table: dict[str, list[float]] = {}
    for epoch, name, value in rows:
        column = table.setdefault(name, [math.nan] * length)
        column[epoch] = math.nan if value is None else float(value)
    return table


def tags_by_run(conn: sqlite3.Connection, run_id: str | None = None) -> dict[str, tuple]:
    """Tags per run id (of one run, or of all)."""
    if run_id is None:
        rows = conn.execute("SELECT run_id, tag FROM tags ORDER BY tag").fetchall()
    else:
        rows = conn.execute("SELECT run_id, tag FROM tags WHERE run_id = ? ORDER BY tag",
                            (run_id,)).fetchall()
    out: dict[str, list[str]] = {}
    for rid, tag in rows:
        out.setdefault(rid, []).append(tag)
    return {rid: tuple(tags) for rid, tags in out.items()}


def _has_runs_table(conn: sqlite3.Connection) -> bool:
    """Whether the index file holds the ``runs`` table (it has no schema when a kill came first)."""
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
    return conn.execute(query).fetchone() is not None
