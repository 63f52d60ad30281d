"""Keras callbacks the recipe asks for: early stopping, plateau reduction, its warm-up."""

from __future__ import annotations

import keras

from cnnlab.recipe.optimizers import batch_counter
from cnnlab.recipe.schedules import constant_warm_up
from cnnlab.spec.sections import TrainingSpec


class WarmUpCallback(keras.callbacks.Callback):
    """Linear warm-up of a float learning rate, batch by batch (for ``plateau``).

    A schedule cannot be combined with ``ReduceLROnPlateau`` (Keras can only
    change a float rate), so the plateau schedule warms up here: before each
    batch of the first ``warmup_epochs`` the rate is set to the value of
    :class:`~cnnlab.recipe.schedules.LinearWarmUp` (the schedules' own
    warm-up: ``target * step / warmup_steps``), then once to ``target``;
    after that the callback leaves the rate alone. The step is the
    optimizer's batch counter (batches, also inside a gradient-accumulation
    group), so a resumed run does not warm up again.
    """

    def __init__(self, warmup_epochs: float, target: float):
        super().__init__()
        self.warmup_epochs = float(warmup_epochs)
        self.target = float(target)
        self._done = False

    def on_train_batch_begin(self, batch, logs=None):
        """Set the rate for this batch while warming up."""
        if self._done:
            return
        steps = (self.params or {}).get("steps") or 1
        warm_up = constant_warm_up(self.warmup_epochs, steps, self.target)
        optimizer = self.model.optimizer
        step = batch_counter(optimizer)  # batches seen, also inside an accumulation group
        if step <= warm_up.warmup_steps:
            optimizer.learning_rate = float(warm_up(step))
        self._done = step >= warm_up.warmup_steps

    def on_train_batch_end(self, batch, logs=None):
        """Set the next batch's rate now, so that the rate read after a batch is the next one's."""
        self.on_train_batch_begin(batch + 1, logs)


def recipe_callbacks(training: TrainingSpec) -> list:
    """Callbacks for the recipe: EarlyStopping, and ReduceLROnPlateau for ``plateau``.

    The plateau schedule watches the same metric as early stopping
    (``early_stopping.monitor``, ``val_loss`` by default), whether or not
    early stopping is on. With ``warmup_epochs > 0`` it also gets a
    :class:`WarmUpCallback`.

    Args:
        training: The recipe.

    Returns:
        A list of ``keras.callbacks.Callback`` (possibly empty).

    """
    out: list = []
    es = training.early_stopping
    if es.enabled:
        out.append(keras.callbacks.EarlyStopping(
            monitor=es.monitor, patience=es.patience,
            restore_best_weights=es.restore_best_weights))
    s = training.schedule
    if s.name == "plateau":
        if s.factor < 1.0:  # Keras refuses 1.0, which would never change the rate
            out.append(keras.callbacks.ReduceLROnPlateau(
                monitor=es.monitor, factor=s.factor, patience=s.patience, min_lr=s.min_lr))
        if s.warmup_epochs > 0:
            out.append(WarmUpCallback(s.warmup_epochs, training.optimizer.learning_rate))
    return out
