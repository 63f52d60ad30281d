"""The run store: every training run's record, spec snapshot, metrics and folder.

A workspace (see :mod:`cnnlab.runs.workspace`) holds a SQLite index and one
folder per run, ``runs/<id>/``, with ``spec.json`` (the exact snapshot that
ran), ``metadata.json`` (the caller's versions/device/seed plus the run's times
and bookkeeping), ``metrics.json`` (per-epoch metrics), and whatever the
trainer saves there (``checkpoints/``, ``model.keras``, exports). The folders
are the truth: :meth:`RunStore.rebuild_index` re-creates the index from them.

RunStore is the one object programs open; its methods come from one module
per responsibility: reading (:mod:`cnnlab.runs.reader`), creating, claiming
and deleting runs (:mod:`cnnlab.runs.lifecycle`), recording what happens to
a run (:mod:`cnnlab.runs.recording`), and tidying after killed processes
(:mod:`cnnlab.runs.recovery`, here as :meth:`RunStore.recover` and
:meth:`RunStore.rebuild_index`).

Statuses are ``running``, ``finished``, ``stopped``, ``interrupted`` and
``failed``. A run whose process died is reported (and stored) as
``interrupted``, never as running: on this host its pid is checked, for a run
on another host its heartbeat. Epochs are numbered from 0 as Keras numbers
them, so ``epochs_done`` is the highest recorded epoch plus one.

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import os

from cnnlab.errors import RunError
from cnnlab.runs import recovery
from cnnlab.runs.lifecycle import RunLifecycle
from cnnlab.runs.recording import RunRecording
from cnnlab.runs.records import RunRecord

__all__ = ["RunRecord", "RunStore"]


class RunStore(RunLifecycle, RunRecording):
    """The runs of one workspace: index, spec snapshots, metrics and folders.

    Safe to use from several threads and processes at once, and several
    RunStore objects may be open on one workspace in one process: every call
    opens its own short-lived connection to the index (SQLite in WAL mode with
    a busy timeout keeps writers apart).

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


def open_store(workspace: str | os.PathLike | None = None) -> RunStore:
    """The store a program shares on a workspace: read-only when it cannot be written.

    Args:
        workspace: The workspace directory; None for :func:`default_workspace`.
    """
    from cnnlab.runs.workspace import resolve_workspace, workspace_writable

    return RunStore(workspace, read_only=not workspace_writable(resolve_workspace(workspace)))
