"""A run's folder coming and going: creating a run (claimed), claiming, releasing, deleting.

:class:`RunLifecycle` is the part of :class:`cnnlab.runs.store.RunStore`
(open a RunStore; this is one of its bases) that makes and removes run
folders and claims a run for one process (see :mod:`cnnlab.runs.liveness`).

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Mapping
from typing import Any

from cnnlab.atomic import atomic_write_json
from cnnlab.errors import RunError
from cnnlab.runs.liveness import ClaimHeld, claim_folder, holds_claim, release_folder
from cnnlab.runs.reader import RunReader
from cnnlab.runs.records import RUNNING, RunRecord
from cnnlab.runs.rows import DuplicateRunId, insert_run, to_json_text
from cnnlab.runs.workspace import new_run_id


class RunLifecycle(RunReader):
    """Creating, claiming and deleting runs: a base of :class:`cnnlab.runs.store.RunStore`."""

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
                "pid": os.getpid(), "hostname": socket.gethostname(), "heartbeat_at": now,
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
