"""The trainer: one run, from spec snapshot to saved model, reported through events.

Qt-free. :func:`run` is called on a worker thread (the window) or the main
thread (the command line); the model is built on that thread and never
shared. Events go out only through ``sink(event)``; the only way in is the
:class:`~cnnlab.train.events.Control` token. Errors never escape as
tracebacks: :func:`run` sends :class:`~cnnlab.train.events.Failed` and
returns a :class:`RunOutcome` (KeyboardInterrupt is the one exception: the run
is marked interrupted and the interrupt goes on).
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.errors import CnnlabError, RunError
from cnnlab.spec.experiment import Experiment
from cnnlab.train.checkpoints import Checkpoints, CheckpointState
from cnnlab.train.events import Control, Failed, Finished, RunStarted, Stopped

Sink = Callable[[Any], None]


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended.

    Attributes:
        run_id: The run ("" when it failed before the run was created).
        status: ``finished``, ``stopped`` or ``failed``.
        epochs_done: Completed epochs.
        metrics: The last completed epoch's metrics.
        run_dir: The run folder.
        model_path: The saved ``model.keras`` ("" when none was saved).
        message: Why it stopped or failed, for people.
        error: The exception of a failed run (a :class:`CnnlabError` is the user's).
    """

    run_id: str
    status: str
    epochs_done: int = 0
    metrics: dict = field(default_factory=dict)
    run_dir: str = ""
    model_path: str = ""
    message: str = ""
    error: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def user_error(self) -> bool:
        """True when the run failed because of the user's input."""
        return isinstance(self.error, CnnlabError)


@dataclass
class _Job:
    spec: Experiment
    epochs: int
    run_id: str | None = None  # set when resuming
    state: CheckpointState | None = None
    complete: bool = False  # all epochs trained; only the end (test, model.keras) is missing
    tags: dict = field(default_factory=dict)  # recorded in a new run's metadata ("tags")
    fork: Any = None  # a ForkPoint: a branch still to start from its parent's checkpoint

    @property
    def first_epoch(self) -> int:
        """The epoch training starts at: after the own checkpoint, the fork point, or 0."""
        if self.state is not None:
            return self.state.epochs_done
        return self.fork.epoch if self.fork is not None else 0


def run(spec: Experiment | None, sink: Sink, control: Control | None = None,
        workspace: str | Path | None = None, resume: str | None = None,
        epochs: int | None = None, tags: dict | None = None,
        fork: str | None = None) -> RunOutcome:
    """Train an experiment (or resume a run) and report through ``sink``.

    Args:
        spec: The immutable experiment snapshot (ignored when resuming: a
            resumed run uses its own stored snapshot).
        sink: Receives every event, on the calling thread.
        control: The stop/pause token (a fresh one when None).
        workspace: The workspace (default: ``CNNLAB_HOME`` or the user's).
        resume: Id of an interrupted or stopped run to continue from its last
            checkpoint (an epoch cut short is trained again from its start);
            a run whose epochs are all checkpointed but which never ended
            (killed while saving ``model.keras``) is completed: tested, saved,
            marked finished.
        epochs: Train this many epochs in all instead of the spec's (or the
            resumed run's) number.
        tags: JSON data recorded in a new run's metadata under ``"tags"`` (a
            study and its trial number, say); a resumed run keeps its own.
        fork: ``RUN`` or ``RUN@EPOCH``: start a branch of that run from its
            checkpoint after EPOCH completed epochs (default: the last kept),
            weights and optimizer state, trained with ``spec`` (None: the
            parent's own spec); see :mod:`cnnlab.train.fork`. Its epochs
            continue the parent's numbering; the parent is never written.

    Returns:
        The outcome; ``Finished``, ``Stopped`` or ``Failed`` was sent last.

    Raises:
        KeyboardInterrupt: Passed on after marking the run interrupted.
    """
    from cnnlab.runs.store import RunStore

    trainer = _Trainer(sink, control or Control())
    try:
        trainer.store = RunStore(workspace)
        job = trainer.job(spec, resume, epochs, fork)
        job.tags = dict(tags or {})
        return trainer.train(job)
    except KeyboardInterrupt:
        trainer.mark("interrupted", "aborted from the keyboard")
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an event
        return trainer.fail(exc)
    finally:
        trainer.release()


