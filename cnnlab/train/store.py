"""The run store: every training run's record, spec snapshot, metrics and folder.

A workspace (see :mod:`cnnlab.train.workspace`) holds a SQLite index and one
folder per run, ``runs/<id>/``, with ``spec.json`` (the exact snapshot that
ran), ``metadata.json`` (the caller's versions/device/seed plus the run's times
and bookkeeping), ``metrics.json`` (per-epoch metrics), and whatever the
trainer saves there (``checkpoints/``, ``model.keras``, exports). The folders
are the truth: :meth:`RunStore.rebuild_index` re-creates the index from them.

Statuses are ``running``, ``finished``, ``stopped``, ``interrupted`` and
``failed``. A run whose process died is reported (and stored) as
``interrupted``, never as running: on this host its pid is checked, for a run
on another host its heartbeat. Epochs are numbered from 0 as Keras numbers
them, so ``epochs_done`` is the highest recorded epoch plus one.

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_json
from cnnlab.errors import RunError
from cnnlab.train.liveness import (
    ClaimHeld,
    claim_folder,
    gone_message,
    holds_claim,
    process_gone,
    release_folder,
    try_claim_folder,
)
from cnnlab.train.records import (
    CHECKPOINTS_DIRNAME,
    INTERRUPTED,
    MODEL_FILENAME,
    ORDERS,
    RUNNING,
    STATUSES,
    RunRecord,
    clean_tags,
    matches,
    sorted_records,
)
from cnnlab.train.runindex import (
    DuplicateRunId,
    IndexUnreadable,
    RunIndex,
    folder_row,
    folder_status,
    insert_folder_run,
    insert_run,
    metric_rows,
    metrics_table,
    refresh_stats,
    tags_by_run,
    test_columns,
    to_json_text,
)
from cnnlab.train.specdiff import SpecDiff, diff_specs
from cnnlab.train.workspace import (
    INDEX_NAME,
    RUNS_DIRNAME,
    FolderRun,
    new_run_id,
    newest_change,
    only_lab_leftovers,
    orphan_notes,
    read_json,
    read_run_folder,
    remove_paths,
    resolve_workspace,
    run_folders,
    stale_temp_paths,
    trash_folders,
    write_metadata,
    write_metrics,
)

# A temporary file changed more recently than this may still be being written.
STALE_TEMP_AGE_S = 60.0


class RunStore:
    """The runs of one workspace: index, spec snapshots, metrics and folders.

    Safe to use from several threads and processes at once: every call opens
    its own short-lived connection to the index.

    Args:
        workspace: The workspace directory; None for :func:`default_workspace`.
        stale_after_s: A running run on another host whose last heartbeat is
            older than this is reported as interrupted.
        timeout_s: How long a write waits for other writers.
        read_only: Only read: nothing in the workspace is written or created
            (for commands that only read, and for read-only workspaces). A dead
            run reads ``interrupted`` without being marked so, run folders
            missing from the index are listed from their folders, and every
            method that would write raises RunError.

    Attributes:
        notes: One-line notes on what opening the workspace found or tidied
            (see :meth:`recover`; read-only: what :meth:`list_runs` found).

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
        if not read_only:
            try:
                self.notes = self.recover()
            except (RunError, OSError) as exc:  # the next call that needs the index says so
                self.notes = [f"could not tidy the workspace {self.workspace}: {exc}"]

    # -- creating and updating -------------------------------------------------

    def create_run(
        self,
        spec_dict: Mapping[str, Any],
        name: str,
        epochs_planned: int | None,
        metadata: Mapping[str, Any] | None,
        label: str | None = None,
        params: int | None = None,
        macs: int | None = None,
    ) -> RunRecord:
        """Create a ``running`` run owned and claimed (:meth:`claim`) by this process.

        The new run stays claimed until :meth:`release` or the process ends;
        the first :meth:`claim` of it in this process (the trainer's) takes
        that claim over instead of failing.

        Args:
            spec_dict: The exact spec snapshot that runs (JSON data).
            name: A display name; empty for the spec's name.
            epochs_planned: How many epochs the run means to train.
            metadata: Versions, device, seed...; ``device`` and ``seed`` are
                indexed. The keys ``run``, ``started_at`` and ``ended_at`` are
                the store's own in ``metadata.json``.
            label: The preset or architecture label.
            params: The model's parameter count.
            macs: The model's multiply-adds per example.

        Returns:
            The new run's record.

        Raises:
            RunError: The spec or metadata is not JSON data, or the folder cannot be made.

        """
        self._check_writable()
        spec_text = to_json_text(spec_dict, "run spec")
        meta = json.loads(to_json_text(metadata or {}, "run metadata"))
        if not isinstance(meta, dict):
            raise RunError("run metadata must be a JSON object")
        name = (name or "").strip() or str(spec_dict.get("name") or "") or "run"
        for _ in range(50):
            run_id = new_run_id()
            if self._try_create(run_id, spec_text, name, epochs_planned, meta,
                                (label, params, macs)):
                return self.get(run_id)
        raise RunError(f"could not find a free run id in {self.runs_dir}")

    def _try_create(self, run_id: str, spec_text: str, name: str, epochs_planned: int | None,
                    meta: dict, model_info: tuple) -> bool:
        folder = self.runs_dir / run_id
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            return False
        except OSError as exc:
            raise RunError(f"cannot create the run folder {folder}: {exc}") from exc
        try:
            claim_folder(folder, f"run {run_id}", adoptable=True)
            atomic_write_json(folder / "spec.json", json.loads(spec_text))
            now = time.time()
            row = {
                "id": run_id, "name": name, "status": RUNNING, "created_at": now,
                "started_at": now, "epochs_planned": epochs_planned,
                "label": model_info[0], "params": model_info[1], "macs": model_info[2],
                "pid": os.getpid(), "hostname": _host(), "heartbeat_at": now,
            }
            with self._index.write() as conn:
                insert_run(conn, row, meta, spec_text)
                self._write_metadata(conn, run_id)
        except DuplicateRunId:
            release_folder(folder)
            shutil.rmtree(folder, ignore_errors=True)
            return False
        except BaseException:
            release_folder(folder)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return True

    def claim(self, run_id: str) -> None:
        """Claim a run for this process's lifetime, before training it (as on resume).

        The claim is an exclusive lock on ``runs/<id>/claim.lock`` that the
        operating system drops when the process ends, however it ends; a
        killed trainer never leaves a stale claim. :meth:`release` ends it sooner.

        Raises:
            RunError: Unknown run id, or the run is already claimed by another
                process or by this one: "run ID is being trained by process PID
                on HOST since TIME".

        """
        self._check_writable()
        claim_folder(self.run_dir(run_id), f"run {run_id}")

    def release(self, run_id: str) -> bool:
        """Release this process's claim of a run; return whether it held one."""
        return release_folder(self.runs_dir / str(run_id))

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
                    (status, message, os.getpid(), _host(), now, now, run_id),
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

    def delete(self, run_id: str) -> None:
        """Delete a run from the index together with its folder.

        Raises:
            RunError: Unknown run id, or the run is still running or claimed
                by another process.

        """
        self._check_writable()
        if self.get(run_id).status == RUNNING:
            raise RunError(f"run {run_id} is still running; stop it before deleting it")
        folder = self.runs_dir / run_id
        trash = self.runs_dir / f".deleting-{run_id}-{secrets.token_hex(2)}"
        if folder.is_dir() and not holds_claim(folder):
            try:
                claim_folder(folder, f"run {run_id}")
            except ClaimHeld as exc:
                raise RunError(f"{exc}; stop it before deleting it") from None
        try:
            with self._index.write() as conn:
                self._require(conn, run_id)
                conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
                try:
                    if folder.exists():
                        os.replace(folder, trash)
                except OSError as exc:
                    raise RunError(f"cannot delete the run folder {folder}: {exc}") from exc
        finally:
            release_folder(folder)
        shutil.rmtree(trash, ignore_errors=True)

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
            rows = rows + self._unindexed_rows({row["id"] for row in rows})
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

    # -- the index as a view of the folders -----------------------------------

    def rebuild_index(self) -> int:
        """Re-create the index from the run folders (after it was deleted or corrupted).

        An unreadable index file is moved aside as ``index.sqlite.corrupt-<time>``.

        Returns:
            How many runs were indexed.

        """
        self._check_writable()
        entries = []
        if self.runs_dir.is_dir():
            for folder in sorted(self.runs_dir.iterdir()):
                entry = read_run_folder(folder)
                if entry is not None:
                    entries.append(entry)
        try:
            self._replace_all(entries)
        except IndexUnreadable:
            self._index.discard()
            self._replace_all(entries)
        return len(entries)

    def _replace_all(self, entries: list[FolderRun]) -> None:
        with self._index.write() as conn:
            for table in ("metrics", "tags", "specs", "runs"):
                conn.execute(f"DELETE FROM {table}")
            for entry in entries:
                insert_folder_run(conn, entry)

    # -- what killed processes leave behind -------------------------------------

    def recover(self) -> list[str]:
        """Tidy what killed processes left in the workspace; done when a writable store opens.

        - ``runs/.deleting-*`` folders of a killed :meth:`delete` are removed.
        - A run folder without an index row (its process was killed between
          making the folder and indexing it) is indexed from its
          ``spec.json``/``metadata.json`` as ``interrupted`` (or as the
          finished/stopped/failed status its ``metadata.json`` gives). A folder
          holding only the lab's claim and temporary files is removed; any other
          folder without a readable ``spec.json`` is named in a note, untouched.
        - The lab's temporary files (``.NAME.tmp-*``, see :mod:`cnnlab.atomic`)
          anywhere in a run folder are removed, unless a live process claims
          or runs the run, or the file changed in the last STALE_TEMP_AGE_S.

        Nothing else is ever removed.

        Returns:
            One-line notes on what was found or done (none when there was nothing).

        """
        if self.read_only or not self.runs_dir.is_dir():
            return []
        remove_paths(trash_folders(self.runs_dir))
        rows = {row["id"]: row for row in self._select_runs(None)}
        stale = time.time() - STALE_TEMP_AGE_S
        indexed, not_runs, removed = {}, [], 0
        for folder in run_folders(self.runs_dir):
            row = rows.get(folder.name)
            if row is None:
                status = self._index_orphan(folder, stale)
                if status == "not a run":
                    not_runs.append(folder)
                elif status:
                    indexed[folder.name] = status
            elif row["status"] != RUNNING or self._is_dead(row):
                removed += self._remove_temp_files(folder, stale)
        notes = orphan_notes(indexed, not_runs, read_only=False)
        if removed:
            notes.append(f"removed {removed} temporary file(s) that killed processes left "
                         f"in {self.runs_dir}")
        return notes

    def _remove_temp_files(self, folder: Path, stale: float) -> int:
        paths = stale_temp_paths(folder, stale)
        if not paths or not try_claim_folder(folder):
            return 0
        try:
            return remove_paths(paths)
        finally:
            release_folder(folder)

    def _index_orphan(self, folder: Path, stale: float) -> str | None:
        """Index a run folder that has no index row (see :meth:`recover`).

        Returns:
            The status it was indexed with, "not a run", or None (nothing done).

        """
        entry = read_run_folder(folder)
        if entry is None:
            return self._leftover_folder(folder, stale)
        if not try_claim_folder(folder):
            return None  # its process is making it right now
        try:
            remove_paths(stale_temp_paths(folder, stale))
            status = folder_status(entry)
            if status == RUNNING:
                status = INTERRUPTED
            entry.row.update(status=status, message=None if status != INTERRUPTED else
                             "its process was killed before the run was indexed")
            with self._index.write() as conn:
                if conn.execute("SELECT 1 FROM runs WHERE id = ?", (folder.name,)).fetchone():
                    return None
                insert_folder_run(conn, entry)
                self._write_metadata(conn, folder.name)
        finally:
            release_folder(folder)
        return status

    def _leftover_folder(self, folder: Path, stale: float) -> str | None:
        """Remove a folder of only the lab's leftovers; "not a run" for anything else old."""
        if only_lab_leftovers(folder, stale) and try_claim_folder(folder):
            try:
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                release_folder(folder)
            return None
        if only_lab_leftovers(folder, math.inf) or newest_change(folder) >= stale:
            return None  # being made right now, or already gone
        return "not a run"

    def _unindexed_row(self, run_id: str) -> dict[str, Any] | None:
        """Read-only: the row of a run folder missing from the index, with its metrics."""
        if run_id not in {folder.name for folder in run_folders(self.runs_dir)}:
            return None
        entry = read_run_folder(self.runs_dir / run_id)
        if entry is None:
            return None
        return dict(folder_row(entry), folder_metrics=[m[1:] for m in entry.metrics])

    def _unindexed_rows(self, known: set[str]) -> list[dict[str, Any]]:
        """Read-only: rows for run folders missing from the index, read from the folders."""
        rows, not_runs = [], []
        for folder in run_folders(self.runs_dir):
            if folder.name in known:
                continue
            entry = read_run_folder(folder)
            if entry is None:
                not_runs.append(folder)
            else:
                rows.append(folder_row(entry))
        shown = {row["id"]: row["status"] for row in rows}
        for note in orphan_notes(shown, not_runs, read_only=True):
            if note not in self.notes:
                self.notes.append(note)
        return rows

    def _check_writable(self) -> None:
        if self.read_only:
            raise RunError(f"the workspace {self.workspace} is open read-only")

    # -- internals -------------------------------------------------------------

    def _require(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (str(run_id),)).fetchone()
        if row is None and self.read_only:
            row = self._unindexed_row(str(run_id))
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

    def _touch(self, conn: sqlite3.Connection, run_id: str) -> bool:
        """Update the heartbeat; revive an interrupted run owned by this process."""
        cursor = conn.execute(
            "UPDATE runs SET status = ?, message = NULL, ended_at = NULL"
            " WHERE id = ? AND status = ? AND pid = ? AND hostname = ?",
            (RUNNING, run_id, INTERRUPTED, os.getpid(), _host()),
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

    def _write_metadata(self, conn: sqlite3.Connection, run_id: str) -> None:
        row = self._require(conn, run_id)
        write_metadata(self.runs_dir / run_id, row, tags_by_run(conn, run_id).get(run_id, ()))

    def _write_metrics(self, conn: sqlite3.Connection, run_id: str) -> None:
        rows = conn.execute(
            "SELECT epoch, name, value FROM metrics WHERE run_id = ? ORDER BY epoch, name",
            (run_id,),
        ).fetchall()
        write_metrics(self.runs_dir / run_id, [tuple(row) for row in rows])


def _host() -> str:
    return socket.gethostname()

