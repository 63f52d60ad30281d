"""Reading the run store: records, metrics, spec snapshots and run folders.

:class:`RunReader` is the reading half of :class:`cnnlab.runs.store.RunStore`
(open a RunStore; this is its base): it opens a workspace's index and answers
every question about its runs. A ``running`` run whose process died reads
``interrupted``; a writable store also marks it so in the index and its
``metadata.json``, a read-only one (``read_only=True``) writes nothing and
lists run folders missing from the index from the folders themselves.

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cnnlab.errors import RunError
from cnnlab.runs.index import RunIndex
from cnnlab.runs.liveness import gone_message, process_gone
from cnnlab.runs.records import (
    CHECKPOINTS_DIRNAME,
    INTERRUPTED,
    MODEL_FILENAME,
    ORDERS,
    RUNNING,
    STATUSES,
    RunRecord,
    matches,
    sorted_records,
)
from cnnlab.runs.recovery import unindexed_row, unindexed_rows
from cnnlab.runs.rows import metrics_table, tags_by_run
from cnnlab.runs.workspace import (
    INDEX_NAME,
    RUNS_DIRNAME,
    read_json,
    resolve_workspace,
    write_metadata,
)
from cnnlab.spec.diff import SpecDiff, diff_specs


class RunReader:
    """The runs of one workspace, read: the base of :class:`cnnlab.runs.store.RunStore`.

    Args and attributes are RunStore's (it documents them); a RunReader
    itself never tidies the workspace on opening.

    """

    def __init__(
        self,
        workspace: str | os.PathLike | None = None,
        *,
        stale_after_s: float = 120.0,
        timeout_s: float = 30.0,
        read_only: bool = False,
    ):
        self.workspace = resolve_workspace(workspace)
        self.runs_dir = self.workspace / RUNS_DIRNAME
        self.index_path = self.workspace / INDEX_NAME
        self.stale_after_s = stale_after_s
        self.read_only = read_only
        self._index = RunIndex(self.index_path, timeout_s, read_only=read_only)
        self.notes: list[str] = []

    # -- reading ---------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """Return one run's record (a dead ``running`` run comes back ``interrupted``).

        Raises:
            RunError: Unknown run id.

        """
        with self._index.read() as conn:
            row = self._require(conn, run_id)
            tags = tags_by_run(conn, run_id).get(run_id, ())
        if self._is_dead(row) and not self.read_only:
            self._mark_interrupted(row)
            with self._index.read() as conn:
                row = self._require(conn, run_id)
        return self._record(self._alive_view(row), tags)

    def list_runs(
        self,
        status: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        order: str = "created",
    ) -> list[RunRecord]:
        """List runs, detecting dead ``running`` ones and marking them ``interrupted``.

        Args:
            status: Only runs with this status.
            tag: Only runs with this tag.
            text: Only runs whose id, name, label or tags contain this (any case).
            order: ``created`` (newest first), ``name``, ``best_val_accuracy``
                (best first, unknown last) or ``status``.

        Returns:
            The matching records.

        Raises:
            RunError: Unknown status or order.

        """
        if status is not None and status not in STATUSES:
            raise RunError(f"unknown run status {status!r}; expected one of {', '.join(STATUSES)}")
        if order not in ORDERS:
            raise RunError(f"unknown run order {order!r}; expected one of {', '.join(ORDERS)}")
        rows = self._select_runs(tag)
        dead = [row for row in rows if self._is_dead(row)]
        for row in dead if not self.read_only else ():
            self._mark_interrupted(row)
        if dead and not self.read_only:
            rows = self._select_runs(tag)
        with self._index.read() as conn:
            tags = tags_by_run(conn)
        if self.read_only and tag is None:
            rows = rows + self._rows_from_folders({row["id"] for row in rows})
        records = [self._record(self._alive_view(row), tags.get(row["id"], ())) for row in rows]
        records = [r for r in records if status is None or r.status == status]
        if text:
            records = [r for r in records if matches(r, text)]
        return sorted_records(records, order)

    def metrics(self, run_id: str) -> dict[str, list[float]]:
        """Return a run's metrics as name -> values, where index ``i`` is epoch ``i``.

        An epoch without a metric (or never recorded) reads NaN there.

        Raises:
            RunError: Unknown run id.

        """
        return self.metrics_many([run_id])[run_id]

    def metrics_many(self, run_ids: Iterable[str]) -> dict[str, dict[str, list[float]]]:
        """Return :meth:`metrics` for several runs at once (for overlay plots).

        Raises:
            RunError: One of the ids is unknown.

        """
        ids = list(dict.fromkeys(run_ids))
        out: dict[str, dict[str, list[float]]] = {}
        with self._index.read() as conn:
            for run_id in ids:
                row = self._require(conn, run_id)
                rows = conn.execute(
                    "SELECT epoch, name, value FROM metrics WHERE run_id = ? ORDER BY epoch",
                    (run_id,),
                ).fetchall()
                if isinstance(row, dict):  # read-only, from the folder
                    rows = row["folder_metrics"]
                out[run_id] = metrics_table(rows)
        return out

    def spec(self, run_id: str) -> dict[str, Any]:
        """Return the spec snapshot a run ran with."""
        with self._index.read() as conn:
            self._require(conn, run_id)
            row = conn.execute("SELECT spec FROM specs WHERE run_id = ?", (run_id,)).fetchone()
        if row is not None:
            return json.loads(row["spec"])
        spec = read_json(self.runs_dir / run_id / "spec.json")
        if not isinstance(spec, dict):
            raise RunError(f"run {run_id} has no readable spec snapshot")
        return spec

    def diff(self, run_id_a: str, run_id_b: str) -> SpecDiff:
        """Return what changed from run ``a``'s spec to run ``b``'s."""
        return diff_specs(self.spec(run_id_a), self.spec(run_id_b))

    def run_dir(self, run_id: str) -> Path:
        """Return a known run's folder (``runs/<id>``)."""
        with self._index.read() as conn:
            self._require(conn, run_id)
        return self.runs_dir / run_id

    def checkpoint_dir(self, run_id: str) -> Path:
        """Return a known run's checkpoint folder, creating it (unless read-only)."""
        path = self.run_dir(run_id) / CHECKPOINTS_DIRNAME
        if not self.read_only:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def model_path(self, run_id: str) -> Path:
        """Return where a known run's ``model.keras`` goes."""
        return self.run_dir(run_id) / MODEL_FILENAME

    def _rows_from_folders(self, known: set[str]) -> list[dict[str, Any]]:
        """Read-only: rows for run folders missing from the index; their notes join ``notes``."""
        rows, notes = unindexed_rows(self.runs_dir, known)
        for note in notes:
            if note not in self.notes:
                self.notes.append(note)
        return rows

    # -- internals -------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.read_only:
            raise RunError(f"the workspace {self.workspace} is open read-only")

    def _require(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (str(run_id),)).fetchone()
        if row is None and self.read_only:
            row = unindexed_row(self.runs_dir, str(run_id))
        if row is None:
            raise RunError(f"no run {run_id!r} in the workspace {self.workspace}")
        return row

    def _select_runs(self, tag: str | None) -> list[sqlite3.Row]:
        with self._index.read() as conn:
            if tag is None:
                return conn.execute("SELECT * FROM runs").fetchall()
            return conn.execute(
                "SELECT * FROM runs WHERE id IN (SELECT run_id FROM tags WHERE tag = ?)",
                (tag.strip(),),
            ).fetchall()

    def _record(self, row: sqlite3.Row, tags: Iterable[str]) -> RunRecord:
        values = {key: row[key] for key in row.keys() if key in RunRecord.__dataclass_fields__}
        values["run_dir"] = self.workspace / row["run_dir"]
        values["tags"] = tuple(tags)
        values["metadata"] = json.loads(row["metadata"] or "{}")
        return RunRecord(**values)

    def _alive_view(self, row: sqlite3.Row) -> sqlite3.Row | dict:
        """A dead running run's row as ``interrupted`` (read-only: in memory only)."""
        if not self._is_dead(row):
            return row
        return dict(row, status=INTERRUPTED, message=gone_message(row),
                    ended_at=row["heartbeat_at"] or row["started_at"])

    def _is_dead(self, row: sqlite3.Row) -> bool:
        return row["status"] == RUNNING and process_gone(row, self.stale_after_s)

    def _mark_interrupted(self, row: sqlite3.Row) -> None:
        """Mark a dead run interrupted, unless it changed since ``row`` was read."""
        message = gone_message(row)
        with self._index.write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET status = ?, message = ?,"
                " ended_at = COALESCE(heartbeat_at, started_at)"
                " WHERE id = ? AND status = ? AND pid IS ? AND heartbeat_at IS ?",
                (INTERRUPTED, message, row["id"], RUNNING, row["pid"], row["heartbeat_at"]),
            )
            if cursor.rowcount:
                self._write_metadata(conn, row["id"])

    def _write_metadata(self, conn: sqlite3.Connection, run_id: str) -> None:
        row = self._require(conn, run_id)
        write_metadata(self.runs_dir / run_id, row, tags_by_run(conn, run_id).get(run_id, ()))
