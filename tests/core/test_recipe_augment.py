"""Augmentation: every catalogue layer, MixUp/CutMix labels, placement, previews, labels."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from graphs import chain  # noqa: E402

from cnnlab.errors import SpecError  # noqa: E402
from cnnlab.recipe import (  # noqa: E402
    augment_dataset,
    augmentation_model,
    make_augmentation_layers,
    make_eval_labels,
    make_loss,
    make_metrics,
    preview_augmentations,
    uses_one_hot,
    xla_compatible,
)
from cnnlab.recipe.augment_catalog import AUGMENTATIONS, NO_XLA  # noqa: E402
from cnnlab.spec.load import experiment_from_dict  # noqa: E402


def recipe(**training):
    raw = chain((4,), ("Output", {"units": 2})).to_dict()
    raw["training"] = training
    return experiment_from_dict(raw).training


def every_layer():
    return [{"type": kind, "params": {}} for kind in AUGMENTATIONS]


def test_every_catalogue_layer_builds_and_runs_in_training_only():
    t = recipe(augmentation={"layers": every_layer()})
    x = np.random.default_rng(0).uniform(size=(4, 16, 16, 3)).astype("float32")
    layers = make_augmentation_layers(t, (0, 1), seed=1, image_shape=x.shape[1:])
    assert len(layers) == len(AUGMENTATIONS)
    for entry, layer in zip(t.augmentation.layers, layers, strict=True):
        out = np.asarray(layer(x, training=True))
        assert out.shape == x.shape, entry["type"]
        np.testing.assert_allclose(np.asarray(layer(x, training=False)), x, atol=1e-6)
    for entry, layer in zip(t.augmentation.layers, layers, strict=True):
        if entry["type"] != "RandomCrop":
            assert layer.supports_jit == (entry["type"] not in NO_XLA), entry["type"]


def test_random_crop_pads_and_crops_back_as_an_integer_shift():
    t = recipe(augmentation={"layers": [{"type": "RandomCrop", "params": {"padding": 3}}]})
    x = np.random.default_rng(0).uniform(0.1, 1, size=(16, 12, 12, 1)).astype("float32")
    (layer,) = make_augmentation_layers(t, seed=0, image_shape=(12, 12, 1))
    out = np.asarray(layer(x, training=True))
    shifted = 0
    for src, dst in zip(x[..., 0], out[..., 0], strict=True):
        match = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
                 if np.array_equal(dst, _shift(src, dy, dx))]
        assert match, "each output is its image shifted by at most the padding, zero-filled"
        shifted += match[0] != (0, 0)
    assert shifted >= 8  # per-image offsets, not one for the batch


def _shift(img, dy, dx):
    padded = np.pad(img, 3)
    return padded[3 - dy:3 - dy + img.shape[0], 3 - dx:3 - dx + img.shape[1]]


def test_colour_layers_refuse_grayscale_with_the_path():
    t = recipe(augmentation={"layers": [{"type": "RandomFlip", "params": {}},
                                        {"type": "RandomHue", "params": {}}]})
    with pytest.raises(SpecError, match=r"augmentation.layers\[1\].type"):
        make_augmentation_layers(t, image_shape=(8, 8, 1))


def batches(n=32, batch=8, classes=4, size=8):
    """Images of constant brightness value = label / 10, so mixing is visible."""
    y = np.arange(n) % classes
    x = np.broadcast_to((y / 10.0)[:, None, None, None], (n, size, size, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y.astype("int32"))).batch(batch)


@pytest.mark.parametrize("which", ["mixup", "cutmix"])
def test_mixing_gives_soft_labels_that_sum_to_one_and_match_the_pixels(which):
    t = recipe(augmentation={which: {"enabled": True, "alpha": 0.4}})
    assert uses_one_hot(t)
    values = np.arange(4) / 10.0
    soft = 0
    for x, y in augment_dataset(batches(size=32), t, 4, seed=3):
        x, y = x.numpy(), y.numpy()
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
        assert y.min() >= -1e-6
        soft += int(np.sum((y > 1e-3) & (y < 1 - 1e-3)))
        # MixUp blends pixels by the label weights; CutMix pastes a patch whose area
        # is the label weight (Keras computes it before rounding the patch to pixels,
        # which can lose a row and a column: 6% of a 32x32 image, here 0.3 * 6%).
        tol = 1e-5 if which == "mixup" else 0.025
        np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), y @ values, atol=tol)
    assert soft > 0


def test_both_mixers_alternate_per_batch_and_seed_reproduces():
    t = recipe(augmentation={"mixup": {"enabled": True}, "cutmix": {"enabled": True},
                             "layers": [{"type": "RandomFlip", "params": {}}]})
    first = [y.numpy() for _, y in augment_dataset(batches(64), t, 4, seed=5)]
    again = [y.numpy() for _, y in augment_dataset(batches(64), t, 4, seed=5)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    for y in first:
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)


def test_labels_stay_sparse_without_smoothing_or_mixing():
    t = recipe()
    assert not uses_one_hot(t)
    assert augment_dataset(batches(), t, 4) is not None
    _, y = next(iter(augment_dataset(batches(), t, 4)))
    assert y.dtype == tf.int32
    loss = make_loss(t, 4)
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    names = [type(m).__name__ for m in make_metrics(recipe(metrics=["accuracy", "top5"]), False)]
    assert names == ["SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy"]


def test_label_smoothing_uses_one_hot_labels_and_categorical_loss():
    t = recipe(label_smoothing=0.1, metrics=["accuracy", "top5"])
    loss = make_loss(t, 4)
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    assert loss.label_smoothing == pytest.approx(0.1)
    _, y = next(iter(make_eval_labels(batches(), t, 4)))
    np.testing.assert_array_equal(y.numpy()[:4], np.eye(4))
    metrics = make_metrics(t, True)
    assert [m.name for m in metrics] == ["accuracy", "top5"]
    assert type(metrics[1]).__name__ == "TopKCategoricalAccuracy"


def test_svm_head_uses_squared_hinge_and_plus_minus_one_labels():
    t = recipe(transfer={"head": "svm"}, augmentation={"mixup": {"enabled": True}})
    assert isinstance(make_loss(t, 4), keras.losses.SquaredHinge)
    _, y = next(iter(make_eval_labels(batches(), t, 4)))
    np.testing.assert_array_equal(y.numpy()[:4], 2 * np.eye(4) - 1)
    _, y = next(iter(augment_dataset(batches(), t, 4, seed=0)))
    np.testing.assert_allclose(y.numpy().sum(axis=1), 2 - 4, atol=1e-5)  # mixed +-1 rows


def test_sparse_loss_with_mixing_is_refused():
    t = recipe(loss="sparse_categorical_crossentropy", augmentation={"cutmix": {"enabled": True}})
    with pytest.raises(SpecError, match="training.loss"):
        make_loss(t, 4)


def test_model_placement_augments_in_training_only_and_reports_xla():
    layers = [{"type": "RandomFlip", "params": {"mode": "horizontal"}},
              {"type": "GaussianNoise", "params": {"stddev": 0.1}}]
    t = recipe(augmentation={"placement": "model", "layers": layers})
    model = augmentation_model(t, (8, 8, 3), seed=0)
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 3)).astype("float32")
    assert not np.allclose(np.asarray(model(x, training=True)), x)
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)
    assert xla_compatible(t)
    rotate = recipe(augmentation={"placement": "model",
                                  "layers": [*layers, {"type": "RandomRotation", "params": {}}]})
    assert not xla_compatible(rotate)
    assert xla_compatible(recipe(augmentation={"layers": rotate.augmentation.layers}))
    assert augmentation_model(recipe(augmentation={"layers": layers}), (8, 8, 3)) is None


def test_model_placement_keeps_images_out_of_the_pipeline():
    t = recipe(augmentation={"placement": "model", "layers": [{"type": "RandomInvert",
                                                               "params": {"factor": 1.0}}]})
    x, _ = next(iter(augment_dataset(batches(), t, 4)))
    np.testing.assert_array_equal(x.numpy(), next(iter(batches()))[0].numpy())


def test_preview_shows_n_versions_in_range_and_reproducibly():
    t = recipe(augmentation={"layers": [{"type": "RandomRotation", "params": {"factor": 0.2}},
                                        {"type": "GaussianNoise", "params": {}}],
                             "mixup": {"enabled": True}})
    images = (np.random.default_rng(0).uniform(size=(3, 12, 12, 3)) * 255).astype("uint8")
    grid = preview_augmentations(t, images, 4, seed=1)
    assert grid.shape == (3, 4, 12, 12, 3) and grid.dtype == np.float32
    assert grid.min() >= 0 and grid.max() <= 1
    assert not np.allclose(grid[:, 0], grid[:, 1])
    np.testing.assert_array_equal(grid, preview_augmentations(t, images, 4, seed=1))
