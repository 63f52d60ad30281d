"""The synthetic ``shapes`` dataset: determinism, balance, ranges, distinct classes, speed."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import itertools
import subprocess
import sys
import time

import numpy as np
import pytest

from cnnlab.data import DEFAULT_CLASSES, SHAPE_CLASSES, generate_shapes
from cnnlab.errors import DataError


def test_importing_the_package_does_not_load_tensorflow():
    code = "import sys, cnnlab.data; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_catalogue_has_at_least_eight_shapes_and_the_defaults():
    assert len(SHAPE_CLASSES) >= 8
    assert len(set(SHAPE_CLASSES)) == len(SHAPE_CLASSES)
    assert set(DEFAULT_CLASSES) <= set(SHAPE_CLASSES)
    assert DEFAULT_CLASSES == ("circle", "square", "triangle", "star", "cross", "ring")


def test_same_seed_same_images_other_seed_other_images():
    x1, y1 = generate_shapes(DEFAULT_CLASSES, 120, seed=7)
    x2, y2 = generate_shapes(DEFAULT_CLASSES, 120, seed=7)
    x3, y3 = generate_shapes(DEFAULT_CLASSES, 120, seed=8)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_types_shapes_and_balance():
    x, y = generate_shapes(DEFAULT_CLASSES, 601, image_size=24, channels=3)
    assert x.dtype == np.uint8 and x.shape == (601, 24, 24, 3)
    assert y.dtype == np.int32 and y.shape == (601,)
    counts = np.bincount(y, minlength=6)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 601
    assert len(set(y[:30].tolist())) > 1, "classes must come in random order"


def test_grayscale_and_value_ranges():
    x, _ = generate_shapes(["circle", "star"], 50, image_size=16, channels=1, noise=0.0)
    assert x.shape == (50, 16, 16, 1)
    for image in x:
        # Shape and background are clearly apart in brightness.
        assert int(image.max()) - int(image.min()) > 60
    noisy, _ = generate_shapes(["circle", "star"], 50, image_size=16, channels=1, noise=0.1)
    spread = noisy.astype(float) - x
    assert 0.07 * 255 < spread.std() < 0.12 * 255


def test_noise_has_the_asked_standard_deviation():
    clean, _ = generate_shapes(DEFAULT_CLASSES, 200, noise=0.0, seed=3)
    noisy, _ = generate_shapes(DEFAULT_CLASSES, 200, noise=0.05, seed=3)
    diff = (noisy.astype(float) - clean) / 255
    assert abs(diff.mean()) < 0.01
    assert 0.04 < diff.std() < 0.06


def _coverage_difference(a: str, b: str) -> float:
    """Fraction of shape pixels that change when class ``a`` is drawn as ``b`` (same geometry)."""
    # Swapping the class list keeps every draw (labels, position, size,
    # rotation, colours) and changes only which shape label 0 means.
    xa, ya = generate_shapes([a, b], 60, image_size=32, noise=0.0, seed=11)
    xb, yb = generate_shapes([b, a], 60, image_size=32, noise=0.0, seed=11)
    np.testing.assert_array_equal(ya, yb)
    changed = np.any(xa != xb, axis=-1).sum()
    background = xa[:, :1, :1, :]  # corners are background in every image
    shape_pixels = np.any(xa != background, axis=-1).sum()
    return changed / shape_pixels


def test_every_pair_of_shapes_looks_different():
    for a, b in itertools.combinations(SHAPE_CLASSES, 2):
        assert _coverage_difference(a, b) > 0.1, (a, b)


def test_a_small_cnn_tells_the_default_classes_apart_after_two_epochs():
    import keras

    x, y = generate_shapes(DEFAULT_CLASSES, 2000, image_size=24, seed=1)
    x = x.astype("float32") / 255
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(6, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1600], y[:1600], batch_size=32, epochs=2, verbose=0)
    _, accuracy = model.evaluate(x[1600:], y[1600:], verbose=0)
    assert accuracy > 0.5  # chance is 1/6


def test_generation_is_fast():
    best = min(_timed(lambda: generate_shapes(DEFAULT_CLASSES, 3000, 32, 3)) for _ in range(2))
    assert best < 1.0


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"classes": ["circle", "blob"]}, "blob"),
        ({"classes": ["circle"]}, "at least 2"),
        ({"classes": ["circle", "circle"]}, "at least 2"),
        ({"channels": 2}, "channels"),
        ({"image_size": 4}, "image_size"),
        ({"samples": 0}, "samples"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_bad_arguments_are_data_errors(kwargs, words):
    args = {"classes": DEFAULT_CLASSES, "samples": 10} | kwargs
    with pytest.raises(DataError, match=words):
        generate_shapes(**args)
