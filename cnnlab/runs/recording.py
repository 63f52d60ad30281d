"""Recording a run as it trains: status, heartbeats, epochs, test results, names and tags.

:class:`RunRecording` is the part of :class:`cnnlab.runs.store.RunStore`
(open a RunStore; this is one of its bases) that writes what happens to an
existing run: each write is one index transaction followed by a rewrite of
the run folder's ``metadata.json`` (and ``metrics.json`` for an epoch).

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping

from cnnlab.errors import RunError
from cnnlab.runs.reader import RunReader
from cnnlab.runs.records import INTERRUPTED, RUNNING, STATUSES, clean_tags
from cnnlab.runs.rows import metric_rows, refresh_stats, test_columns
from cnnlab.runs.workspace import write_metrics


class RunRecording(RunReader):
    """Writing what happens to a run: a base of :class:`cnnlab.runs.store.RunStore`."""

    def set_status(self, run_id: str, status: str, message: str | None = None, *,
                   epochs_planned: int | None = None) -> None:
        """Set a run's status; ``running`` makes this process its owner, as on resume.

        A run set ``running`` again also loses its test evaluation: training
        changes the weights it described (:meth:`record_test` records the new one).
        The exclusive lock on a run is :meth:`claim`, not this.

        Args:
            run_id: The run.
            status: One of ``running``, ``finished``, ``stopped``, ``interrupted``, ``failed``.
            message: A one-line reason (the error of a failed run); None clears it.
            epochs_planned: A new planned epoch count (a resume asked for more); None keeps it.

        Raises:
            RunError: Unknown run id or status, or a planned count below 1.

        """
        if status not in STATUSES:
            raise RunError(f"unknown run status {status!r}; expected one of {', '.join(STATUSES)}")
        if epochs_planned is not None and (isinstance(epochs_planned, bool) or
                                           not isinstance(epochs_planned, int) or
                                           epochs_planned < 1):
            raise RunError(f"planned epochs must be a whole number from 1, not {epochs_planned!r}")
        now = time.time()
        with self._updating(run_id) as conn:
            if status == RUNNING:
                conn.execute(
                    "UPDATE runs SET status = ?, message = ?, ended_at = NULL, pid = ?,"
                    " hostname = ?, heartbeat_at = ?, started_at = COALESCE(started_at, ?),"
                    " test_loss = NULL, test_accuracy = NULL, test_top5 = NULL WHERE id = ?",
                    (status, message, os.getpid(), socket.gethostname(), now, now, run_id),
                )
            else:
                conn.execute(
                    "UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                    (status, message, now, run_id),
                )
            if epochs_planned is not None:
                conn.execute("UPDATE runs SET epochs_planned = ? WHERE id = ?",
                             (epochs_planned, run_id))

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive (call every few seconds while training).

        A run wrongly marked interrupted comes back to ``running`` when the
        process that owns it beats again.
        """
        with self._index.write() as conn:
            self._require(conn, run_id)
            if self._touch(conn, run_id):
                self._write_metadata(conn, run_id)

    def record_epoch(self, run_id: str, epoch: int, metrics: Mapping[str, float]) -> None:
        """Store one epoch's metrics, replacing what that epoch had (a resumed run re-records).

        Args:
            run_id: The run.
            epoch: The epoch index, from 0 (as Keras's ``on_epoch_end``).
            metrics: Metric name to value: ``loss``, ``val_accuracy``, ``lr``, ``seconds``...

        Raises:
            RunError: Unknown run id, or a negative epoch or non-numeric value.

        """
        rows = metric_rows(run_id, epoch, metrics)
        with self._index.write() as conn:
            self._require(conn, run_id)
            conn.execute("DELETE FROM metrics WHERE run_id = ? AND epoch = ?", (run_id, epoch))
            conn.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)", rows)
            refresh_stats(conn, run_id)
            if self._touch(conn, run_id):
                self._write_metadata(conn, run_id)
            self._write_metrics(conn, run_id)

    def record_test(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Store a run's test-set evaluation, replacing an earlier one.

        The values go to the index (``test_loss``, ``test_accuracy``,
        ``test_top5``: the record's fields) and to ``metadata.json`` as
        ``"test": {"loss": ..., "accuracy": ..., "top5": ...}``.

        Args:
            run_id: The run.
            metrics: Keras's ``evaluate(..., return_dict=True)`` result:
                ``loss``, ``accuracy`` and ``top5`` when the run has it (the
                names may carry a ``test_`` prefix; other names are ignored).

        Raises:
            RunError: Unknown run id, or a test metric is not a number.

        """
        columns = test_columns(metrics)
        with self._updating(run_id) as conn:
            conn.execute(
                "UPDATE runs SET test_loss = ?, test_accuracy = ?, test_top5 = ? WHERE id = ?",
                (columns["test_loss"], columns["test_accuracy"], columns["test_top5"], run_id),
            )

    def rename(self, run_id: str, name: str) -> None:
        """Give a run a new display name (not empty)."""
        name = (name or "").strip()
        if not name:
            raise RunError("a run name cannot be empty")
        with self._updating(run_id) as conn:
            conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def tag(self, run_id: str, tags: str | Iterable[str]) -> None:
        """Add one tag (a string) or several (an iterable) to a run."""
        clean = clean_tags(tags)
        with self._updating(run_id) as conn:
            conn.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)",
                             [(run_id, tag) for tag in clean])

    def untag(self, run_id: str, tags: str | Iterable[str]) -> None:
        """Remove one tag or several from a run (absent tags are ignored)."""
        clean = clean_tags(tags)
        with self._updating(run_id) as conn:
            conn.executemany("DELETE FROM tags WHERE run_id = ? AND tag = ?",
                             [(run_id, tag) for tag in clean])

    # -- internals -------------------------------------------------------------

    def _touch(self, conn: sqlite3.Connection, run_id: str) -> bool:
        """Update the heartbeat; revive an interrupted run owned by this process."""
        cursor = conn.execute(
            "UPDATE runs SET status = ?, message = NULL, ended_at = NULL"
            " WHERE id = ? AND status = ? AND pid = ? AND hostname = ?",
            (RUNNING, run_id, INTERRUPTED, os.getpid(), socket.gethostname()),
        )
        conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))
        return cursor.rowcount > 0

    @contextlib.contextmanager
    def _updating(self, run_id: str) -> Iterator[sqlite3.Connection]:
        """Write to a known run in one transaction, then rewrite its ``metadata.json``."""
        with self._index.write() as conn:
            self._require(conn, run_id)
            yield conn
            self._write_metadata(conn, run_id)

    def _write_metrics(self, conn: sqlite3.Connection, run_id: str) -> None:
        rows = conn.execute(
            "SELECT epoch, name, value FROM metrics WHERE run_id = ? ORDER BY epoch, name",
            (run_id,),
        ).fetchall()
        write_metrics(self.runs_dir / run_id, [tuple(row) for row in rows])
