"""Gradient methods against references computed by hand in numpy."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect.attribution import input_gradients, saliency  # noqa: E402
from cnnlab.inspect.guided import guided_backprop  # noqa: E402
from cnnlab.inspect.score import predicted_class  # noqa: E402

L = keras.layers


def gate(g, z):
    """The guided rule at one ReLU: gradient passes where input and gradient are positive."""
    return g * (z > 0) * (g > 0)


@pytest.fixture(scope="module")
def branchy():
    """Dense graph with Add and Concatenate branches and all three kinds of ReLU."""
    keras.utils.set_random_seed(4)
    x = keras.Input((5,), name="x")
    a = L.Dense(8, activation="relu", name="a")(x)
    b = L.Activation("relu", name="b_relu")(L.Dense(8, name="b")(x))
    r = L.ReLU(name="r")(L.Add(name="add")([a, b]))
    c = L.Dense(6, activation="relu", name="c")(x)
    cat = L.Concatenate(name="cat")([r, c])
    out = L.Dense(3, activation="softmax", name="out")(cat)
    return keras.Model(x, out)


def branchy_reference(model, x, k):
    w = {n: model.get_layer(n).get_weights() for n in ("a", "b", "c", "out")}
    za, zb, zc = (x @ w[n][0] + w[n][1] for n in ("a", "b", "c"))
    s = np.maximum(za, 0) + np.maximum(zb, 0)
    g = w["out"][0][:, k]
    g_s = gate(g[:8], s)
    return (w["a"][0] @ gate(g_s, za) + w["b"][0] @ gate(g_s, zb)
            + w["c"][0] @ gate(g[8:], zc))


def test_guided_backprop_matches_numpy_on_a_branchy_graph(branchy):
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(6):
        x = rng.normal(size=5).astype("float32")
        for k in range(3):
            ref = branchy_reference(branchy, x, k)
            got = guided_backprop(branchy, x, class_index=k)
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
            checked += bool(np.any(ref != 0))
    assert checked >= 6  # the references are not trivially zero


def test_guided_differs_from_vanilla_and_leaves_the_model_alone(branchy):
    x = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    before = branchy.predict(x, verbose=0)
    vanilla, _ = input_gradients(branchy, x, 0)
    guided = np.stack([guided_backprop(branchy, xi, 0) for xi in x])
    assert not np.allclose(vanilla, guided)
    np.testing.assert_array_equal(branchy.predict(x, verbose=0), before)
    np.testing.assert_allclose(input_gradients(branchy, x, 0)[0], vanilla)


def test_vanilla_gradient_is_the_logit_gradient(branchy):
    """Saliency differentiates the pre-softmax logit: linear in the head's weights."""
    x = np.random.default_rng(2).normal(size=5).astype("float32")
    grads, used = input_gradients(branchy, x, None)
    assert used[0] == predicted_class(branchy, x)
    eps = 1e-3
    probe = keras.Model(branchy.inputs[0], branchy.get_layer("cat").output)
    w, b = branchy.get_layer("out").get_weights()

    def logit(v):
        return float((probe(v[None]).numpy() @ w + b)[0, used[0]])

    numeric = [(logit(x + eps * e) - logit(x - eps * e)) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(grads[0], numeric, rtol=2e-2, atol=1e-3)


def conv_reference(model, x, k):
    kernel, bias = model.get_layer("conv").get_weights()
    w_out = model.get_layer("out").get_weights()[0]
    n = x.shape[0] - 2
    z = np.zeros((n, n, kernel.shape[-1]))
    for i in range(n):
        for j in range(n):
            z[i, j] = np.tensordot(x[i:i + 3, j:j + 3], kernel, axes=3) + bias
    g = gate(w_out[:, k].reshape(z.shape), z)
    gx = np.zeros_like(x, dtype=np.float64)
    for i in range(n):
        for j in range(n):
            gx[i:i + 3, j:j + 3] += np.tensordot(kernel, g[i, j], axes=([3], [0]))
    return gx


def test_guided_backprop_matches_numpy_on_a_convolution():
    keras.utils.set_random_seed(5)
    inp = keras.Input((6, 6, 2))
    h = L.Conv2D(3, 3, activation="relu", name="conv")(inp)
    out = L.Dense(2, activation="softmax", name="out")(L.Flatten(name="flat")(h))
    model = keras.Model(inp, out)
    x = np.random.default_rng(3).normal(size=(6, 6, 2)).astype("float32")
    for k in range(2):
        ref = conv_reference(model, x, k)
        assert np.any(ref != 0)
        np.testing.assert_allclose(guided_backprop(model, x, k), ref, rtol=1e-4, atol=1e-6)


def test_binary_sigmoid_scores_and_sequential_models():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((4, 4, 1)), L.Conv2D(2, 3, activation="relu"),
                              L.Flatten(), L.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(4).normal(size=(4, 4)).astype("float32")  # channel axis added
    g1, _ = input_gradients(model, x, 1)
    g0, _ = input_gradients(model, x, 0)
    np.testing.assert_allclose(g0, -g1, rtol=1e-6)
    assert saliency(model, x).shape == (4, 4)
    probability = model.predict(x[None, ..., None], verbose=0)[0, 0]
    assert predicted_class(model, x) == int(probability > 0.5)


def test_the_guided_copy_uses_the_model_weights_live():
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((4,)), L.Dense(6, activation="relu", name="h"),
                              L.Dense(2, activation="softmax", name="out")])
    x = np.random.default_rng(8).normal(size=4).astype("float32")

    def reference():
        (wh, bh), (wo, _) = (model.get_layer(n).get_weights() for n in ("h", "out"))
        return wh @ gate(wo[:, 0], x @ wh + bh)

    np.testing.assert_allclose(guided_backprop(model, x, 0), reference(), rtol=1e-5, atol=1e-7)
    hidden = model.get_layer("h")
    hidden.set_weights([-w for w in hidden.get_weights()])  # after the copy was made
    assert np.any(reference() != 0)
    np.testing.assert_allclose(guided_backprop(model, x, 0), reference(), rtol=1e-5, atol=1e-7)
    assert [layer.name for layer in model.layers] == ["h", "out"]
