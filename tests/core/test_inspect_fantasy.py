"""Activation maximisation and deep dream: the objective must really go up."""

import dataclasses
import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect import InspectError  # noqa: E402
from cnnlab.inspect.ascent import AscentProgress, AscentSettings  # noqa: E402
from cnnlab.inspect.dream import deep_dream  # noqa: E402
from cnnlab.inspect.fantasy import maximize_class, maximize_filter  # noqa: E402

L = keras.layers
ZERO_CENTRED = (-1.0, 1.0)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(2)
    inp = keras.Input((24, 24, 3))
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    h = L.MaxPooling2D(name="pool")(h)
    h = L.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, L.Dense(3, activation="softmax", name="out")(h))


def filter_mean(model, layer_id, index, image):
    probe = keras.Model(model.inputs[0], model.get_layer(layer_id).output)
    return float(probe(image[None]).numpy()[..., index].mean())


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_filter_activation_rises_many_times_over_its_start(model, index):
    result = maximize_filter(model, "conv2", index, AscentSettings(steps=60),
                             value_range=ZERO_CENTRED)
    print(f"filter {index}: {result.start_value:.4f} -> {result.final_value:.4f}")
    assert 0 < result.start_value and result.final_value >= 5 * result.start_value
    assert result.final_value == pytest.approx(filter_mean(model, "conv2", index, result.image),
                                               rel=1e-4)
    assert result.image.shape == (24, 24, 3)
    assert result.image.min() >= -1 and result.image.max() <= 1
    assert not result.stopped and len(result.values) == 60


def test_progress_events_and_the_stop_token(model):
    events = []
    full = maximize_filter(model, "conv1", 0, AscentSettings(steps=12, report_interval=0),
                           sink=events.append, value_range=ZERO_CENTRED)
    assert [e.step for e in events] == list(range(1, 13))
    assert all(isinstance(e, AscentProgress) and e.total == 12 for e in events)
    assert events[-1].value == pytest.approx(full.values[-1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].step = 3

    stop, seen = threading.Event(), []

    def sink(event):
        seen.append(event)
        if event.step == 5:
            stop.set()

    halted = maximize_filter(model, "conv1", 0, AscentSettings(steps=50, report_interval=0),
                             sink=sink, stop=stop)
    assert halted.stopped and len(halted.values) == 5 and seen[-1].step == 5


def test_class_score_rises(model):
    result = maximize_class(model, 2, AscentSettings(steps=40), value_range=ZERO_CENTRED)
    gain = result.final_value - result.start_value
    print(f"class logit: {result.start_value:.3f} -> {result.final_value:.3f}")
    assert gain > 0.1 and result.final_value > 5 * abs(result.start_value)


def test_deep_dream_amplifies_the_chosen_layers(model):
    image = np.random.default_rng(0).uniform(size=(24, 24, 3)).astype("float32")
    events = []
    result = deep_dream(model, image, ["conv1", "conv2"], octaves=3, steps=8, sink=events.append)
    print(f"dream objective: {result.start_value:.4f} -> {result.final_value:.4f}")
    assert result.final_value > 1.5 * result.start_value
    assert result.image.shape == image.shape
    assert image.min() <= result.image.min() and result.image.max() <= image.max()
    assert events[-1].step == events[-1].total == 24
    stop = threading.Event()
    stop.set()
    assert deep_dream(model, image, ["conv2"], stop=stop).stopped


def test_ascent_errors(model):
    with pytest.raises(InspectError, match="Filter 16 is out of range"):
        maximize_filter(model, "conv2", 16)
    with pytest.raises(InspectError, match="steps >= 1"):
        maximize_filter(model, "conv2", 0, AscentSettings(steps=0))
    with pytest.raises(InspectError, match="Unknown layer id"):
        deep_dream(model, np.zeros((24, 24, 3)), ["nope"])
    with pytest.raises(InspectError, match="out of range"):
        maximize_class(model, 3)