class _Trainer:
    """The state of one :func:`run` call."""

    def __init__(self, sink: Sink, control: Control):
        self.sink = sink
        self.control = control
        self.store: Any = None
        self.run_id = ""
        self.claimed = ""  # the run whose claim this call holds (RunStore.claim)
        self.batch_size = 0
        self.device = "the device"

    def job(self, spec: Experiment | None, resume: str | None, epochs: int | None,
            fork: str | None = None) -> _Job:
        """Resolve what to train: a new run, a branch, or the stored snapshot of one to resume."""
        if epochs is not None and epochs < 1:
            raise RunError(f"epochs must be at least 1, not {epochs}")
        if fork is not None:
            if resume is not None:
                raise RunError("a run is either resumed or branched: give --resume or --fork")
            return self._fork_job(spec, fork, epochs)
        if resume is None:
            if spec is None:
                raise RunError("nothing to train: give an experiment or a run to resume")
            count = epochs or spec.training.epochs
            training = dataclasses.replace(spec.training, epochs=count)
            return _Job(dataclasses.replace(spec, training=training), count)
        return self._resume_job(resume, epochs)

    def _fork_job(self, spec: Experiment | None, fork: str, epochs: int | None) -> _Job:
        from cnnlab.spec.load import experiment_from_dict
        from cnnlab.train.fork import check_child, resolve_fork

        point = resolve_fork(self.store, fork)
        spec = spec or experiment_from_dict(dict(point.parent_spec))
        count = epochs or spec.training.epochs
        check_child(point, spec, count)
        training = dataclasses.replace(spec.training, epochs=count)
        return _Job(dataclasses.replace(spec, training=training), count, fork=point)

    def _resume_job(self, run_id: str, epochs: int | None) -> _Job:
        from cnnlab.spec.load import experiment_from_dict

        self.store.claim(run_id)  # a second trainer of the run fails here, naming the holder
        self.claimed = run_id
        record = self.store.get(run_id)
        if record.status == "running":
            raise RunError(f"run {run_id} is still running; stop it before resuming it")
        spec = experiment_from_dict(self.store.spec(run_id))
        state = Checkpoints(record.checkpoint_dir).read_state()
        planned = max(record.epochs_planned or 0, state.epochs_planned if state else 0)
        count = epochs or planned or spec.training.epochs
        fork = None
        if state is None:  # a branch killed before its first epoch starts from its parent again
            from cnnlab.train.fork import fork_point_of

            fork = fork_point_of(self.store, record)
        job = _Job(spec, count, run_id, state, fork=fork)
        if job.first_epoch < count:
            return job
        done = job.first_epoch
        if state is None:
            raise RunError(f"run {run_id} branches after epoch {done}: give it more than "
                           f"{done} epochs")
        if record.status == "finished" and self.store.model_path(run_id).is_file():
            raise RunError(f"run {run_id} has already trained {done} of {count} epochs; "
                           f"ask for more epochs to train it longer")
        # Every epoch is checkpointed but the run never ended (killed while saving
        # model.keras, say): finish it from the last checkpoint.
        return _Job(spec, done, run_id, state, complete=True)

    def train(self, job: _Job) -> RunOutcome:
        """Set up the device, then build, train and save."""
        from cnnlab.train import devices, preparation

        training = job.spec.training
        self.batch_size = training.batch_size
        preparation.check_tensorboard(training)
        plan = devices.plan_devices(training.device, preparation.xla_ok(training))
        self.device = plan.name
        devices.check_batch(plan, training.batch_size)
        with devices.activated(plan, deterministic=training.deterministic):
            from cnnlab.train.session import Session

            return Session(self, job, plan).execute()

    def release(self) -> None:
        """Release the run's claim if this call holds it (never raises)."""
        run_id, self.claimed = self.claimed, ""
        if not run_id:
            return
        try:
            self.store.release(run_id)
        except Exception:  # noqa: BLE001 - the process ending releases it anyway
            pass

    def mark(self, status: str, message: str | None = None) -> None:
        """Set the run's status in the store, if the run exists (never raises)."""
        if not self.run_id or self.store is None:
            return
        try:
            self.store.set_status(self.run_id, status, message)
        except Exception:  # noqa: BLE001 - the index may be the thing that failed
            pass

    def send(self, event: Any) -> None:
        """Send an event; the sink's errors propagate (they fail the run)."""
        self.sink(event)

    def fail(self, exc: BaseException) -> RunOutcome:
        """Turn an exception into a Failed event, a failed status and an outcome."""
        message, detail = describe_error(exc, self.device, self.batch_size)
        self.mark("failed", message)
        try:
            self.sink(Failed(run_id=self.run_id, message=message, detail=detail))
        except Exception:  # noqa: BLE001 - the sink may be what failed
            pass
        run_dir = str(self.store.runs_dir / self.run_id) if self.run_id and self.store else ""
        return RunOutcome(self.run_id, "failed", message=message, run_dir=run_dir, error=exc)

    def ended(self, status: str, ctx: Any, model_path: str, message: str = "") -> RunOutcome:
        """Record the end of a run that trained, send its last event, return the outcome."""
        self.mark(status, message or None)
        if status == "finished":
            self.send(Finished(run_id=self.run_id, epochs_done=ctx.epochs_done,
                               metrics=dict(ctx.last_metrics), model_path=model_path))
        elif status == "stopped":
            self.send(Stopped(run_id=self.run_id, epochs_done=ctx.epochs_done,
                              model_path=model_path))
        else:
            self.send(Failed(run_id=self.run_id, message=message))
        return RunOutcome(self.run_id, status, ctx.epochs_done, dict(ctx.last_metrics),
                          str(self.store.runs_dir / self.run_id), model_path, message)

    def started(self, plan: Any, job: _Job, steps: int, initial: int, params: int,
                data_lines: tuple[str, ...] = ()) -> None:
        """Send RunStarted."""
        self.send(RunStarted(run_id=self.run_id, run_dir=str(self.store.runs_dir / self.run_id),
                             device=plan.name, precision=plan.precision, epochs=job.epochs,
                             steps_per_epoch=steps, initial_epoch=initial, params=params,
                             data_lines=data_lines))


def describe_error(exc: BaseException, device: str, batch_size: int) -> tuple[str, str]:
    """A one-line message for people and the technical detail for the log."""
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, CnnlabError):
        return str(exc), detail
    if _is_out_of_memory(exc):
        return (f"out of memory on {device}: try a smaller batch size (now {batch_size}) "
                f"or a smaller input size", detail)
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"training failed: {type(exc).__name__}: {first}".rstrip(": "), detail


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - tensorflow is a dependency
        return False
    return isinstance(exc, tf.errors.ResourceExhaustedError)
