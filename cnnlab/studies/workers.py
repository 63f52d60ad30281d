"""Local worker processes: ``cnnlab study run STUDY --workers 1 --storage URL``, N at once.

Each worker is an ordinary ``cnnlab study run`` on the same storage (Optuna
shares out the trials); this process only starts them, relays a stop
(SIGINT, so each stops its trial cleanly and queues it again) and reports the
trials that end, read from the storage. The workers run in their own process
group, so one Ctrl-C at the terminal reaches them once, through here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnlab.errors import CnnlabError
from cnnlab.studies.storage import default_storage_url, optuna_study
from cnnlab.studies.studyfile import StudyFile

POLL_SECONDS = 0.5
STOP_WAIT = 120.0  # seconds a stopped worker gets to finish its batch and save
MAX_WORKERS = 64


def worker_command(study: StudyFile, url: str, workspace: Path,
                   heartbeat: int | None = None) -> list[str]:
    """The command line of one local worker."""
    cmd = [sys.executable, "-m", "cnnlab.cli", "study", "run", str(study.path),
           "--workers", "1", "--storage", url, "--workspace", str(workspace)]
    return cmd + (["--heartbeat", str(heartbeat)] if heartbeat else [])


def run_workers(study: StudyFile, optuna_storage: Any, count: int, *, workspace: Any,
                storage: str | None, heartbeat: int | None, sink: Callable[[Any], None],
                control: Any) -> tuple[bool, list[int]]:
    """Start ``count`` workers, wait for them, relay a stop; (interrupted, trials ended).

    Args:
        study: The study.
        optuna_storage: The open storage (to watch the trials end).
        count: How many workers.
        workspace: Their workspace.
        storage: The storage URL they share (None: the workspace's SQLite file).
        heartbeat: Their heartbeat seconds.
        sink: Receives a TrialEnded per trial that ends.
        control: Its stop is relayed to the workers.

    Raises:
        CnnlabError: When a worker failed (its exit status is named).
    """
    from cnnlab.runs.workspace import resolve_workspace

    if count > MAX_WORKERS:
        raise CnnlabError(f"--workers {count} is more than {MAX_WORKERS}")
    url = storage or default_storage_url(study, workspace)
    cmd = worker_command(study, url, resolve_workspace(workspace), heartbeat)
    procs = [subprocess.Popen(cmd, start_new_session=True) for _ in range(count)]
    watcher = _Watcher(study, optuna_storage, sink)
    interrupted = False
    try:
        while any(p.poll() is None for p in procs):
            if control.stop_requested and not interrupted:
                interrupted = True
                _signal_all(procs, signal.SIGINT)
            watcher.poll()
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        interrupted = True
        _signal_all(procs, signal.SIGINT)
        raise
    finally:
        _wait_all(procs)
        watcher.poll()
    _check_exits(procs, interrupted)
    return interrupted, watcher.ended


class _Watcher:
    """Sends TrialEnded for every trial that ends in the storage while the workers run."""

    def __init__(self, study: StudyFile, storage: Any, sink: Callable[[Any], None]):
        self.study = study
        self.optuna = optuna_study(study, storage)
        self.sink = sink
        self.seen = {t.number for t in self._done()}
        self.ended: list[int] = []

    def _done(self) -> list[Any]:
        return [t for t in self.optuna.get_trials(deepcopy=False) if t.state.is_finished()]

    def poll(self) -> None:
        """Send the events of the trials that ended since the last poll."""
        from cnnlab.studies.engine import trial_ended

        done = self._done()
        finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in done)
        for trial in done:
            if trial.number not in self.seen:
                self.seen.add(trial.number)
                self.ended.append(trial.number)
                self.sink(trial_ended(trial, finished, self.study.trials))


def _signal_all(procs: list[subprocess.Popen], sig: int) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass


def _wait_all(procs: list[subprocess.Popen]) -> None:
    """Wait for every worker; one that does not end in STOP_WAIT seconds is killed."""
    deadline = time.monotonic() + STOP_WAIT
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check_exits(procs: list[subprocess.Popen], interrupted: bool) -> None:
    codes = [p.returncode for p in procs]
    bad = [c for c in codes if c not in (0, 130) and not (interrupted and c < 0)]
    if bad:
        raise CnnlabError(f"a study worker failed (exit status {bad[0]}); its message is "
                          f"above")
