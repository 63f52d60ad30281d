"""Acceptance matrix, recipe part: every optimizer and optimizer option, regularizer, block
and training option of the README, each trained once through ``cnnlab train``
(the schedules are in ``test_schedule_matrix.py``).

Each case is an edit of the experiment dict and a check of the run. Many
cases train at learning rate 0, so the saved weights are the weights every
batch saw and the logged losses can be recomputed from ``model.keras``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matrix_checks import (
    accuracy,
    close,
    cross_entropy,
    inbound,
    kernel_norms,
    predict,
    regularized_layers,
    top_k_accuracy,
    weight_penalty,
)
from matrix_lab import insert_after

OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop",
              "adagrad": "Adagrad"}


def training(**fields):
    """An edit that sets ``training`` fields."""
    return lambda d: d["training"].update(fields)


def section(part: str, /, **fields):
    """An edit that sets fields of ``training.<part>``."""
    return lambda d: d["training"][part].update(fields)


def lr(value: float):
    """An edit that sets the learning rate."""
    return section("optimizer", learning_rate=value)


def last(run, name: str) -> float:
    """The last epoch's value of a logged metric."""
    return run.metrics[name][-1]


# -- the untouched experiment -------------------------------------------------


def test_base_run_logs_what_its_saved_model_computes(lab):
    run = lab.cached("base")
    x, y = run.val_arrays()
    p = predict(run.model, x)
    assert run.result["epochs_done"] == 1
    assert close(run.result["metrics"]["val_loss"], cross_entropy(p, y), rel=1e-4)
    assert close(run.result["metrics"]["val_accuracy"], accuracy(p, y), abs_=1e-6)
    assert set(run.metrics) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_base_run_reports_the_test_split(lab):
    run = lab.cached("base")
    x, y = run.arrays("test")
    p = predict(run.model, x)
    assert len(y) == run.metadata["data"]["sizes"]["test"] > 0
    assert close(run.result["metrics"]["test_loss"], cross_entropy(p, y), rel=1e-4)
    assert close(run.result["metrics"]["test_accuracy"], accuracy(p, y), abs_=1e-6)


# -- optimizers ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_trains_and_is_the_one_saved(lab, name):
    import keras

    run = lab.train(lab.spec(section("optimizer", name=name, learning_rate=0.01)))
    assert run.ok, run.describe()
    saved = keras.models.load_model(run.result["model_path"])
    assert type(saved.optimizer).__name__ == OPTIMIZERS[name]
    assert int(saved.optimizer.iterations.numpy()) == run.steps_per_epoch()
    assert math.isclose(float(saved.optimizer.learning_rate.numpy()), 0.01, rel_tol=1e-6)
    init = lab.cached("lr0", lr(0.0)).weights()["conv1"]
    assert not np.array_equal(run.weights()["conv1"][0], init[0])


def sgd(**fields):
    """An edit: plain SGD (no momentum) with these optimizer fields."""
    return section("optimizer", name="sgd", momentum=0.0, **fields)


def test_clipnorm_bounds_every_update(lab):
    rate, clip = 1.0, 1e-3
    one_batch = training(batch_size=128)  # one update: each variable moves <= rate * clip
    run = lab.train(lab.spec(one_batch, sgd(learning_rate=rate, clipnorm=clip)))
    assert run.ok, run.describe()
    assert run.steps_per_epoch() == 1
    start = lab.cached("lr0", lr(0.0)).weights()
    moved = [float(np.linalg.norm(now - before)) for name, weights in run.weights().items()
             for now, before in zip(weights, start[name], strict=True)]
    assert max(moved) <= rate * clip * (1 + 1e-4)
    assert max(moved) >= rate * clip * (1 - 1e-3)  # unclipped, lr 1 moves far more


def test_weight_decay_shrinks_every_kernel(lab):
    rate, decay = 0.1, 0.5
    run = lab.train(lab.spec(sgd(learning_rate=rate, weight_decay=decay, clipvalue=1e-12)))
    assert run.ok, run.describe()
    factor = (1 - rate * decay) ** run.steps_per_epoch()
    start = lab.cached("lr0", lr(0.0)).weights()
    for name in ("conv1", "fc1", "output"):
        assert np.allclose(run.weights()[name][0], start[name][0] * factor, rtol=1e-4,
                           atol=1e-7), name


# -- regularization ------------------------------------------------------------


def reg(**fields):
    """An edit of the experiment-wide regularization defaults."""
    return section("regularization", **fields)


