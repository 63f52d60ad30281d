"""How much memory training needs: weights, gradients, optimizer slots, activations, data.

Pure arithmetic on the lab's own analysis (:mod:`cnnlab.analysis`), no
TensorFlow. The parts, in bytes:

- weights: every parameter and batch-norm statistic, float32 (mixed
  precision keeps float32 master weights);
- gradients: one float32 value per trainable parameter;
- optimizer: the optimizer's slots per trainable parameter (Adam keeps two
  moments, SGD with momentum one velocity, ...), plus one accumulator with
  gradient accumulation;
- activations: what the backward pass keeps, times the batch size: each
  layer's output (the input of the next layer's gradient, or the output a
  ReLU's gradient reads) and, while the backward pass runs through it, a
  gradient of the same size; Flatten and Reshape are views and cost nothing;
  batch-norm after a convolution and dropout's mask add one tensor of the
  layer's size. Values are 2 bytes under mixed precision, else 4;
- data: the images the data pipeline holds in memory.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from cnnlab.analysis import Analysis, analyze_experiment
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.sections import OptimizerSpec

FLOAT32 = 4
MAX_BATCH = 65_536  # the spec's own limit on batch_size
VIEW_TYPES = frozenset({"Flatten", "Reshape"})
MASKED_TYPES = frozenset({"Dropout", "SpatialDropout2D", "GaussianDropout"})
# Images the Keras datasets have (training pool, own test set): the spec gives the data's size.
KERAS_SIZES = {"mnist": (60_000, 10_000), "fashion_mnist": (60_000, 10_000),
               "cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000)}
PARTS = ("weights", "gradients", "optimizer", "activations", "data")


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes training needs, per part, and the bytes the device has free (None: unknown)."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    data: int
    available: int | None = None

    @property
    def total(self) -> int:
        """The sum of the parts."""
        return self.weights + self.gradients + self.optimizer + self.activations + self.data

    @property
    def fits(self) -> bool:
        """True when the total is within the available memory (or that is unknown)."""
        return self.available is None or self.total <= self.available

    def to_json(self) -> dict[str, int | None]:
        """The ``memory`` object of ``cnnlab plan --json``."""
        return {**{part: int(getattr(self, part)) for part in PARTS}, "total": int(self.total),
                "available": None if self.available is None else int(self.available)}


def optimizer_slots(optimizer: OptimizerSpec, accumulation_steps: int = 1) -> int:
    """Float32 values the optimizer keeps per trainable parameter.

    Adam and AdamW: the two moments; SGD: a velocity with momentum, else
    none; RMSprop: the mean square, plus a velocity with momentum; Adagrad:
    the accumulated squares. Gradient accumulation adds one accumulator.
    """
    name = optimizer.name
    if name in ("adam", "adamw"):
        slots = 2
    elif name == "sgd":
        slots = 1 if optimizer.momentum > 0 else 0
    elif name == "rmsprop":
        slots = 2 if optimizer.momentum > 0 else 1
    else:  # adagrad
        slots = 1
    return slots + (1 if accumulation_steps > 1 else 0)


def kept_values_per_image(analysis: Analysis, batchnorm: str = "none") -> int:
    """Values per image the backward pass holds: kept outputs and their gradients, the input.

    Args:
        analysis: The model's analysis (per-block output sizes).
        batchnorm: The experiment's batch-norm switch (one more tensor per convolution).
    """
    from cnnlab.analysis import CONV_TYPES

    values = 0
    for layer in analysis.layers:
        if layer.type == "Input":
            values += layer.activations  # the batch itself; no gradient is taken for it
        elif layer.type not in VIEW_TYPES:
            extra = layer.type in MASKED_TYPES or (batchnorm != "none"
                                                   and layer.type in CONV_TYPES)
            values += 2 * layer.activations * (2 if extra else 1)
    return values


def activation_bytes(exp: Experiment, batch_size: int, analysis: Analysis | None = None) -> int:
    """Bytes of activations (and their gradients) for ``batch_size`` images."""
    analysis = analysis or analyze_experiment(exp)
    per_image = kept_values_per_image(analysis, exp.training.regularization.batchnorm)
    return per_image * batch_size * value_bytes(exp)


def value_bytes(exp: Experiment) -> int:
    """Bytes of one activation value: 2 under mixed precision, else 4."""
    return 2 if exp.training.device.mixed_precision != "none" else FLOAT32


def estimate_memory(exp: Experiment, data_bytes: int, available: int | None = None,
                    batch_size: int | None = None) -> MemoryEstimate:
    """The memory estimate of training ``exp``.

    Args:
        exp: The experiment (model, recipe, precision).
        data_bytes: What the data pipeline holds (:func:`loaded_data_bytes` or
            :func:`spec_data_bytes`).
        available: Free memory on the device, in bytes (None: unknown).
        batch_size: Images per batch (default: the recipe's).

    Returns:
        The estimate; its parts are whole bytes.
    """
    analysis = analyze_experiment(exp)
    totals = analysis.totals
    training = exp.training
    batch = training.batch_size if batch_size is None else batch_size
    trainable = totals.trainable_params
    slots = optimizer_slots(training.optimizer, training.gradient_accumulation_steps)
    return MemoryEstimate(
        weights=(totals.params + totals.state) * FLOAT32,
        gradients=trainable * FLOAT32,
        optimizer=slots * trainable * FLOAT32,
        activations=activation_bytes(exp, batch, analysis),
        data=int(data_bytes), available=available)


def max_batch_size(exp: Experiment, data_bytes: int, available: int | None) -> int | None:
    """The largest batch size whose estimate fits ``available`` (0: not even one image).

    Returns:
        None when the available memory is unknown; at most 65,536 (the spec's limit).
    """
    if available is None:
        return None
    one = estimate_memory(exp, data_bytes, available, batch_size=1)
    per_image = one.activations
    fixed = one.total - per_image
    room = available - fixed
    if room < per_image:
        return 0
    return int(min(MAX_BATCH, room // max(per_image, 1)))


def loaded_data_bytes(data: Any) -> int:
    """Bytes the loaded data hold in memory while training.

    In-memory sources: the float32 arrays of every split, plus the copies the
    training and validation pipelines hold as tensors. Folder sources: the
    decoded training and validation images the pipelines cache (float32).
    """
    arrays = [getattr(data, f"x_{split}", None) for split in ("train", "val", "test")]
    if all(x is None for x in arrays):
        images = data.sizes.get("train", 0) + data.sizes.get("val", 0)
        return images * math.prod(data.image_shape) * FLOAT32
    total = sum(int(x.nbytes) for x in arrays if x is not None)
    return total + sum(int(x.nbytes) for x in arrays[:2] if x is not None)


def spec_data_bytes(exp: Experiment) -> int | None:
    """The data's bytes from the spec alone (shapes and Keras datasets); None: unknown.

    The splits as the loader makes them (a Keras dataset keeps its own test
    set; ``max_samples`` caps training and shrinks validation and test in
    proportion), counted as :func:`loaded_data_bytes` counts them. For npz
    files and folders the size is known only once they are read.
    """
    data = exp.data
    if data.source == "shapes":
        count = data.shapes.samples
        val, test = count * data.validation_split, count * data.test_split
        train = count - val - test
    elif data.source == "keras" and data.keras_name in KERAS_SIZES:
        pool, test = KERAS_SIZES[data.keras_name]
        val = pool * data.validation_split
        train = pool - val
    else:
        return None
    if data.max_samples is not None and train > data.max_samples:
        factor = data.max_samples / train
        train, val, test = data.max_samples, val * factor, test * factor
    from cnnlab.train.preparation import input_shape

    per_image = math.prod(input_shape(exp)) * FLOAT32
    return int((train + val + test + train + val) * per_image)  # arrays, pipeline tensors


def with_batch_size(exp: Experiment, batch_size: int) -> Experiment:
    """``exp`` with another batch size (for what-would-fit advice)."""
    return dataclasses.replace(exp, training=dataclasses.replace(exp.training,
                                                                 batch_size=batch_size))
