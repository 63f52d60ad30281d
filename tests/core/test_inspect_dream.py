"""Deep dream's live previews, its settings and its stop token, on a tiny real model."""

import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect import InspectError  # noqa: E402
from cnnlab.inspect.dream import deep_dream  # noqa: E402

L = keras.layers


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 3))
    h = L.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inp)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, L.Dense(3, activation="softmax", name="out")(h))


@pytest.fixture
def image():
    return np.random.default_rng(0).uniform(0.2, 0.8, (16, 16, 3)).astype("float32")


def test_previews_follow_every_step_and_octave(model, image):
    frames = []
    result = deep_dream(model, image, ["conv1"], octaves=2, steps=3, step_size=0.05,
                        input_range=(0.0, 1.0), preview=frames.append, preview_interval=0)
    assert len(result.values) == 6 and not result.stopped
    assert [f.step for f in frames] == [1, 2, 3, 4, 5, 6]
    assert [f.octave for f in frames] == [0, 0, 0, 1, 1, 1]
    assert all(f.total == 6 for f in frames)
    np.testing.assert_allclose(frames[-1].image, result.image, atol=1e-6)
    assert not np.allclose(result.image, image)
    assert result.final_value > result.start_value


def test_more_octaves_and_steps_change_more(model, image):
    short = deep_dream(model, image, ["conv1"], octaves=1, steps=2, input_range=(0.0, 1.0))
    long = deep_dream(model, image, ["conv1"], octaves=3, steps=6, input_range=(0.0, 1.0))
    assert len(short.values) == 2 and len(long.values) == 18
    assert np.abs(long.image - image).mean() > np.abs(short.image - image).mean()


def test_stop_from_a_preview_ends_the_dream(model, image):
    stop = threading.Event()
    frames = []

    def preview(frame):
        frames.append(frame)
        if len(frames) == 2:
            stop.set()

    result = deep_dream(model, image, ["conv1"], octaves=3, steps=50, stop=stop,
                        preview=preview, preview_interval=0)
    assert result.stopped and len(result.values) == 2 and len(frames) == 2


@pytest.mark.parametrize("kwargs, words", [
    ({"octaves": 0}, "octaves must be in 1..8"),
    ({"octaves": 9}, "octaves must be in 1..8"),
    ({"steps": 0}, "steps must be in 1..5000"),
    ({"step_size": 0.0}, "step size must be in 0.0001..1"),
    ({"octave_scale": 1.0}, "octave scale must be in (1, 4]"),
])
def test_bad_settings_are_one_line_errors(model, image, kwargs, words):
    with pytest.raises(InspectError, match=None) as info:
        deep_dream(model, image, ["conv1"], **kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)
