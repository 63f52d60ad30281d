"""Getting a run ready: data pipelines, the class check, augmentation, compiling, metadata.

The recipe (optimizer, schedule, loss, metrics, augmentation, transfer
phases) comes from :mod:`cnnlab.recipe`; this module only puts the pieces
together for :mod:`cnnlab.train.trainer`.
"""

from __future__ import annotations

import math
import platform
import sys
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import CnnlabError, SpecError
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.sections import TrainingSpec


@dataclass(frozen=True)
class Datasets:
    """The pipelines ``fit`` consumes: training, validation (or None), batches per epoch."""

    train: Any
    val: Any
    steps: int


def make_datasets(data: Any, training: TrainingSpec) -> Datasets:
    """Build the training and validation pipelines with the recipe's augmentation and labels."""
    from cnnlab.recipe import augment_dataset, make_eval_labels

    seed, batch = training.seed, training.batch_size
    train = data.dataset("train", batch, shuffle=True, seed=seed)
    train = augment_dataset(train, training, data.num_classes, seed,
                            value_range=value_range(data))
    val = None
    if data.sizes.get("val"):
        val = data.dataset("val", batch, shuffle=False, seed=seed)
        val = make_eval_labels(val, training, data.num_classes)
    steps = math.ceil(data.sizes["train"] / batch)
    return Datasets(train=train, val=val, steps=steps)


TEST_METRICS = ("loss", "accuracy", "top5")


def test_dataset(data: Any, training: TrainingSpec) -> Any:
    """The test split's pipeline with labels in the training format; None without a test split."""
    if not data.sizes.get("test"):
        return None
    from cnnlab.recipe import make_eval_labels

    test = data.dataset("test", training.batch_size, shuffle=False, seed=training.seed)
    return make_eval_labels(test, training, data.num_classes)


def value_range(data: Any) -> tuple[float, float]:
    """The range of the pixel values the model sees (for augmentation layers)."""
    if data.normalization == "scale":
        return (0.0, 1.0)
    x = getattr(data, "x_train", None)
    if x is not None and len(x):
        return (float(x.min()), float(x.max()))
    stats = data.normalization_stats
    if data.normalization == "standardize" and stats:
        pairs = list(zip(stats["mean"], stats["std"]))
        return (min(-m / s for m, s in pairs), max((255.0 - m) / s for m, s in pairs))
    return (0.0, 255.0)


def check_classes(spec: Experiment, net: Any, num_classes: int) -> None:
    """Refuse a model whose output units differ from the dataset's class count.

    Raises:
        SpecError: Naming the output block by its id (as the window's Problems does).
    """
    units = int(net.output_shape[-1])
    if units == num_classes:
        return
    raise SpecError(net.layers[-1].name, f"it has {units} units but the data has "
                    f"{num_classes} classes; set units to {num_classes}")  # as validate says


def input_shape(spec: Experiment) -> tuple[int, ...]:
    """The model's input shape (height, width, channels) from its Input block."""
    graph = spec.model.expand()
    node = next(n for n in graph.nodes if n.type == "Input")
    return tuple(int(v) for v in node.params["shape"])


def load_base_weights(net: Any, spec: Experiment) -> list[str]:
    """Copy a transfer base's pretrained weights into ``net`` (fresh runs only).

    Returns:
        Report lines for ``metadata.json`` (empty without a pretrained base).

    Raises:
        ModelFileError: The base's weights are missing or do not fit.
    """
    transfer = spec.training.transfer
    if not transfer.base or transfer.strategy in ("none", "scratch"):
        return []
    from cnnlab.modelio import load_base_weights as copy_base_weights

    return list(copy_base_weights(net, spec))


def with_augmentation(net: Any, training: TrainingSpec, pixels: tuple = (0.0, 1.0)) -> Any:
    """The model to train: ``net`` itself, or augmentation layers followed by ``net``.

    ``net`` keeps its layer names (the block ids); the saved ``model.keras``
    is ``net``, so inspection never sees the augmentation wrapper.
    """
    import keras

    from cnnlab.recipe import augmentation_model

    aug = augmentation_model(training, tuple(net.input_shape[1:]), training.seed,
                             value_range=pixels)
    if aug is None:
        return net
    inputs = keras.Input(shape=tuple(net.input_shape[1:]), name="images")
    return keras.Model(inputs, net(aug(inputs)), name=f"{net.name}_training")


