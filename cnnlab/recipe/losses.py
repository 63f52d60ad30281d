"""Loss, label format and metrics of the recipe.

Labels are integers (sparse) unless something needs vectors: label smoothing,
MixUp or CutMix (soft labels that sum to one), an explicit categorical loss,
or the squared hinge of the SVM head, whose labels are one-hot in +-1.
"""

from __future__ import annotations

import keras

from cnnlab.errors import SpecError
from cnnlab.spec.sections import TrainingSpec


def mixing(training: TrainingSpec) -> bool:
    """Whether MixUp or CutMix is on."""
    a = training.augmentation
    return bool(a.mixup.enabled or a.cutmix.enabled)


def uses_hinge(training: TrainingSpec) -> bool:
    """Whether the loss is the squared hinge (SVM head, labels in +-1)."""
    if training.loss == "auto":
        return training.transfer.head == "svm"
    return training.loss == "squared_hinge"


def uses_one_hot(training: TrainingSpec) -> bool:
    """Whether labels must be one-hot (or soft) vectors instead of class indices.

    Raises:
        SpecError: When the loss is explicitly sparse but smoothing or mixing
            need vectors.

    """
    if training.loss == "sparse_categorical_crossentropy":
        if training.label_smoothing > 0 or mixing(training):
            raise SpecError("training.loss", "label smoothing, MixUp and CutMix need one-hot "
                            "labels; use auto or categorical_crossentropy")
        return False
    if training.loss in ("categorical_crossentropy", "squared_hinge"):
        return True
    return uses_hinge(training) or training.label_smoothing > 0 or mixing(training)


def make_loss(training: TrainingSpec, num_classes: int, from_logits: bool = False):
    """Build the Keras loss of the recipe.

    Args:
        training: The recipe (``loss``, ``label_smoothing``, augmentation, head).
        num_classes: Number of classes (checked: at least 2).
        from_logits: Whether the model outputs logits (a linear ``Output``).

    Returns:
        ``SparseCategoricalCrossentropy`` by default; ``CategoricalCrossentropy``
        with ``label_smoothing`` when labels are vectors; ``SquaredHinge`` for
        the SVM head.

    """
    if num_classes < 2:
        raise SpecError("model", f"a classifier needs at least 2 classes, got {num_classes}")
    if uses_hinge(training):
        return keras.losses.SquaredHinge()
    if uses_one_hot(training):
        return keras.losses.CategoricalCrossentropy(
            from_logits=from_logits, label_smoothing=float(training.label_smoothing))
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


def make_metrics(training: TrainingSpec, one_hot: bool) -> list:
    """Keras metrics for ``training.metrics``, matching the label format.

    ``accuracy`` is (Sparse)CategoricalAccuracy named ``accuracy``; ``top5``
    is (Sparse)TopKCategoricalAccuracy(k=5) named ``top5``. One-hot metrics
    compare arg-maxes, so they also work with soft and +-1 labels.
    """
    out = []
    for name in training.metrics:
        if name == "accuracy":
            cls = (keras.metrics.CategoricalAccuracy if one_hot
                   else keras.metrics.SparseCategoricalAccuracy)
            out.append(cls(name="accuracy"))
        elif name == "top5":
            cls = (keras.metrics.TopKCategoricalAccuracy if one_hot
                   else keras.metrics.SparseTopKCategoricalAccuracy)
            out.append(cls(k=5, name="top5"))
    return out
