"""The Keras behaviour the lab relies on where Keras has no public API for it.

Each test here asserts what one small function (or one documented Keras
route) does for us, so that a Keras release that changes it fails here, by
name, instead of silently moving a schedule, decaying a frozen layer or
renaming a base's blocks:

- ``cnnlab.recipe.counter.counter_variable``: Keras's private batch counter;
- ``LayerwiseOptimizer``: ``exclude_from_weight_decay`` and the variable
  lookup ``update_step`` uses (the TensorFlow variable Keras passes there);
- ``cnnlab.modelio.bases.swap_name_counters``: Keras's private name counters.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cnnlab.modelio.bases import fresh_layer_names, swap_name_counters  # noqa: E402
from cnnlab.recipe.counter import counter_variable  # noqa: E402
from cnnlab.recipe.layerwise import LayerwiseAdamW, LayerwiseSGD  # noqa: E402


def mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"),
                             keras.layers.Dense(2, name="b")])


def zero_grads(model):
    return [keras.ops.zeros(v.shape) for v in model.trainable_variables]


def test_the_schedule_is_evaluated_at_the_counter_variable_under_accumulation():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([4, 9], [1.0, 0.5, 0.25])
    opt = keras.optimizers.SGD(schedule, gradient_accumulation_steps=3)
    model = mlp()
    opt.build(model.trainable_variables)
    counter = counter_variable(opt)
    assert any(v is counter for v in opt.variables)  # saved and restored with the optimizer
    counter.assign(7)
    assert (float(opt.learning_rate), int(opt.iterations)) == (0.5, 2)
    counter.assign(10)
    assert (float(opt.learning_rate), int(opt.iterations)) == (0.25, 3)
    opt.apply(zero_grads(model), model.trainable_variables)  # a batch inside a group
    assert int(counter.numpy()) == 11


def test_a_batch_that_updates_nothing_still_moves_the_counter():
    model = mlp()
    start = [w.numpy().copy() for w in model.weights]
    opt = LayerwiseSGD(0.5, layer_multipliers={"a": 0.0, "b": 0.0})
    ones = [keras.ops.ones(v.shape) for v in model.trainable_variables]
    opt.apply(ones, model.trainable_variables)
    opt.apply(ones, model.trainable_variables)
    assert int(counter_variable(opt).numpy()) == int(opt.iterations) == 2
    for before, after in zip(start, model.weights, strict=True):
        np.testing.assert_array_equal(after.numpy(), before)


def test_keras_skips_the_weight_decay_of_excluded_variables():
    model = mlp()
    a_kernel, b_kernel = model.get_layer("a").kernel, model.get_layer("b").kernel
    start_a, start_b = a_kernel.numpy().copy(), b_kernel.numpy().copy()
    opt = keras.optimizers.AdamW(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[a_kernel])
    opt.apply(zero_grads(model), model.trainable_variables)
    np.testing.assert_array_equal(a_kernel.numpy(), start_a)  # zero gradient, no decay
    np.testing.assert_allclose(b_kernel.numpy(), start_b * (1 - 0.1 * 0.5), rtol=1e-6)


def test_scaled_layers_are_decayed_once_at_the_scaled_rate():
    model = mlp()
    start = {v.path: v.numpy().copy() for v in model.trainable_variables}
    opt = LayerwiseAdamW(0.1, weight_decay=0.5, layer_multipliers={"a": 0.5, "b": 0.0})
    opt.apply(zero_grads(model), model.trainable_variables)
    for v in model.trainable_variables:
        factor = 1 - 0.1 * 0.5 * 0.5 if "/a/" in f"/{v.path}" else 1.0
        np.testing.assert_allclose(v.numpy(), start[v.path] * factor, rtol=1e-6)


def test_update_step_finds_each_variable_keras_passes_it():
    model = mlp()
    opt = LayerwiseSGD(1.0, layer_multipliers={"a": 0.25})
    opt.build(model.trainable_variables)
    for v in model.trainable_variables:
        expected = 0.25 if "/a/" in f"/{v.path}" else 1.0
        # The TensorFlow backend calls update_step with the TensorFlow variable.
        assert opt.multiplier(v) == opt.multiplier(v.value) == expected


class Probe(keras.layers.Layer):
    """A layer class no other code names, so its auto-names count from zero here."""


def _suffix(name):
    return int(name.rsplit("_", 1)[1]) if "_" in name else 0


def test_fresh_layer_names_start_from_scratch_and_restore_the_session():
    outside = [Probe().name for _ in range(2)]
    with fresh_layer_names():
        first = [Probe().name for _ in range(2)]
    with fresh_layer_names():
        again = Probe().name
    assert first == ["probe", "probe_1"] and again == "probe"
    assert _suffix(Probe().name) == _suffix(outside[-1]) + 1  # the session's count goes on


def test_name_counters_are_where_we_swap_them():
    saved = swap_name_counters(None)  # raises ImportError when Keras moved its global state
    try:
        first = Probe().name
        counters = swap_name_counters(saved)
        assert first == "probe" and counters["probe"] == 1
    finally:
        swap_name_counters(saved)
