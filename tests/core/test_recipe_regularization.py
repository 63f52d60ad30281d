"""Regularization has its effect on trained weights and activations, not just its setting."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from graphs import chain  # noqa: E402

from cnnlab.build import build_model  # noqa: E402
from cnnlab.recipe import make_loss, make_optimizer  # noqa: E402
from cnnlab.spec import experiment_from_dict  # noqa: E402


def experiment(input_shape, *blocks, **training):
    """An experiment of a chain of blocks with the given training sections."""
    raw = chain(input_shape, *blocks).to_dict()
    raw["training"] = training
    return experiment_from_dict(raw)


def train(exp, x, y, epochs=5, batch=32):
    keras.utils.set_random_seed(0)
    model = build_model(exp)
    t = exp.training
    model.compile(optimizer=make_optimizer(t, len(x) // batch), loss=make_loss(t, 3))
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=False)
    return model


def data(shape, n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype("float32")
    y = rng.integers(0, 3, n).astype("int32")
    return x, y


CONV = [("Conv2D", {"filters": 8, "kernel_size": 3, "activation": "relu"}),
        ("Flatten", {}), ("Output", {"units": 3})]
SGD = {"name": "sgd", "learning_rate": 0.05, "momentum": 0.0}


def kernel_norm2(model):
    return sum(float(np.sum(np.square(w.numpy()))) for w in model.weights
               if w.path.endswith("kernel"))


def test_l2_ends_with_smaller_weights_than_no_penalty():
    x, y = data((8, 8, 1))
    plain = train(experiment((8, 8, 1), *CONV, optimizer=SGD), x, y, epochs=10, batch=16)
    l2 = train(experiment((8, 8, 1), *CONV, optimizer=SGD,
                          regularization={"kernel_l2": 0.05}), x, y, epochs=10, batch=16)
    assert l2.losses  # the penalty is part of the loss
    n_plain, n_l2 = kernel_norm2(plain), kernel_norm2(l2)
    print(f"sum of squared kernels: no penalty {n_plain:.2f}, L2 0.05 {n_l2:.2f}")
    assert n_l2 < 0.8 * n_plain


def test_max_norm_bounds_every_kernel_column_after_training():
    c = 0.3
    blocks = [("Conv2D", {"filters": 6, "kernel_size": 3, "activation": "relu"}),
              ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}),
              ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}),
              ("Flatten", {}), ("Dense", {"units": 16}), ("Output", {"units": 3})]
    x, y = data((10, 10, 2))
    opt = {**SGD, "learning_rate": 0.2}
    model = train(experiment((10, 10, 2), *blocks, optimizer=opt,
                             regularization={"max_norm": c}), x, y, epochs=3)
    kernel = {name: model.get_layer(name).kernel.numpy() for name in ("b0", "b1", "b2", "b4")}
    columns = {  # one column = the weights into one output unit
        "conv": kernel["b0"].reshape(-1, 6),
        "depthwise": kernel["b1"].reshape(9, -1),  # (3, 3, 6, 2): a filter per channel
        "transpose": kernel["b2"].transpose(0, 1, 3, 2).reshape(-1, 4),  # (3, 3, 4, 12)
        "dense": kernel["b4"],
        "output": model.get_layer("b5").kernel.numpy(),
    }
    for name, cols in columns.items():
        norms = np.linalg.norm(cols, axis=0)
        assert norms.max() <= c + 1e-5, name
        assert norms.max() >= c - 1e-3, name  # the constraint was binding, not idle


def sparse_exp(**reg):
    blocks = [("Dense", {"units": 32, "activation": "sigmoid"}), ("Output", {"units": 3})]
    return experiment((20,), *blocks, optimizer={"name": "adam", "learning_rate": 0.05},
                      regularization=reg)


def mean_activation(model, x):
    hidden = keras.Model(model.inputs, model.get_layer("b0").output)
    return float(np.mean(hidden.predict(x, verbose=0)))


def test_kl_sparsity_pulls_mean_activation_toward_rho():
    x, y = data((20,), n=256)
    rho = 0.05
    plain = train(sparse_exp(), x, y, epochs=10)
    sparse = train(sparse_exp(sparsity_rho=rho, sparsity_beta=0.1), x, y, epochs=10)
    q_plain, q_sparse = mean_activation(plain, x), mean_activation(sparse, x)
    print(f"mean activation: no penalty {q_plain:.3f}, KL(rho=0.05) {q_sparse:.3f}")
    assert q_plain > 0.3
    assert abs(q_sparse - rho) < min(0.1, abs(q_plain - rho) / 3)


def test_kl_sparsity_loss_is_beta_times_kl_whatever_the_batch_size():
    rho, q, beta, units = 0.1, 0.5, 0.2, 4
    layer = keras.layers.Dense(units, activation="sigmoid", kernel_initializer="zeros",
                               activity_regularizer=_kl(rho, beta))
    expected = beta * units * (rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))
    for batch in (4, 32):
        layer(np.ones((batch, 3), "float32"))
        assert np.isclose(float(layer.losses[-1]), expected, rtol=1e-4)


def _kl(rho, beta):
    from cnnlab.layers import KLSparsity

    return KLSparsity(rho, beta)


def test_dropout_and_gaussian_noise_act_in_training_only():
    exp = experiment((64,), ("Dropout", {"rate": 0.5}), ("GaussianNoise", {"stddev": 0.5}),
                     ("Output", {"units": 3}))
    model = build_model(exp)
    x = np.ones((8, 64), "float32")
    drop, noise = model.get_layer("b0"), model.get_layer("b1")
    d_train = np.asarray(drop(x, training=True))
    assert 0.3 < np.mean(d_train == 0) < 0.7 and np.allclose(d_train[d_train != 0], 2.0)
    np.testing.assert_array_equal(np.asarray(drop(x, training=False)), x)
    n_train = np.asarray(noise(x, training=True))
    assert 0.4 < np.std(n_train - x) < 0.6
    np.testing.assert_array_equal(np.asarray(noise(x, training=False)), x)
    first, second = model(x, training=False), model(x, training=False)
    np.testing.assert_array_equal(np.asarray(first), np.asarray(second))