@pytest.mark.parametrize("field, value, attr", [
    ("kernel_l1", 0.01, "l1"),
    ("kernel_l2", 0.01, "l2"),
])
def test_kernel_penalty_is_added_to_the_loss(lab, field, value, attr):
    run = lab.train(lab.spec(lr(0.0), reg(**{field: value})))
    assert run.ok, run.describe()
    regs = regularized_layers(run.model, "kernel_regularizer")
    assert {"conv1", "conv2", "conv3", "fc1"} <= set(regs)
    assert all(math.isclose(r[attr], value, rel_tol=1e-6) for r in regs.values())
    x, y = run.val_arrays()
    data_loss = cross_entropy(predict(run.model, x), y)
    penalty = weight_penalty(run.model)
    assert penalty > 0.01
    assert close(run.result["metrics"]["val_loss"], data_loss + penalty, rel=1e-4)
    assert close(run.result["metrics"]["loss"] - lab.cached("lr0", lr(0.0)).result[
        "metrics"]["loss"], penalty, rel=1e-3)


def test_bias_l2_regularizes_every_bias(lab):
    run = lab.train(lab.spec(lr(0.05), reg(bias_l2=0.5)))
    assert run.ok, run.describe()
    regs = regularized_layers(run.model, "bias_regularizer")
    assert {"conv1", "conv2", "conv3", "fc1"} <= set(regs)
    assert all(math.isclose(r["l2"], 0.5, rel_tol=1e-6) for r in regs.values())
    assert not regularized_layers(run.model, "kernel_regularizer")
    x, y = run.val_arrays()
    penalty = weight_penalty(run.model)
    assert penalty > 0  # the biases moved away from zero and are penalised
    assert close(run.result["metrics"]["val_loss"],
                 cross_entropy(predict(run.model, x), y) + penalty, rel=1e-4)


def test_max_norm_bounds_every_kernel_after_training(lab):
    c = 0.2
    run = lab.train(lab.spec(lr(0.01), reg(max_norm=c)))
    assert run.ok, run.describe()
    constrained = [layer for layer in run.model.layers
                   if getattr(layer, "kernel_constraint", None) is not None]
    assert {"conv1", "conv2", "conv3", "fc1"} <= {layer.name for layer in constrained}
    for layer in constrained:
        norms = kernel_norms(layer.kernel.numpy())
        assert norms.max() <= c * (1 + 1e-5), (layer.name, norms.max())
        assert norms.max() >= 0.95 * c, (layer.name, norms.max())  # the bound was active


@pytest.mark.parametrize("fields, kind", [
    ({"activity_l1": 0.01}, "L1"),
    ({"sparsity_rho": 0.05, "sparsity_beta": 0.1}, "KLSparsity"),
], ids=["activity_l1", "kl_sparsity"])
def test_activity_penalty_is_added_to_the_loss(lab, fields, kind):
    run = lab.train(lab.spec(lr(0.0), reg(**fields)))
    assert run.ok, run.describe()
    regs = regularized_layers(run.model, "activity_regularizer")
    assert {"conv1", "fc1"} <= set(regs) and {r["class"] for r in regs.values()} == {kind}
    x, y = run.val_arrays()
    data_loss = cross_entropy(predict(run.model, x), y)
    assert run.result["metrics"]["val_loss"] > data_loss + 1e-3
    base = lab.cached("lr0", lr(0.0)).result["metrics"]
    assert run.result["metrics"]["loss"] > base["loss"] + 1e-3


@pytest.mark.parametrize("order", ["before_activation", "after_activation"])
def test_batchnorm_position_in_the_built_model(lab, order):
    run = lab.train(lab.spec(reg(batchnorm=order)))
    assert run.ok, run.describe()
    model = run.model
    assert inbound(model, "conv1_bn") == ["conv1"]
    if order == "before_activation":
        assert model.get_layer("conv1").get_config()["activation"] == "linear"
        assert inbound(model, "conv1_act") == ["conv1_bn"]
        assert model.get_layer("conv1_act").get_config()["activation"] == "relu"
        assert inbound(model, "pool1") == ["conv1_act"]
    else:
        assert model.get_layer("conv1").get_config()["activation"] == "relu"
        assert "conv1_act" not in [layer.name for layer in model.layers]
        assert inbound(model, "pool1") == ["conv1_bn"]


# -- blocks ----------------------------------------------------------------------

NOISE_BLOCKS = {
    "Dropout": ("fc1", {"rate": 0.5}),
    "SpatialDropout2D": ("conv1", {"rate": 0.5}),
    "GaussianNoise": ("conv1", {"stddev": 0.5}),
    "GaussianDropout": ("fc1", {"rate": 0.5}),
}


