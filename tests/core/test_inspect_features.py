"""Feature maps, filters and tiling."""

import gc
import os
import weakref

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect import InspectError  # noqa: E402
from cnnlab.inspect.activations import feature_maps, inspectable_layer_ids  # noqa: E402
from cnnlab.inspect.ascent import AscentSettings  # noqa: E402
from cnnlab.inspect.attribution import saliency  # noqa: E402
from cnnlab.inspect.cam import gradcam  # noqa: E402
from cnnlab.inspect.dream import deep_dream  # noqa: E402
from cnnlab.inspect.fantasy import maximize_filter  # noqa: E402
from cnnlab.inspect.filters import filter_grid  # noqa: E402
from cnnlab.inspect.guided import guided_backprop  # noqa: E402
from cnnlab.inspect.sanity import sanity_check  # noqa: E402
from cnnlab.inspect.tiling import grid, tile_channels  # noqa: E402

L = keras.layers


def branchy_cnn():
    inp = keras.Input((16, 16, 3), name="input")
    h = L.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inp)
    a = L.SeparableConv2D(6, 3, padding="same", name="sep")(h)
    b = L.DepthwiseConv2D(3, padding="same", depth_multiplier=1, name="dw")(h)
    h = L.Add(name="add")([a, b])
    h = L.BatchNormalization(name="bn")(h)
    h = L.Concatenate(name="cat")([h, L.Conv2D(4, 1, name="proj")(h)])
    h = L.MaxPooling2D(name="pool")(h)
    h = L.Conv2DTranspose(3, 2, strides=2, name="up")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    out = L.Dense(4, activation="softmax", name="out")(L.Dropout(0.2, name="drop")(h))
    return keras.Model(inp, out)


def test_feature_maps_have_the_layer_output_shapes():
    model = branchy_cnn()
    image = np.random.default_rng(0).uniform(size=(16, 16, 3)).astype("float32")
    maps = feature_maps(model, image)
    ids = inspectable_layer_ids(model)
    assert list(maps) == ids and "input" not in ids and ids[-1] == "out"
    for layer_id, act in maps.items():
        assert act.shape == tuple(model.get_layer(layer_id).output.shape[1:]), layer_id
        assert act.dtype == np.float32
    np.testing.assert_allclose(maps["out"], model.predict(image[None], verbose=0)[0], rtol=1e-5)
    chosen = feature_maps(model, image, ["pool", "conv1"])
    assert list(chosen) == ["conv1", "pool"]
    np.testing.assert_allclose(chosen["pool"], maps["pool"], rtol=1e-5)


def test_cached_models_are_built_once_and_do_not_keep_the_model_alive():
    model = branchy_cnn()
    image = np.zeros((16, 16, 3), "float32")
    feature_maps(model, image)
    from cnnlab.inspect import cache

    fn = cache.cached(model, ("features", tuple(inspectable_layer_ids(model))), lambda: None)
    assert fn is not None  # the first call filled the cache
    feature_maps(model, image)
    assert fn.experimental_get_tracing_count() == 1
    for method in (saliency, guided_backprop, gradcam, lambda m, i: sanity_check(m, i, "gradcam")):
        method(model, image)
        method(model, image)
    maximize_filter(model, "conv1", 0, AscentSettings(steps=2))
    deep_dream(model, image, ["conv1"], octaves=2, steps=2)
    ref = weakref.ref(model)
    del model, fn
    gc.collect()
    assert ref() is None


def test_feature_map_errors():
    model = branchy_cnn()
    with pytest.raises(InspectError, match="Unknown layer id 'conv9'"):
        feature_maps(model, np.zeros((16, 16, 3)), ["conv9"])
    with pytest.raises(InspectError, match="Expected one image"):
        feature_maps(model, np.zeros((2, 16, 16, 3)))


def stripes(n, rng):
    """Class 0: horizontal stripes, class 1: vertical stripes, plus noise."""
    x = rng.normal(0, 0.2, (n, 12, 12, 3)).astype("float32")
    y = rng.integers(0, 2, n)
    pattern = (np.arange(12) % 4 < 2).astype("float32")
    x[y == 0] += pattern[None, :, None, None]
    x[y == 1] += pattern[None, None, :, None]
    return x, y


