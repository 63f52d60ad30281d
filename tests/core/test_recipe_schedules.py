"""Learning-rate schedules: the planned curve, what the optimizer really uses, callbacks."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from graphs import chain  # noqa: E402

from cnnlab.recipe import lr_curve, make_optimizer, make_schedule, recipe_callbacks  # noqa: E402
from cnnlab.recipe.schedules import LinearWarmUp  # noqa: E402
from cnnlab.spec.load import experiment_from_dict  # noqa: E402


def recipe(**training):
    raw = chain((4,), ("Output", {"units": 2})).to_dict()
    raw["training"] = training
    return experiment_from_dict(raw).training


def test_constant_is_a_float_and_a_flat_curve():
    t = recipe(epochs=3, optimizer={"learning_rate": 0.01})
    assert make_schedule(t, 10) == 0.01
    np.testing.assert_allclose(lr_curve(t, 10), np.full(30, 0.01))


def test_warm_restarts_restart_at_the_expected_steps():
    t = recipe(epochs=14, optimizer={"learning_rate": 0.1},
               schedule={"name": "cosine_restarts", "first_decay_epochs": 2, "t_mul": 2,
                         "m_mul": 0.5})
    curve = lr_curve(t, 5)
    jumps = [i for i in range(1, len(curve)) if curve[i] > curve[i - 1] + 1e-9]
    assert jumps == [10, 30]  # cycles of 2, 4, 8 epochs of 5 batches
    np.testing.assert_allclose(curve[[0, 10, 30]], [0.1, 0.05, 0.025], rtol=1e-6)
    assert curve[9] < 0.01 and curve[29] < 0.005


def test_warm_up_ramps_linearly_then_the_schedule_starts():
    t = recipe(epochs=10, optimizer={"learning_rate": 0.2},
               schedule={"name": "cosine", "warmup_epochs": 2, "alpha": 0.1})
    curve = lr_curve(t, 4)
    np.testing.assert_allclose(curve[:8], 0.2 * np.arange(8) / 8, rtol=1e-6, atol=1e-9)
    assert curve[8] == pytest.approx(0.2)
    assert np.all(np.diff(curve[8:]) <= 1e-9)
    assert curve[-1] == pytest.approx(0.02, rel=0.05)  # cosine over the 32 later batches


def test_step_boundaries_are_absolute_epochs():
    t = recipe(epochs=6, optimizer={"learning_rate": 1.0},
               schedule={"name": "step", "boundaries": [1, 3], "gamma": 0.1,
                         "warmup_epochs": 0.5})
    curve = lr_curve(t, 4)
    np.testing.assert_allclose(curve[2:4], [1.0, 1.0])
    np.testing.assert_allclose(curve[4:12], 0.1)
    np.testing.assert_allclose(curve[12:], 0.01, rtol=1e-6)


def test_exponential_decays_by_the_rate_per_epoch():
    t = recipe(epochs=3, optimizer={"learning_rate": 1.0},
               schedule={"name": "exponential", "decay_rate": 0.5})
    curve = lr_curve(t, 8)
    np.testing.assert_allclose(curve[[0, 8, 16]], [1.0, 0.5, 0.25], rtol=1e-6)


def test_warm_up_schedule_serializes():
    t = recipe(epochs=4, schedule={"name": "cosine_restarts", "warmup_epochs": 1})
    schedule = make_schedule(t, 5)
    assert isinstance(schedule, LinearWarmUp)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    steps = np.arange(20)
    np.testing.assert_allclose(np.asarray(again(steps)), np.asarray(schedule(steps)))


def test_optimizer_uses_the_planned_rate_per_batch_with_accumulation():
    t = recipe(epochs=3, gradient_accumulation_steps=2, optimizer={"name": "sgd"},
               schedule={"name": "cosine", "warmup_epochs": 1})
    curve = lr_curve(t, 4)
    opt = make_optimizer(t, 4)
    w = keras.Variable(np.zeros(2, "float32"))
    seen = []
    for _ in range(len(curve)):
        seen.append(float(opt.learning_rate))
        opt.apply([keras.ops.ones(2)], [w])
    np.testing.assert_allclose(seen, curve, rtol=1e-5, atol=1e-9)
    assert int(opt.iterations) == len(curve) // 2  # updates, while the schedule counts batches


def test_plateau_uses_a_float_rate_and_callbacks():
    t = recipe(epochs=5, optimizer={"learning_rate": 0.1},
               schedule={"name": "plateau", "factor": 0.5, "patience": 1, "warmup_epochs": 1},
               early_stopping={"enabled": True, "monitor": "loss", "patience": 3})
    assert make_schedule(t, 4) == 0.1
    curve = lr_curve(t, 4)
    np.testing.assert_allclose(curve[:4], [0, 0.025, 0.05, 0.075])
    np.testing.assert_allclose(curve[4:], 0.1)
    kinds = [type(c).__name__ for c in recipe_callbacks(t)]
    assert kinds == ["EarlyStopping", "ReduceLROnPlateau", "WarmUpCallback"]


def test_plateau_warms_up_then_reduces_when_the_loss_stalls():
    t = recipe(epochs=6, optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.0},
               schedule={"name": "plateau", "factor": 0.5, "patience": 1, "warmup_epochs": 1,
                         "min_lr": 0.01},
               early_stopping={"monitor": "loss"})
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, use_bias=False)])
    model.compile(optimizer=make_optimizer(t, 4), loss="mse")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: rates.append(float(model.optimizer.learning_rate)))
    # Zero inputs: zero gradients, so the loss cannot improve (a plateau).
    x, y = np.zeros((16, 4), "float32"), np.ones((16, 2), "float32")
    # Rates are recorded after the warm-up callback has set them (callbacks run in order).
    model.fit(x, y, batch_size=4, epochs=6, verbose=0,
              callbacks=[*recipe_callbacks(t), record])
    np.testing.assert_allclose(rates[:8], [0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1])
    np.testing.assert_allclose(rates[8:12], 0.05)
    np.testing.assert_allclose(rates[-4:], 0.01)  # halved each stalled epoch down to min_lr


def _plateau_rates(t, epochs):
    """The rate each batch of a 4-batch epoch trained with, with the recipe's callbacks."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, use_bias=False)])
    model.compile(optimizer=make_optimizer(t, 4), loss="mse")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: rates.append(float(model.optimizer.learning_rate)))
    x, y = np.zeros((16, 4), "float32"), np.ones((16, 2), "float32")
    model.fit(x, y, batch_size=4, epochs=epochs, verbose=0,
              callbacks=[*recipe_callbacks(t), record])
    return np.asarray(rates, dtype=np.float32)


def test_plateau_warm_up_is_the_planned_ramp_per_batch_with_accumulation():
    t = recipe(epochs=2, gradient_accumulation_steps=2,
               optimizer={"name": "sgd", "learning_rate": 0.3, "momentum": 0.0},
               schedule={"name": "plateau", "factor": 0.5, "patience": 5,
                         "warmup_epochs": 1.5},
               early_stopping={"monitor": "loss"})
    planned = lr_curve(t, 4).astype(np.float32)
    np.testing.assert_allclose(planned[:7], 0.3 * np.arange(7) / 6, rtol=1e-6)
    np.testing.assert_array_equal(_plateau_rates(t, 2), planned)


def test_a_warm_up_shorter_than_half_a_batch_is_no_warm_up():
    t = recipe(epochs=1, optimizer={"name": "sgd", "learning_rate": 0.1},
               schedule={"name": "plateau", "warmup_epochs": 0.1},
               early_stopping={"monitor": "loss"})
    np.testing.assert_array_equal(_plateau_rates(t, 1), np.float32(0.1))
    ramp = LinearWarmUp(0.1, 0, 0.1)(np.arange(3))
    np.testing.assert_array_equal(np.asarray(ramp), np.float32(0.1))