def augmentation_in_model(training: TrainingSpec) -> bool:
    """True when augmentation layers run inside the model (which matters for XLA)."""
    aug = training.augmentation
    return aug.placement == "model" and bool(aug.layers)


def xla_ok(training: TrainingSpec) -> bool:
    """False when the model would contain augmentation layers XLA cannot compile."""
    if not augmentation_in_model(training):
        return True
    from cnnlab.recipe import xla_compatible

    return bool(xla_compatible(training))


def compile_model(model: Any, training: TrainingSpec, num_classes: int, plan: Any,
                  steps: int, multipliers: dict | None = None) -> None:
    """Compile with the recipe's optimizer, loss and metrics and the plan's XLA/steps settings."""
    from cnnlab.recipe import make_loss, make_metrics, make_optimizer, uses_one_hot

    model.compile(
        optimizer=make_optimizer(training, steps, lr_multipliers=multipliers or None),
        loss=make_loss(training, num_classes, from_logits=outputs_logits(model)),
        metrics=make_metrics(training, uses_one_hot(training)),
        jit_compile=plan.jit_compile,
        steps_per_execution=plan.steps_per_execution,
    )


def outputs_logits(model: Any) -> bool:
    """True when the model's last layer has no activation (its outputs are logits)."""
    last = model.layers[-1]
    if isinstance(last, type(model)) or hasattr(last, "layers"):
        return outputs_logits(last)
    return last.get_config().get("activation") == "linear"


def phases(training: TrainingSpec, epochs: int) -> list:
    """The transfer-learning phases covering ``epochs`` (one phase without transfer)."""
    from cnnlab.recipe import transfer_phases

    return list(transfer_phases(training, epochs))


def apply_phase(model: Any, training: TrainingSpec, phase: Any) -> dict:
    """Freeze/unfreeze for a phase; return its per-layer learning-rate multipliers."""
    from cnnlab.recipe import apply_phase as recipe_apply_phase

    return dict(recipe_apply_phase(model, training, phase) or {})


def check_tensorboard(training: TrainingSpec) -> None:
    """Refuse TensorBoard logging up front when the ``tensorboard`` package is missing.

    Raises:
        CnnlabError: TensorBoard logging is on and cannot work.
    """
    import importlib.util

    if training.device.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise CnnlabError("TensorBoard logging needs the tensorboard package (pip install "
                          "tensorboard); install it or turn TensorBoard off in the device "
                          "settings")


def extra_callbacks(training: TrainingSpec, run_dir: Any, net: Any) -> list:
    """The recipe's callbacks (early stopping, plateau), filter snapshots, and TensorBoard.

    Filter snapshots (``run_dir/filters``) are best effort: a failure there
    turns them off, never the run.
    """
    import keras

    from cnnlab.recipe import recipe_callbacks
    from cnnlab.train.callbacks import BestEffort
    from cnnlab.train.filter_history import make_callback

    out = [*(recipe_callbacks(training) or []), BestEffort(make_callback(run_dir), net)]
    if training.device.tensorboard:
        out.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"),
                                               update_freq="epoch"))
    return out


def versions() -> dict[str, str]:
    """Versions of what trains, for ``metadata.json``."""
    import keras
    import numpy
    import tensorflow as tf

    import cnnlab

    return {"cnnlab": cnnlab.__version__, "keras": keras.__version__,
            "tensorflow": tf.__version__, "numpy": numpy.__version__,
            "python": sys.version.split()[0], "platform": platform.platform()}


def run_metadata(spec: Experiment, plan: Any, data: Any) -> dict[str, Any]:
    """The caller's part of ``metadata.json``: versions, device, seed, determinism, data facts.

    ``deterministic`` is true when the run asked for reproducibility
    (``training.deterministic``: Keras seeds plus TensorFlow op determinism).
    """
    return {
        "versions": versions(),
        "device": plan.name,
        "seed": spec.training.seed,
        "deterministic": bool(spec.training.deterministic),
        "devices": plan.to_json(),
        "data": {"sizes": dict(data.sizes), "classes": list(data.class_names),
                 "image_shape": list(data.image_shape), "notes": list(data.notes)},
    }
