"""The run store: every training run's record, spec snapshot, metrics and folder.

A workspace (see :mod:`cnnlab.runs.workspace`) holds a SQLite index and one
folder per run, ``runs/<id>/``, with ``spec.json`` (the exact snapshot that
ran), ``metadata.json`` (the caller's versions/device/seed plus the run's times
and bookkeeping), ``metrics.json`` (per-epoch metrics), and whatever the
trainer saves there (``checkpoints/``, ``model.keras``, exports). The folders
are the truth: :meth:`RunStore.rebuild_index` re-creates the index from them.
Reading is :class:`cnnlab.runs.reader.RunReader` (RunStore's base),
tidying after killed processes :mod:`cnnlab.runs.recovery`.

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
import os
import secrets
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cnnlab.atomic import atomic_write_json
from cnnlab.errors import RunError
from cnnlab.runs import recovery
from cnnlab.runs.index import (
    DuplicateRunId,
    insert_run,
    metric_rows,
    refresh_stats,
    test_columns,
    to_json_text,
)
from cnnlab.runs.liveness import ClaimHeld, claim_folder, holds_claim, release_folder
from cnnlab.runs.reader import RunReader
from cnnlab.runs.records import INTERRUPTED, RUNNING, STATUSES, RunRecord, clean_tags
from cnnlab.runs.workspace import new_run_id, write_metrics


class RunStore(RunReader):
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
        super().__init__(workspace, stale_after_s=stale_after_s, timeout_s=timeout_s,
                         read_only=read_only)
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

    # -- recovery (see cnnlab.runs.recovery) ---------------------------------

    def rebuild_index(self) -> int:
        """Re-create the index from the run folders (after it was deleted or corrupted).

        An unreadable index file is moved aside as ``index.sqlite.corrupt-<time>``.

        Returns:
            How many runs were indexed.

        """
        return recovery.rebuild_index(self)

    def recover(self) -> list[str]:
        """Tidy what killed processes left in the workspace; done when a writable store opens.

        Removes the folders of a killed :meth:`delete`, indexes run folders
        missing from the index (a killed :meth:`create_run`) and removes the
        lab's stale temporary files; nothing else is ever removed. See
        :func:`cnnlab.runs.recovery.recover` for exactly what and when.

        Returns:
            One-line notes on what was found or done (none when there was nothing).

        """
        return recovery.recover(self)

    # -- internals -------------------------------------------------------------

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

    def _write_metrics(self, conn: sqlite3.Connection, run_id: str) -> None:
        rows = conn.execute(
            "SELECT epoch, name, value FROM metrics WHERE run_id = ? ORDER BY epoch, name",
            (run_id,),
        ).fetchall()
        write_metrics(self.runs_dir / run_id, [tuple(row) for row in rows])


def _host() -> str:
    return socket.gethostname()
