"""One trial = one ordinary lab run: Optuna's objective around ``cnnlab.train.trainer.run``.

The trial's values are suggested from the study's spaces, its experiment is
built, and the trainer runs it with the tags ``study``, ``trial`` and
``study_file``. The pruner sees the objective metric after every epoch
(through the run's sink); when it says prune, the run is stopped after the
batch and the trial is pruned. A trial queued again after its worker died or
was stopped (Optuna's RetryFailedTrialCallback copies the failed trial's user
attributes, ``run_id`` among them) resumes that run from its last checkpoint.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnlab.studies.events import TrialEpoch, TrialStarted
from cnnlab.studies.studyfile import VARIANT, StudyError, StudyFile, trial_experiment

PRUNE_METRIC = {"val_accuracy": "val_accuracy", "val_loss": "val_loss",
                "test_accuracy": "val_accuracy"}  # the per-epoch metric for the pruner


class TrialRunFailed(Exception):
    """A trial's run failed (the trial is marked failed and the study goes on)."""


class TrialInterrupted(Exception):
    """The study was asked to stop while a trial ran; the trial is queued again."""

    def __init__(self, number: int, message: str = "stopped"):
        super().__init__(message)
        self.number = number


class Objective:
    """Optuna's objective for a study: train one run per trial and return its metric.

    Args:
        study: The study definition.
        workspace: The run store's workspace.
        control: The study's stop token (a cnnlab.train Control).
        sink: Receives the study's progress events (or None).
    """

    def __init__(self, study: StudyFile, workspace: str | Path | None, control: Any,
                 sink: Callable[[Any], None] | None = None):
        self.study = study
        self.workspace = workspace
        self.control = control
        self.sink = sink or (lambda event: None)
        self.last_number: int | None = None

    def __call__(self, trial: Any) -> float:
        """Run the trial; return its objective value or raise TrialPruned / a failure."""
        from cnnlab.runs.store import RunStore
        from cnnlab.train.events import Control

        self.last_number = trial.number
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        params = suggest(self.study, trial)
        resume = trial.user_attrs.get("run_id") or None
        store = RunStore(self.workspace)
        status = _status(store, resume) if resume else None
        if status == "finished":
            return self._stored_value(store, resume, trial)
        if status is None:  # a new trial, or its run is in another machine's workspace
            resume = None
        run_control = Control()
        relay = RunSink(self, trial, run_control)
        self.sink(TrialStarted(trial.number, params, resume or "", bool(resume)))
        outcome = _train(self, trial, params, relay, run_control, resume)
        if outcome.run_id:
            trial.set_user_attr("run_id", outcome.run_id)
        return self._result(trial, outcome, relay)

    def _result(self, trial: Any, outcome: Any, relay: RunSink) -> float:
        import optuna

        if outcome.status == "failed":
            trial.set_user_attr("message", outcome.message)
            raise TrialRunFailed(outcome.message)
        if outcome.status == "stopped":
            if relay.pruned:
                raise optuna.TrialPruned(f"pruned after epoch {outcome.epochs_done}")
            raise TrialInterrupted(trial.number)
        value = outcome.metrics.get(self.study.objective)
        return _checked_value(value, self.study.objective)

    def _stored_value(self, store: Any, run_id: str, trial: Any) -> float:
        """The value of a run that finished before its trial was told (its worker died then)."""
        record = store.get(run_id)
        if self.study.objective == "test_accuracy":
            value = record.test_accuracy
        else:
            values = store.metrics(run_id).get(self.study.objective) or [None]
            value = values[-1]
        return _checked_value(value, self.study.objective)


class RunSink:
    """The run's sink: records the run id, reports each epoch to the pruner, relays stops."""

    def __init__(self, objective: Objective, trial: Any, run_control: Any):
        self.objective = objective
        self.trial = trial
        self.run_control = run_control
        self.metric = PRUNE_METRIC[objective.study.objective]
        self.pruned = False

    def __call__(self, event: Any) -> None:
        """Handle one training event (on the training thread)."""
        from cnnlab.train.events import EpochEnded, RunStarted

        if self.objective.control.stop_requested:
            self.run_control.stop()
        if isinstance(event, RunStarted):
            self.trial.set_user_attr("run_id", event.run_id)
        elif isinstance(event, EpochEnded):
            self._epoch(event)

    def _epoch(self, event: Any) -> None:
        value = event.metrics.get(self.metric)
        finite = isinstance(value, (int, float)) and math.isfinite(value)
        self.objective.sink(TrialEpoch(self.trial.number, event.epoch, event.epochs,
                                       float(value) if finite else None))
        if not finite or not self.objective.study.prune:
            return
        self.trial.report(float(value), event.epoch)
        if event.epoch + 1 < event.epochs and self.trial.should_prune():
            self.pruned = True
            self.run_control.stop()


def suggest(study: StudyFile, trial: Any) -> dict[str, Any]:
    """The trial's parameter values, suggested from the study's spaces (and variants)."""
    params = {p.path: p.space.suggest(trial, p.path) for p in study.params}
    if study.variants:
        params[VARIANT] = trial.suggest_categorical(VARIANT, list(study.variants))
    return params


def _train(objective: Objective, trial: Any, params: dict, relay: RunSink, run_control: Any,
           resume: str | None) -> Any:
    from cnnlab.train.trainer import run

    study = objective.study
    try:
        spec = None if resume else trial_experiment(study, params)
    except StudyError as exc:  # a combination of values the spec refuses: this trial fails
        trial.set_user_attr("message", str(exc))
        raise TrialRunFailed(str(exc)) from None
    tags = {"study": study.name, "trial": trial.number, "study_file": str(study.path)}
    started = time.monotonic()
    outcome = run(spec, relay, run_control, workspace=objective.workspace, resume=resume,
                  epochs=study.epochs, tags=tags)
    trial.set_user_attr("seconds", round(time.monotonic() - started, 3))
    return outcome


def _status(store: Any, run_id: str) -> str | None:
    """The run's status in this workspace (None: not here)."""
    from cnnlab.errors import RunError

    try:
        return store.get(run_id).status
    except RunError:
        return None


def _checked_value(value: Any, objective: str) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TrialRunFailed(f"the run measured no {objective}")
    return float(value)
