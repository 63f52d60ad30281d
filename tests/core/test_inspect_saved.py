"""Inspection of models loaded from .keras/.h5 files and of nested (unflattened) bases."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect.activations import feature_maps  # noqa: E402
from cnnlab.inspect.ascent import AscentSettings  # noqa: E402
from cnnlab.inspect.attribution import saliency, smoothgrad  # noqa: E402
from cnnlab.inspect.cam import gradcam  # noqa: E402
from cnnlab.inspect.evaluation import evaluate  # noqa: E402
from cnnlab.inspect.fantasy import maximize_filter  # noqa: E402
from cnnlab.inspect.filters import filter_grid  # noqa: E402
from cnnlab.inspect.guided import guided_backprop  # noqa: E402
from cnnlab.inspect.sanity import sanity_check  # noqa: E402

L = keras.layers


def small_cnn():
    keras.utils.set_random_seed(7)
    inp = keras.Input((12, 12, 3), name="input")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
    s = L.Conv2D(4, 1, name="skip")(h)
    h = L.Conv2D(4, 3, padding="same", name="conv2")(h)
    h = L.ReLU(name="relu2")(L.Add(name="add")([h, s]))
    h = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, L.Dense(3, activation="softmax", name="out")(h))


def run_all(model, image):
    return {
        "saliency": saliency(model, image, 1),
        "smoothgrad": smoothgrad(model, image, 1, samples=4),
        "guided": guided_backprop(model, image, 1),
        "gradcam": gradcam(model, image, "relu2", 1),
        "maps": feature_maps(model, image)["add"],
        "filters": filter_grid(model, "conv1").image,
        "fantasy": maximize_filter(model, "conv2", 1, AscentSettings(steps=5)).image,
        "confusion": evaluate(model, image[None], [1]).confusion,
    }


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_methods_work_on_a_model_saved_and_loaded_back(tmp_path, suffix):
    model = small_cnn()
    image = np.random.default_rng(0).uniform(size=(12, 12, 3)).astype("float32")
    expected = run_all(model, image)
    path = tmp_path / f"model{suffix}"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    got = run_all(loaded, image)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-4, atol=1e-6, err_msg=key)
    assert np.isfinite(sanity_check(loaded, image, "guided").spearman)


def test_nested_base_is_guided_like_the_flat_graph():
    """A base kept as one nested layer (as in some .h5 files) gets guided ReLUs too."""
    keras.utils.set_random_seed(8)
    conv_a = L.Conv2D(4, 3, activation="relu", name="a")
    conv_b = L.Conv2D(4, 3, name="b")
    relu_b = L.Activation("relu", name="b_relu")
    head = L.Dense(2, activation="softmax", name="out")
    inp = keras.Input((8, 8, 1))
    flat = keras.Model(inp, head(L.Flatten()(relu_b(conv_b(conv_a(inp))))))
    base_in = keras.Input((8, 8, 1))
    base = keras.Model(base_in, relu_b(conv_b(conv_a(base_in))), name="base")
    seq_base = keras.Sequential([keras.Input((8, 8, 1)), conv_a, conv_b, relu_b], name="seq")
    x = np.random.default_rng(5).normal(size=(8, 8, 1)).astype("float32")
    reference = guided_backprop(flat, x, 0)
    assert np.any(reference != 0)
    for nested_base in (base, seq_base):
        outer_in = keras.Input((8, 8, 1))
        nested = keras.Model(outer_in, head(L.Flatten()(nested_base(outer_in))))
        np.testing.assert_allclose(guided_backprop(nested, x, 0), reference, rtol=1e-5,
                                   atol=1e-7)
        assert gradcam(nested, x).shape == (8, 8)  # the base's 4-D output is the CAM layer


def test_flattened_base_whose_layers_also_belong_to_the_original_base():
    """Transfer learning: base layers called again in a new graph are found in that graph."""
    keras.utils.set_random_seed(9)
    base_in = keras.Input((10, 10, 3))
    h = L.Conv2D(4, 3, activation="relu", name="block1_conv")(base_in)
    base = keras.Model(base_in, L.Conv2D(5, 3, activation="relu", name="block2_conv")(h))
    inp = keras.Input((10, 10, 3), name="input")
    t = inp
    for layer in base.layers[1:]:
        t = layer(t)  # the layers' first node stays in ``base``'s graph
    model = keras.Model(inp, L.Dense(2, activation="softmax", name="out")(
        L.GlobalAveragePooling2D(name="gap")(t)))
    x = np.random.default_rng(6).uniform(size=(10, 10, 3)).astype("float32")
    maps = feature_maps(model, x)
    assert list(maps) == ["block1_conv", "block2_conv", "gap", "out"]
    np.testing.assert_allclose(maps["block2_conv"], base.predict(x[None], verbose=0)[0],
                               rtol=1e-5)
    assert gradcam(model, x, "block1_conv").shape == (10, 10)
    assert saliency(model, x).shape == (10, 10)
    assert guided_backprop(model, x).shape == (10, 10, 3)
    assert maximize_filter(model, "block2_conv", 0, AscentSettings(steps=3)).image.shape == x.shape


def test_importing_the_package_does_not_load_tensorflow():
    code = ("import sys, cnnlab.inspect as ci; assert 'tensorflow' not in sys.modules; "
            "assert 'keras' not in sys.modules; ci.tile_channels; "
            "assert issubclass(ci.InspectError, __import__('cnnlab.errors').errors.CnnlabError)")
    subprocess.run([sys.executable, "-c", code], check=True)
