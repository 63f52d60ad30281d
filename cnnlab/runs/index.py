"""The SQLite index of a workspace: runs, spec snapshots and per-epoch metrics.

The index is opened per operation (one short-lived connection each), in WAL
mode with a busy timeout, and every write is a short ``BEGIN IMMEDIATE``
transaction, so the window and a command-line run can write at the same time
from any number of threads and processes, and any number of
:class:`RunIndex` objects on one file may be used in one process: SQLite's
own locking keeps them apart. What goes into the rows is
:mod:`cnnlab.runs.rows`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cnnlab.errors import RunError

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
        self._locks_pid = os.getpid()
        self._schema_lock, self._writer = threading.Lock(), threading.Lock()

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
        with self._locks()[1], self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _locks(self) -> tuple[threading.Lock, threading.Lock]:
        """This object's locks in this process: (schema set-up, writers).

        Threads that share this object take turns on the writers' lock instead
        of in SQLite's sleeping busy handler. Other objects and processes on the
        same file are kept out by SQLite (``BEGIN IMMEDIATE`` and the busy
        timeout), which is what makes writing safe; the lock only makes it
        prompt. A forked child gets fresh locks: the parent's may have been held
        at the fork by a thread that the child does not have.
        """
        if self._locks_pid != os.getpid():
            self._locks_pid = os.getpid()
            self._schema_lock, self._writer = threading.Lock(), threading.Lock()
        return self._schema_lock, self._writer

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
        with self._locks()[0]:
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


def _has_runs_table(conn: sqlite3.Connection) -> bool:
    """Whether the index file holds the ``runs`` table (it has no schema when a kill came first)."""
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
    return conn.execute(query).fetchone() is not None