def test_trained_first_layer_filters_differ_from_the_initial_ones():
    keras.utils.set_random_seed(1)
    inp = keras.Input((12, 12, 3))
    h = L.Conv2D(8, 3, activation="relu", name="conv1")(inp)
    h = L.Conv2D(8, 3, activation="relu", name="conv2")(h)
    out = L.Dense(2, activation="softmax", name="out")(L.GlobalAveragePooling2D(name="g")(h))
    model = keras.Model(inp, out)
    initial = filter_grid(model, "conv1")
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    model.fit(*stripes(256, np.random.default_rng(0)), epochs=4, batch_size=32, verbose=0)
    trained = filter_grid(model, "conv1")
    assert initial.mode == trained.mode == "rgb"
    assert trained.filters.shape == (8, 3, 3, 3) and trained.tiles.shape == (8, 3, 3, 3)
    assert trained.image.shape == (3 * 3 + 2, 3 * 3 + 2, 3)
    assert 0 <= trained.image.min() and trained.image.max() <= 1
    change = np.abs(trained.filters - initial.filters).mean() / np.abs(initial.filters).mean()
    assert change > 0.1
    np.testing.assert_allclose(trained.filters[2], model.get_layer("conv1").kernel[..., 2])


def test_filter_modes_and_layer_kinds():
    model = branchy_cnn()
    per_channel = filter_grid(model, "proj", mode="auto")  # 6 input channels
    assert per_channel.mode == "channels" and per_channel.tiles.shape == (4, 6, 1, 1)
    assert per_channel.image.shape == (4 * 2 - 1, 6 * 2 - 1)
    mean = filter_grid(model, "conv1", mode="mean", normalize="layer", max_filters=4)
    assert mean.tiles.shape == (4, 3, 3) and mean.image.ndim == 2
    assert filter_grid(model, "dw").filters.shape == (6, 3, 3, 1)
    assert filter_grid(model, "sep").filters.shape == (6, 3, 3, 1)
    assert filter_grid(model, "up").filters.shape == (3, 2, 2, 10)
    with pytest.raises(InspectError, match="'out' \\(Dense\\) is not a 2-D convolution"):
        filter_grid(model, "out")
    with pytest.raises(InspectError, match="colour needs 3"):
        filter_grid(model, "proj", mode="rgb")


def test_tile_channels_layouts():
    act = np.arange(4 * 5 * 6, dtype="float32").reshape(4, 5, 6)
    img = tile_channels(act, pad=1)
    assert img.shape == (2 * 4 + 1, 3 * 5 + 2)
    assert img.min() == 0 and img.max() == 1
    np.testing.assert_allclose(img[:4, :5], np.zeros((4, 5)) + np.linspace(0, 1, 20).reshape(4, 5))
    assert tile_channels(act[None], cols=6).shape == (4, 6 * 5 + 5)
    vec = tile_channels(np.arange(10.0))
    assert vec.shape == (4, 4) and vec[-1, -1] == 1.0  # padding cells use the fill
    assert grid(np.ones((3, 2, 2, 3)), cols=3, pad=0).shape == (2, 6, 3)
    with pytest.raises(InspectError):
        tile_channels(np.zeros((2, 2, 2, 2, 2)))


def test_public_names_are_functions_whatever_the_import_order():
    import subprocess
    import sys

    code = ("import cnnlab.inspect.activations, cnnlab.inspect.attribution, cnnlab.inspect.cam;"
            "import cnnlab.inspect as ins;"
            "assert all(callable(getattr(ins, n)) for n in "
            "('feature_maps', 'saliency', 'smoothgrad', 'gradcam'))")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("preset", ["default", "resnet20"])
def test_feature_map_shapes_equal_the_analysis(preset):
    import cnnlab.inspect as ins
    from cnnlab import analyze, build_model, load_preset

    exp = load_preset(preset)
    model = build_model(exp)
    analysis = analyze(exp.model)
    image = np.random.default_rng(0).random(analysis.layers[0].output_shape, dtype=np.float32)
    maps = ins.feature_maps(model, image)
    checked = 0
    for layer in analysis.layers:
        if layer.id in maps:
            assert maps[layer.id].shape == layer.output_shape, layer.id
            checked += 1
    assert checked >= len(analysis.layers) - 1  # every block but the Input
