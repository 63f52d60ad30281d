"""Optimizers: settings, gradient accumulation, per-layer rate multipliers, saving."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from graphs import chain  # noqa: E402

from cnnlab.errors import SpecError  # noqa: E402
from cnnlab.recipe import make_optimizer  # noqa: E402
from cnnlab.recipe.layerwise import LayerwiseAdam, LayerwiseAdamW  # noqa: E402
from cnnlab.spec.load import experiment_from_dict  # noqa: E402


def recipe(**training):
    raw = chain((4,), ("Output", {"units": 2})).to_dict()
    raw["training"] = training
    return experiment_from_dict(raw).training


def mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="a"),
                             keras.layers.Dense(3, name="b")])


def weights(model):
    """Weights by ``layer/name`` (Sequential models add their own name in front)."""
    return {"/".join(w.path.split("/")[-2:]): w.numpy().copy() for w in model.weights}


@pytest.mark.parametrize("name, cls, check", [
    ("sgd", keras.optimizers.SGD, {"momentum": 0.5, "nesterov": True}),
    ("adam", keras.optimizers.Adam, {"beta_1": 0.8}),
    ("adamw", keras.optimizers.AdamW, {"weight_decay": 0.01}),
    ("rmsprop", keras.optimizers.RMSprop, {"momentum": 0.5}),
    ("adagrad", keras.optimizers.Adagrad, {"epsilon": 1e-7}),
])
def test_optimizer_kinds_and_settings(name, cls, check):
    t = recipe(optimizer={"name": name, "momentum": 0.5, "nesterov": True, "beta_1": 0.8,
                          "weight_decay": 0.01, "clipnorm": 1.0},
               gradient_accumulation_steps=3)
    opt = make_optimizer(t, 10)
    assert type(opt) is cls
    for key, value in check.items():
        assert getattr(opt, key) == pytest.approx(value)
    assert opt.clipnorm == 1.0 and opt.gradient_accumulation_steps == 3


def test_both_clips_are_refused_with_the_path():
    with pytest.raises(SpecError, match="training.optimizer.clipvalue"):
        make_optimizer(recipe(optimizer={"clipnorm": 1.0, "clipvalue": 0.5}), 10)


def test_gradient_accumulation_equals_one_step_on_a_larger_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, 32)
    sgd = {"name": "sgd", "learning_rate": 0.5, "momentum": 0.0}
    big, small = mlp(), mlp()
    for model, acc in ((big, 1), (small, 4)):
        t = recipe(optimizer=sgd, gradient_accumulation_steps=acc)
        model.compile(optimizer=make_optimizer(t, 1), loss="sparse_categorical_crossentropy")
    start = weights(small)
    small.fit(x[:24], y[:24], batch_size=8, epochs=1, shuffle=False, verbose=0)
    for path, value in weights(small).items():  # 3 of 4 batches: accumulated, not applied
        np.testing.assert_array_equal(value, start[path])
    small.fit(x[24:], y[24:], batch_size=8, epochs=1, shuffle=False, verbose=0)
    big.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    after_big, after_small = weights(big), weights(small)
    moved = max(np.abs(after_big[p] - start[p]).max() for p in start)
    assert moved > 1e-2
    for path in start:
        np.testing.assert_allclose(after_small[path], after_big[path], atol=1e-5)


def apply_steps(model, opt, grads_per_step):
    for grads in grads_per_step:
        opt.apply([keras.ops.convert_to_tensor(g) for g in grads], model.trainable_variables)
    return weights(model)


def test_multiplier_scales_the_adam_update_not_the_gradient():
    rng = np.random.default_rng(1)
    shapes = [v.shape for v in mlp().trainable_variables]
    steps = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(3)]
    start = weights(mlp())
    lw = apply_steps(mlp(), LayerwiseAdam(0.01, layer_multipliers={"a": 0.25}), steps)
    full = apply_steps(mlp(), keras.optimizers.Adam(0.01), steps)
    quarter = apply_steps(mlp(), keras.optimizers.Adam(0.0025), steps)
    scaled_grads = [[g * 0.25 for g in s] for s in steps]
    grad_scaled = apply_steps(mlp(), keras.optimizers.Adam(0.01), scaled_grads)
    for path in start:
        ref = quarter if path.startswith("a/") else full
        np.testing.assert_allclose(lw[path] - start[path], ref[path] - start[path], atol=1e-7)
    # Adam ignores the gradient's scale: scaling gradients would not have slowed layer a.
    np.testing.assert_allclose(grad_scaled["a/kernel"], full["a/kernel"], atol=1e-4)


def test_multiplier_zero_freezes_exactly_even_with_weight_decay():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)
    model = mlp()
    t = recipe(optimizer={"name": "adamw", "learning_rate": 0.05, "weight_decay": 0.1})
    opt = make_optimizer(t, 4, lr_multipliers={"a": 0.0, "b": 1.0})
    assert isinstance(opt, LayerwiseAdamW)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    start = weights(model)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    after = weights(model)
    for name in ("a/kernel", "a/bias"):
        np.testing.assert_array_equal(after[name], start[name])
    assert np.abs(after["b/kernel"] - start["b/kernel"]).max() > 1e-2


def test_weight_decay_is_scaled_with_the_rate():
    model = mlp()
    start = weights(model)
    zero = [np.zeros(v.shape, "float32") for v in model.trainable_variables]
    opt = LayerwiseAdamW(0.1, weight_decay=0.5, layer_multipliers={"a": 0.5})
    after = apply_steps(model, opt, [zero])
    np.testing.assert_allclose(after["a/kernel"], start["a/kernel"] * (1 - 0.1 * 0.5 * 0.5),
                               rtol=1e-6)
    np.testing.assert_allclose(after["b/kernel"], start["b/kernel"] * (1 - 0.1 * 0.5),
                               rtol=1e-6)


def test_layerwise_optimizer_saves_and_resumes_from_a_keras_file(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)
    t = recipe(optimizer={"learning_rate": 0.01},
               schedule={"name": "cosine", "warmup_epochs": 1}, epochs=4)
    model = mlp()
    model.compile(optimizer=make_optimizer(t, 4, {"a": 0.1}),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    model.save(tmp_path / "ckpt.keras")
    loaded = keras.models.load_model(tmp_path / "ckpt.keras")
    assert type(loaded.optimizer) is LayerwiseAdam
    assert loaded.optimizer.layer_multipliers == {"a": 0.1}
    assert int(loaded.optimizer.iterations) == 4
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for m in (model, loaded):
        m.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for path, value in weights(model).items():
        np.testing.assert_allclose(weights(loaded)[path], value, atol=1e-6)


def test_start_step_continues_the_schedule():
    t = recipe(epochs=4, schedule={"name": "cosine"})
    opt = make_optimizer(t, 5, start_step=10)
    assert float(opt.learning_rate) == pytest.approx(5e-4, rel=1e-5)  # half-way: half the rate


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_the_schedule_position_is_set_on_the_batch_counter_under_accumulation(name):
    from cnnlab.recipe.optimizers import batch_counter, set_batch_counter, update_count

    opt = make_optimizer(recipe(optimizer={"name": name}, gradient_accumulation_steps=4), 10,
                         start_step=8)
    model = mlp()
    opt.build(model.trainable_variables)
    with pytest.raises(AttributeError):  # what the trainer used to do at a phase start
        opt.iterations.assign(12)
    assert (batch_counter(opt), update_count(opt)) == (8, 2)
    set_batch_counter(opt, 13)
    assert (batch_counter(opt), update_count(opt)) == (13, 3)
    grads = [keras.ops.ones(v.shape) for v in model.trainable_variables]
    for _ in range(3):  # batches 13, 14, 15: the group ends at 15
        opt.apply(grads, model.trainable_variables)
    assert (batch_counter(opt), update_count(opt)) == (16, 4)
