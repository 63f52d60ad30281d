"""A model and data pipeline ready to train, built as the trainer builds them.

The plan's micro-benchmark and the learning-rate finder use the trainer's
own preparation (:mod:`cnnlab.train.preparation`) and device plan, so they
measure what a run would do; nothing is written to the run store.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnnlab.spec.experiment import Experiment


@dataclass
class Prepared:
    """What :func:`prepared_training` built: the device plan, data, model and pipelines."""

    plan: Any
    data: Any
    net: Any
    model: Any
    sets: Any


@contextlib.contextmanager
def prepared_training(exp: Experiment, single_steps: bool = False,
                      base_weights: bool = False) -> Iterator[Prepared]:
    """Build and compile the experiment's model and data pipelines on its device.

    Inside the ``with`` block the device plan's precision is active (as in a
    run); it is restored afterwards. The model is freshly initialised from the
    recipe's seed: never a run's weights.

    Args:
        exp: The experiment.
        single_steps: Compile with one batch per call (``train_on_batch`` loops).
        base_weights: Copy a transfer base's pretrained weights in, as a new run
            does (the learning rate depends on them; the step time does not).

    Yields:
        The prepared pieces.

    Raises:
        CnnlabError: The data, model or device cannot be set up (one line).
    """
    import keras

    import cnnlab.layers  # noqa: F401 - registers the custom layers
    from cnnlab.build import build_model
    from cnnlab.data import load_data
    from cnnlab.train import devices
    from cnnlab.train import preparation as prep

    training = exp.training
    plan = devices.plan_devices(training.device, prep.xla_ok(training))
    devices.check_batch(plan, training.batch_size)
    if single_steps:
        plan = dataclasses.replace(plan, steps_per_execution=1)
    with devices.activated(plan, deterministic=False):
        keras.utils.set_random_seed(training.seed)
        data = load_data(exp.data, prep.input_shape(exp), training.seed)
        with plan.scope():
            net = build_model(exp)
            prep.check_classes(exp, net, data.num_classes)
            model = prep.with_augmentation(net, training, prep.value_range(data))
        if base_weights:
            prep.load_base_weights(net, exp)
        sets = prep.make_datasets(data, training)
        first = prep.phases(training, training.epochs)[0]
        multipliers = prep.apply_phase(net, training, first)
        with plan.scope():
            prep.compile_model(model, training, data.num_classes, plan, sets.steps, multipliers)
        yield Prepared(plan=plan, data=data, net=net, model=model, sets=sets)
