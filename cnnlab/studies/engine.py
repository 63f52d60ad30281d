"""Running a study: Optuna's ``optimize`` until the budget of finished trials is spent.

The budget counts COMPLETE and PRUNED trials in the storage, across every
worker (Optuna's MaxTrialsCallback). A worker starts a trial only while the
finished plus running trials are below the budget; when the rest are running
elsewhere it waits for them (a dead worker's trial goes stale through its
heartbeat and is queued again, see :mod:`cnnlab.studies.storage`). A trial
stopped from the study's control is queued again through Optuna's
RetryFailedTrialCallback, and a later run resumes its run from the last
checkpoint: no trial is counted twice.
"""

from __future__ import annotations

import os
import socket
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnlab.studies.events import TrialEnded
from cnnlab.studies.storage import (
    experimental_ok,
    make_sampler,
    open_storage,
    optuna_study,
    retry_callback,
)
from cnnlab.studies.studyfile import StudyError, StudyFile
from cnnlab.studies.trial import Objective, TrialInterrupted, TrialRunFailed

WAIT_SECONDS = 1.0  # how often a worker looks again while the last trials run elsewhere
MAX_FAILURES = 3  # a worker gives up after this many failed trials in a row


def run_study(study: StudyFile, *, workspace: str | Path | None = None,
              storage: str | None = None, workers: int = 1,
              sink: Callable[[Any], None] | None = None, control: Any = None,
              heartbeat: int | None = None) -> dict:
    """Run trials until the study's budget is spent (or ``control`` asks to stop).

    Args:
        study: The study definition.
        workspace: Where the trials' runs go (and the default SQLite storage).
        storage: A database URL shared by workers (default: the workspace's SQLite file).
        workers: Worker processes to start on the storage (1: train in this process).
        sink: Receives TrialStarted / TrialEpoch / TrialEnded events.
        control: A cnnlab.train Control; ``stop()`` stops the running trial after
            its batch (queued again for a later run) and ends the study run.
        heartbeat: Seconds between a running trial's heartbeats (a trial silent
            for three is retried).

    Returns:
        :func:`cnnlab.studies.summary.study_summary` plus ``interrupted`` (bool)
        and ``ran`` (the numbers of the trials this call ended).

    Raises:
        StudyError: When the storage cannot be opened or does not fit the study.
    """
    from cnnlab.train.events import Control

    control = control or Control()
    sink = sink or (lambda event: None)
    store = open_storage(study, storage, workspace, heartbeat)
    optuna_study(study, store)  # created once, before any worker starts
    if workers > 1:
        from cnnlab.studies.workers import run_workers

        interrupted, ran = run_workers(study, store, workers, workspace=workspace,
                                       storage=storage, heartbeat=heartbeat, sink=sink,
                                       control=control)
    else:
        interrupted, ran = _Worker(study, store, workspace, sink, control,
                                   worker_salt(storage)).run()
    return _summary(study, store, workspace, interrupted, ran)


def _summary(study: StudyFile, store: Any, workspace: Any, interrupted: bool,
             ran: list[int]) -> dict:
    from cnnlab.studies.summary import summary_of

    out = summary_of(study, store, workspace)
    out.update(interrupted=interrupted, ran=ran)
    return out


class _Worker:
    """One worker's loop over ``optimize(n_trials=1)``."""

    def __init__(self, study: StudyFile, storage: Any, workspace: Any, sink: Callable,
                 control: Any, salt: int = 0):
        self.study = study
        self.salt = salt
        self.optuna = optuna_study(study, storage)
        self.objective = Objective(study, workspace, control, sink)
        self.sink = sink
        self.control = control
        self.ran: list[int] = []

    def run(self) -> tuple[bool, list[int]]:
        """Run until the budget is spent; (interrupted, trials ended here)."""
        failures = 0
        while not self.control.stop_requested and failures < MAX_FAILURES:
            finished, running = self._counts()
            if finished >= self.study.trials:
                return False, self.ran
            if finished + running >= self.study.trials:
                time.sleep(WAIT_SECONDS)  # the last trials run elsewhere
                continue
            try:
                state = self._one_trial()
            except TrialInterrupted as exc:
                self._requeue(exc.number)
                return True, self.ran
            except KeyboardInterrupt:
                if self.objective.last_number is not None:
                    self._requeue(self.objective.last_number)
                raise
            failures = failures + 1 if state == "FAIL" else 0
        if failures >= MAX_FAILURES:
            raise StudyError(f"{MAX_FAILURES} trials in a row failed; the last: "
                             f"{self._last_message()}")
        return self.control.stop_requested, self.ran

    def _last_message(self) -> str:
        number = self.objective.last_number
        trial = self._trial(number) if number is not None else None
        return str(trial.user_attrs.get("message", "")) if trial is not None else ""

    def _counts(self) -> tuple[int, int]:
        """(finished, running) trials of the study, after failing stale ones."""
        import optuna
        from optuna.trial import TrialState

        with experimental_ok():
            optuna.storages.fail_stale_trials(self.optuna)
        trials = self.optuna.get_trials(deepcopy=False)
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        return finished, running

    def _one_trial(self) -> str:
        from optuna.study import MaxTrialsCallback
        from optuna.trial import TrialState

        budget = MaxTrialsCallback(self.study.trials,
                                   states=(TrialState.COMPLETE, TrialState.PRUNED))
        self.objective.last_number = None
        count = len(self.optuna.get_trials(deepcopy=False))
        self.optuna.sampler = make_sampler(self.study, self.salt + count)
        self.optuna.optimize(self.objective, n_trials=1, catch=(TrialRunFailed,),
                             callbacks=[budget, self._ended], gc_after_trial=False)
        number = self.objective.last_number
        trial = self._trial(number) if number is not None else None
        return trial.state.name if trial is not None else "FAIL"

    def _ended(self, study: Any, trial: Any) -> None:
        """Optuna's callback after each trial: send TrialEnded."""
        self.ran.append(trial.number)
        finished, _ = self._counts()
        self.sink(trial_ended(trial, finished, self.study.trials))

    def _trial(self, number: int) -> Any:
        return next((t for t in self.optuna.get_trials(deepcopy=False) if t.number == number),
                    None)

    def _requeue(self, number: int) -> None:
        """Queue a stopped trial again (Optuna's RetryFailedTrialCallback); tell the sink."""
        trial = self._trial(number)
        if trial is None or trial.state.name != "FAIL":
            return
        retry_callback()(self.optuna, trial)
        self.ran.append(number)
        self.sink(trial_ended(trial, self._counts()[0], self.study.trials, "INTERRUPTED",
                              "stopped; the next 'study run' resumes it"))


def worker_salt(storage: str | None) -> int:
    """What this worker adds to the sampler's seed: 0 on the workspace's own storage.

    On a shared storage (a URL; every worker ``--workers N`` starts gets one)
    workers start at the same moment with the same trials in sight; without
    their own salt, random and TPE would draw the same values in each.
    """
    if storage is None:
        return 0
    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003


def trial_ended(trial: Any, finished: int, budget: int, state: str | None = None,
                message: str = "") -> TrialEnded:
    """The TrialEnded event of a frozen Optuna trial."""
    seconds = 0.0
    if trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return TrialEnded(trial.number, state or trial.state.name, trial.value,
                      str(trial.user_attrs.get("run_id", "")), dict(trial.params), seconds,
                      message or str(trial.user_attrs.get("message", "")), finished, budget)
