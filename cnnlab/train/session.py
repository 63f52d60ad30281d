"""One training session of a run: build, restore, fit phase by phase, test, save.

Used by :mod:`cnnlab.train.trainer`, inside the device plan's precision and
determinism settings. Imports Keras at import time.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras

from cnnlab.atomic import atomic_path
from cnnlab.recipe.optimizers import set_batch_counter
from cnnlab.train import observers
from cnnlab.train import preparation as prep
from cnnlab.train.callbacks import (
    BatchMonitor,
    EpochRecorder,
    Heartbeat,
    RunContext,
    recover_last_epoch,
)
from cnnlab.train.checkpoints import Checkpoints


class Session:
    """Trains one job of a :class:`~cnnlab.train.trainer._Trainer` on one device plan."""

    def __init__(self, trainer: Any, job: Any, plan: Any):
        self.trainer = trainer
        self.job = job
        self.plan = plan
        self.spec = job.spec
        self.training = job.spec.training
        self.store = trainer.store

    def execute(self) -> Any:
        """Build the model and data, open the run, train, test, save; return the RunOutcome."""
        import cnnlab.layers  # noqa: F401 - registers the custom layers for loading
        from cnnlab.build import build_model
        from cnnlab.data import load_data

        keras.utils.set_random_seed(self.training.seed)
        data = load_data(self.spec.data, prep.input_shape(self.spec), self.training.seed)
        if data.files is not None:  # a folder's cache file belongs to this run's workspace
            data.files.cache_dir = self.store.workspace / "cache"
        with self.plan.scope():
            self.net = build_model(self.spec)
            prep.check_classes(self.spec, self.net, data.num_classes)
            self.model = prep.with_augmentation(self.net, self.training, prep.value_range(data))
        self.data = data
        fresh = self.job.state is None and self.job.fork is None
        self.transfer_notes = prep.load_base_weights(self.net, self.spec) if fresh else []
        self.sets = prep.make_datasets(data, self.training)
        self.parent = self._read_parent() if self.job.fork is not None else None
        self._open_run()
        folder = self.store.checkpoint_dir(self.trainer.run_id)
        self.ckpt = Checkpoints(folder, "val_loss" if self.sets.val is not None else "loss")
        self.ckpt.clean()
        if self.job.state is not None:
            self.ckpt.read_state()
        ctx = RunContext(sink=self.trainer.send, control=self.trainer.control,
                         run_id=self.trainer.run_id, store=self.store, checkpoints=self.ckpt,
                         epochs=self.job.epochs, steps=self.sets.steps,
                         last_metrics=recover_last_epoch(self.store, self.trainer.run_id,
                                                         self.job.state))
        with Heartbeat(self.store, self.trainer.run_id):
            if self.job.complete:
                self._restore_final(ctx)
            else:
                self._fit_phases(ctx)
            return self._finish(ctx)

    def _read_parent(self) -> Any:
        """The parent's state at the fork, checked against this network (before the run exists)."""
        from cnnlab.train import graft

        fork = self.job.fork
        parent = graft.read_parent(fork, self.plan, self.data, self.sets.steps)
        graft.check_weights(self.net, parent, fork.parent)
        return parent

    def _open_run(self) -> None:
        """Create the run in the store (claimed), or mark the claimed resumed one running."""
        trainer = self.trainer
        if self.job.run_id:
            trainer.run_id = self.job.run_id
            self._remove_stale_temp_files()
            self.store.set_status(trainer.run_id, "running")
            return
        from cnnlab.analysis import analyze

        totals = analyze(self.spec.model, self.training.regularization.batchnorm).totals
        metadata = prep.run_metadata(self.spec, self.plan, self.data)
        metadata["transfer"] = self.transfer_notes
        if self.job.tags:
            metadata["tags"] = self.job.tags
        if self.job.fork is not None:
            from cnnlab.train.fork import FORK_KEY

            metadata[FORK_KEY] = self.job.fork.metadata(self.spec.run_dict())
        record = self.store.create_run(
            self.spec.run_dict(), self.spec.name, self.job.epochs, metadata,
            params=int(self.net.count_params()), macs=int(totals.macs))
        trainer.run_id = trainer.claimed = record.id
        self.store.claim(record.id)  # takes over the claim create_run made for this process

    def _remove_stale_temp_files(self) -> None:
        """Remove what a killed process left half-written in this run's folder.

        The run is claimed by this process, so no other writer can be using a
        temporary file there (e.g. ``.model.keras.tmp-*`` of a kill during the
        final save), whatever its age.
        """
        from cnnlab.runs.workspace import remove_paths, stale_temp_paths

        run_dir = self.store.run_dir(self.trainer.run_id)
        remove_paths(stale_temp_paths(run_dir, time.time() + 1))

    def data_lines(self) -> tuple[str, ...]:
        """Name every skipped file and left-out class; all of them in the run folder's list."""
        from cnnlab.data import skipped_lines, write_skipped_listing
        from cnnlab.data.report import LISTING_NAME

        listing = self.store.run_dir(self.trainer.run_id) / LISTING_NAME
        listing = write_skipped_listing(self.data, listing)  # None when nothing was skipped
        return tuple(skipped_lines(self.data, listing=listing))

    def _restore_final(self, ctx: RunContext) -> None:
        """Load the last checkpoint of a run whose epochs are all trained (its end never came)."""
        state = self.job.state
        plan = prep.phases(self.training, self.job.epochs)
        index = min(state.phase, len(plan) - 1)
        done = self._prepare_phase(index, plan[index], state.epochs_done, restore=True)
        ctx.epochs_done = done
        ctx.started = time.monotonic()
        self.trainer.started(self.plan, self.job, self.sets.steps, done,
                             int(self.net.count_params()), self.data_lines())

    def _fit_phases(self, ctx: RunContext) -> None:
        """Fit the phases not done yet; end early on stop, NaN or early stopping."""
        initial = self.job.first_epoch
        pending = self.job.state is not None  # a checkpoint still to restore
        self._initial_weights = None if pending else self.model.get_weights()
        announced = False
        for index, phase in enumerate(prep.phases(self.training, self.job.epochs)):
            if phase.end_epoch <= initial:
                continue
            initial = self._prepare_phase(index, phase, initial, restore=pending)
            pending = False
            if self.parent is not None:  # a branch: the parent's weights and optimizer state
                self._graft(initial)
            if not announced:
                ctx.started = time.monotonic()
                self.trainer.started(self.plan, self.job, self.sets.steps, initial,
                                     int(self.net.count_params()), self.data_lines())
                announced = True
            ctx.epochs_done = max(ctx.epochs_done, initial)
            ctx.state = {"phase": index, "steps_per_epoch": self.sets.steps,
                         "epochs_planned": self.job.epochs}
            if self.trainer.control.stop_requested:  # before training began, or between phases
                ctx.stopped_by_user = True
                return
            self._fit(ctx, max(phase.start_epoch, initial), phase.end_epoch)
            if ctx.nan or ctx.stopped_by_user or self.model.stop_training:
                return
            initial = phase.end_epoch

    def _prepare_phase(self, index: int, phase: Any, initial: int, restore: bool) -> int:
        """Apply the phase, compile, and restore the checkpoint or set the schedule position."""
        multipliers = prep.apply_phase(self.net, self.training, phase)
        state = self.job.state
        same_phase = restore and state.phase == index
        with self.plan.scope():
            if restore and not same_phase:
                self.ckpt.restore(self.model, state, with_optimizer=False)
            prep.compile_model(self.model, self.training, self.data.num_classes, self.plan,
                               self.sets.steps, multipliers)
            if same_phase:
                return self.ckpt.restore(self.model, state, with_optimizer=True)
            optimizer = self.model.optimizer
            optimizer.build(self.model.trainable_variables)
            # The schedule counts batches, also with gradient accumulation (where
            # ``iterations`` counts updates and cannot be assigned).
            set_batch_counter(optimizer, max(phase.start_epoch, initial) * self.sets.steps)
        return initial

    def _graft(self, initial: int) -> None:
        """Start from the parent's state; the schedule continues at the fork epoch."""
        from cnnlab.train import graft

        optimizer = self.model.optimizer
        with self.plan.scope():
            graft.graft(self.net, optimizer, self.parent)
            if self.parent.steps_per_epoch != self.sets.steps:  # another batch size
                set_batch_counter(optimizer, initial * self.sets.steps)
        self.parent = None
        self._initial_weights = self.model.get_weights()

    def _fit(self, ctx: RunContext, first: int, end: int) -> None:
        run_dir = self.store.runs_dir / self.trainer.run_id
        # The recorder comes after the recipe's callbacks, so that an epoch logs (and
        # checkpoints) the rate the next epoch starts with, also when ReduceLROnPlateau
        # has just lowered it: the same meaning of "lr" as for every schedule.
        callbacks = [BatchMonitor(ctx), *prep.extra_callbacks(self.training, run_dir, self.net),
                     *observers.callbacks(self, ctx), EpochRecorder(ctx)]
        self.model.fit(self.sets.train, validation_data=self.sets.val, epochs=end,
                       initial_epoch=first, callbacks=callbacks, verbose=0, shuffle=False)

    def _finish(self, ctx: RunContext) -> Any:
        """Keep the last good weights after NaN, test a finished run, save ``model.keras``.

        The order lets a resume complete a run killed at any point here: the
        run is marked finished only after ``model.keras`` is in place.
        """
        message = ""
        if ctx.nan is not None:
            self._restore_good_weights()
            message = self._nan_message(ctx.nan)
            status = "failed"
        elif ctx.stopped_by_user and ctx.epochs_done < self.job.epochs:
            status = "stopped"
        else:
            status = "finished"
            ctx.last_metrics = {**ctx.last_metrics, **self._test_metrics()}
        model_path = self.store.runs_dir / self.trainer.run_id / "model.keras"
        with atomic_path(model_path) as tmp:
            self.net.save(tmp)
        return self.trainer.ended(status, ctx, str(model_path), message)

    def _test_metrics(self) -> dict:
        """Evaluate on the held-out test split and record the result (none: {})."""
        test = prep.test_dataset(self.data, self.training)
        if test is None:
            return {}
        logs = self.model.evaluate(test, verbose=0, return_dict=True)
        metrics = {f"test_{k}": float(v) for k, v in logs.items() if k in prep.TEST_METRICS}
        self.store.record_test(self.trainer.run_id, metrics)
        return metrics

    def _restore_good_weights(self) -> None:
        if self.ckpt.last_path.is_file():
            good = keras.models.load_model(self.ckpt.last_path, compile=False)
            self.model.set_weights(good.get_weights())
        elif self._initial_weights is not None:
            self.model.set_weights(self._initial_weights)

    def _nan_message(self, nan: tuple[int, int, float]) -> str:
        epoch, step, loss = nan
        what = "NaN" if math.isnan(loss) else "infinite"
        lr = self.training.optimizer.learning_rate
        return (f"the loss became {what} at epoch {epoch + 1}, batch {step}, so training "
                f"stopped and the weights of the last good epoch were kept; the learning "
                f"rate ({lr:g}) is probably too high: try a smaller one, or clip gradients")
