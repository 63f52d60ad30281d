"""Augmentation of training batches in tf.data, label formats, and previews.

:func:`augment_dataset` maps a batched ``(x, y)`` training dataset through
the augmentation layers (placement ``pipeline``), turns labels into vectors
when the loss needs them, and applies Keras's ``MixUp`` / ``CutMix``, which
mix images and labels within a batch (soft labels that sum to one). With both
on, each batch gets one of them, chosen by a seeded coin. The map runs
sequentially so that a seed always gives the same augmented data (the
layers' random state advances batch by batch); prefetch after it.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlab.errors import SpecError
from cnnlab.recipe.augment_layers import make_augmentation_layers
from cnnlab.recipe.losses import uses_hinge, uses_one_hot
from cnnlab.spec.sections import TrainingSpec


def make_mixers(training: TrainingSpec, seed: int = 0) -> list:
    """Keras ``MixUp`` and/or ``CutMix`` layers, as the recipe asks (alpha > 0)."""
    a = training.augmentation
    out = []
    if a.mixup.enabled and a.mixup.alpha > 0:
        out.append(keras.layers.MixUp(alpha=float(a.mixup.alpha), seed=int(seed) + 7001))
    if a.cutmix.enabled and a.cutmix.alpha > 0:
        if a.cutmix.alpha > 1:
            raise SpecError("training.augmentation.cutmix.alpha",
                            "Keras's CutMix takes alpha between 0 and 1")
        alpha = float(a.cutmix.alpha)
        out.append(keras.layers.CutMix(factor=(alpha, alpha), seed=int(seed) + 7002))
    return out


def _labels(y, num_classes: int, hinge: bool):
    """Class indices -> one-hot float vectors (+-1 for the hinge); vectors pass through."""
    if y.dtype.is_integer:
        y = tf.one_hot(tf.reshape(y, [-1]), num_classes, dtype=tf.float32)
        return 2.0 * y - 1.0 if hinge else y
    return tf.cast(y, tf.float32)


def _mix(mixers: list, x, y, coin):
    """Apply one mixer (chosen by ``coin`` when there are two) to a batch."""
    def run(layer):
        out = layer({"images": x, "labels": y}, training=True)
        return tf.cast(out["images"], tf.float32), tf.cast(out["labels"], tf.float32)

    if len(mixers) == 1:
        return run(mixers[0])
    return tf.cond(tf.equal(coin % 2, 0), lambda: run(mixers[0]), lambda: run(mixers[1]))


def augment_dataset(ds: tf.data.Dataset, training: TrainingSpec, num_classes: int,
                    seed: int = 0, value_range: Sequence[float] = (0, 1)) -> tf.data.Dataset:
    """Apply augmentation, the label format and mixing to a batched training dataset.

    Args:
        ds: Batched ``(images, labels)``; images float in ``value_range``
            (NHWC), labels integer class indices (shape (B,) or (B, 1)).
        training: The recipe.
        num_classes: Number of classes (for one-hot labels).
        seed: Seed of the augmentation.
        value_range: Range of the pixel values.

    Returns:
        The mapped dataset: augmented images (placement ``pipeline`` only),
        labels as the loss wants them (see :func:`uses_one_hot`), MixUp /
        CutMix applied on the one-hot labels (then mapped to +-1 for the hinge).

    """
    shape = ds.element_spec[0].shape
    if shape.rank != 4:
        raise ValueError(f"augment_dataset needs batched NHWC images, got shape {shape}")
    layers = []
    if training.augmentation.placement == "pipeline":
        layers = make_augmentation_layers(training, value_range, seed,
                                          image_shape=tuple(shape[1:].as_list()))
    one_hot, hinge = uses_one_hot(training), uses_hinge(training)
    mixers = make_mixers(training, seed) if one_hot else []
    if not layers and not one_hot:
        return ds

    def step(x, y, coin):
        x = tf.cast(x, tf.float32)
        for layer in layers:
            x = tf.cast(layer(x, training=True), tf.float32)
        if one_hot:
            y = _labels(y, num_classes, False)
        if mixers:
            x, y = _mix(mixers, x, y, coin)
        if hinge:
            y = 2.0 * y - 1.0
        return x, y

    coins = tf.data.Dataset.random(seed=int(seed))
    return tf.data.Dataset.zip((ds, coins)).map(lambda xy, c: step(xy[0], xy[1], c))


def make_eval_labels(ds: tf.data.Dataset, training: TrainingSpec,
                     num_classes: int) -> tf.data.Dataset:
    """Validation/test ``(x, y)`` with labels in the training format (no augmentation)."""
    if not uses_one_hot(training):
        return ds
    hinge = uses_hinge(training)
    return ds.map(lambda x, y: (x, _labels(y, num_classes, hinge)))


def preview_augmentations(training: TrainingSpec, images: np.ndarray, n: int,
                          seed: int = 0) -> np.ndarray:
    """N augmented versions of each given image, for the UI's grid.

    The augmentation layers run whatever the placement; with MixUp/CutMix on,
    images are mixed with the other given images (alternating between the two
    when both are on).

    Args:
        training: The recipe.
        images: (N, H, W, C), uint8 in [0, 255] or float in [0, 1].
        n: Versions per image.
        seed: Seed; the same seed gives the same grid.

    Returns:
        float32 array (len(images), n, H, W, C) clipped to [0, 1].

    """
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    layers = make_augmentation_layers(training, (0, 1), seed, image_shape=x.shape[1:])
    mixers = make_mixers(training, seed)
    labels = tf.eye(len(x), dtype=tf.float32)
    out = []
    for k in range(int(n)):
        b = tf.convert_to_tensor(x)
        for layer in layers:
            b = tf.cast(layer(b, training=True), tf.float32)
        if mixers:
            b, _ = _mix(mixers, b, labels, tf.constant(k, tf.int64))
        out.append(np.clip(b.numpy(), 0.0, 1.0))
    if not out:
        return np.zeros((len(x), 0, *x.shape[1:]), np.float32)
    return np.stack(out, axis=1)