def check_training_only_noise(run) -> None:
    """At rate 0: training saw noise (its loss is not the clean loss), validation did not."""
    x, y = run.train_arrays()
    clean_train = cross_entropy(predict(run.model, x), y)
    xv, yv = run.val_arrays()
    assert close(run.result["metrics"]["val_loss"], cross_entropy(predict(run.model, xv), yv),
                 rel=1e-4)
    assert abs(run.result["metrics"]["loss"] - clean_train) > 1e-6, (
        run.result["metrics"]["loss"], clean_train)


@pytest.mark.parametrize("kind", list(NOISE_BLOCKS))
def test_noise_block_is_active_in_training_only(lab, kind):
    after, params = NOISE_BLOCKS[kind]
    run = lab.train(lab.spec(lr(0.0), lambda d: insert_after(d, after, "noise", kind, params)))
    assert run.ok, run.describe()
    assert type(run.model.get_layer("noise")).__name__ == kind
    assert inbound(run.model, "noise") == [after]
    check_training_only_noise(run)


def _outputs(run, *names):
    import keras

    m = run.model
    sub = keras.Model(m.inputs, [m.get_layer(n).output for n in names])
    return [np.asarray(a, dtype=np.float64) for a in sub.predict(run.val_arrays()[0][:8],
                                                                 verbose=0)]


def test_maxout_block_is_the_max_of_its_pieces(lab):
    def edit(d):
        insert_after(d, "gap", "maxout", "Maxout", {"units": 8, "pieces": 3})

    run = lab.train(lab.spec(edit))
    assert run.ok, run.describe()
    layer = run.model.get_layer("maxout")
    assert type(layer).__name__ == "Maxout" and tuple(layer.kernel.shape) == (8, 24)
    x, out = _outputs(run, "gap", "maxout")
    z = x @ layer.kernel.numpy() + layer.bias.numpy()
    assert np.allclose(out, z.reshape(-1, 8, 3).max(axis=-1), atol=1e-5)


def test_local_response_normalization_block_follows_the_formula(lab):
    params = {"depth_radius": 2, "bias": 1.0, "alpha": 0.5, "beta": 0.75}

    run = lab.train(lab.spec(lambda d: insert_after(d, "conv1", "lrn",
                                                    "LocalResponseNormalization", params)))
    assert run.ok, run.describe()
    a, out = _outputs(run, "conv1", "lrn")
    sq = np.pad(a * a, [(0, 0)] * 3 + [(2, 2)])
    total = sum(sq[..., i:i + a.shape[-1]] for i in range(5))
    assert np.allclose(out, a / (1.0 + 0.5 * total) ** 0.75, atol=1e-5)


# -- training options --------------------------------------------------------------


def test_gradient_accumulation_updates_once_per_k_batches(lab):
    import keras

    run = lab.train(lab.spec(training(gradient_accumulation_steps=2)))
    assert run.ok, run.describe()
    saved = keras.models.load_model(run.result["model_path"])
    assert int(saved.optimizer.iterations.numpy()) == run.steps_per_epoch() // 2
    init = lab.cached("lr0", lr(0.0)).weights()["conv1"]
    assert not np.array_equal(run.weights()["conv1"][0], init[0])


def test_early_stopping_stops_on_a_plateau(lab):
    run = lab.train(lab.spec(lr(0.0), training(epochs=6),
                             section("early_stopping", enabled=True, patience=1)))
    assert run.ok, run.describe()
    assert run.result["epochs_done"] == 2 < 6
    assert len(run.metrics["loss"]) == 2


def test_top5_is_logged_and_right(lab):
    run = lab.train(lab.spec(training(metrics=["accuracy", "top5"])))
    assert run.ok, run.describe()
    x, y = run.val_arrays()
    p = predict(run.model, x)
    assert close(last(run, "val_top5"), top_k_accuracy(p, y, 5), abs_=1e-6)
    assert "top5" in run.metrics
    assert top_k_accuracy(p, y, 5) != accuracy(p, y)  # the check can tell them apart


def test_label_smoothing_is_in_the_loss(lab):
    run = lab.train(lab.spec(lr(0.01), training(epochs=2, label_smoothing=0.4)))
    assert run.ok, run.describe()
    x, y = run.val_arrays()
    p = predict(run.model, x)
    smoothed, plain = cross_entropy(p, y, 0.4), cross_entropy(p, y)
    assert abs(smoothed - plain) > 1e-5  # the model is sure enough to tell them apart
    assert abs(run.result["metrics"]["val_loss"] - smoothed) < 0.1 * abs(smoothed - plain)
