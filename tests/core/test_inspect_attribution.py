"""Attribution maps on a model that must look at one region: the maps must look there too."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect import InspectError  # noqa: E402
from cnnlab.inspect.attribution import saliency, smoothgrad  # noqa: E402
from cnnlab.inspect.cam import gradcam, guided_gradcam, last_conv_layer_id  # noqa: E402
from cnnlab.inspect.colormap import jet, overlay  # noqa: E402
from cnnlab.inspect.guided import guided_backprop  # noqa: E402
from cnnlab.inspect.sanity import randomized_copy, sanity_check  # noqa: E402
from cnnlab.inspect.score import predicted_class, score_source  # noqa: E402

SIZE, PATCH = 24, 6


def patch_images(n, rng):
    """Noise images; class 1 has a bright 6x6 patch somewhere in the top-left quadrant."""
    x = rng.uniform(0.0, 0.5, (n, SIZE, SIZE, 3)).astype("float32")
    y = rng.integers(0, 2, n)
    for i in np.flatnonzero(y == 1):
        r, c = rng.integers(0, SIZE // 2 - PATCH + 1, 2)
        x[i, r:r + PATCH, c:c + PATCH] = 1.0
    return x, y


def quadrant_fraction(heat):
    heat = np.abs(heat)
    return float(heat[: SIZE // 2, : SIZE // 2].sum() / heat.sum())


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    inp = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(2, activation="softmax", name="out")(h)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = patch_images(1024, np.random.default_rng(0))
    model.fit(x, y, epochs=6, batch_size=64, verbose=0)
    xt, yt = patch_images(64, np.random.default_rng(1))
    assert model.evaluate(xt, yt, verbose=0)[1] > 0.95
    return model, xt[yt == 1][:8]


def test_saliency_mass_is_in_the_marked_quadrant(trained):
    model, marked = trained
    fractions = [quadrant_fraction(saliency(model, img, class_index=1)) for img in marked]
    print("saliency quadrant fractions", np.round(fractions, 2))
    assert np.mean(fractions) > 0.6 and min(fractions) > 0.5


def test_gradcam_mass_is_in_the_marked_quadrant(trained):
    model, marked = trained
    assert last_conv_layer_id(model) == "conv2"
    maps = [gradcam(model, img, "conv2", class_index=1) for img in marked]
    for m in maps:
        assert m.shape == (SIZE, SIZE) and m.min() >= 0 and m.max() == pytest.approx(1)
    fractions = [quadrant_fraction(m) for m in maps]
    print("grad-cam quadrant fractions", np.round(fractions, 2))
    assert np.mean(fractions) > 0.6 and min(fractions) > 0.5


def test_smoothgrad_and_guided_favour_the_quadrant(trained):
    model, marked = trained
    sg = [quadrant_fraction(smoothgrad(model, img, 1, samples=16, sigma=0.1)) for img in marked]
    gb = [quadrant_fraction(guided_backprop(model, img, 1).max(-1)) for img in marked]
    print("smoothgrad", np.round(sg, 2), "guided", np.round(gb, 2))
    assert min(sg) > 0.25 and np.mean(sg) > 0.35  # uniform would be 0.25
    assert np.mean(gb) > 0.6


def test_score_is_the_pre_softmax_logit(trained):
    model, marked = trained
    assert "out" in score_source(model) and "softmax removed" in score_source(model)
    assert predicted_class(model, marked[0]) == 1


def test_randomised_weights_change_the_saliency_map(trained):
    model, marked = trained
    before = [w.copy() for w in model.get_weights()]
    result = sanity_check(model, marked[0], "saliency")
    print("sanity saliency spearman", result.spearman, "pearson", result.pearson)
    assert result.class_index == 1 and result.original.shape == result.randomized.shape
    assert abs(result.spearman) < 0.5 and abs(result.pearson) < 0.5
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The same map on an identical copy is identical (the check itself is fair).
    same = sanity_check(model, marked[0], "saliency")
    np.testing.assert_allclose(same.original, result.original, rtol=1e-5)


def test_randomized_copy_keeps_architecture_and_scale(trained):
    model, _ = trained
    copy = randomized_copy(model, seed=3)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    k0, k1 = model.get_layer("conv2").kernel, copy.get_layer("conv2").kernel
    assert not np.allclose(np.asarray(k0), np.asarray(k1))
    assert np.std(np.asarray(k1)) == pytest.approx(np.std(np.asarray(k0)), rel=0.2)


@pytest.mark.parametrize("method", ["gradcam", "guided", "smoothgrad"])
def test_sanity_check_runs_for_every_method(trained, method):
    model, marked = trained
    result = sanity_check(model, marked[1], method, samples=4) if method == "smoothgrad" \
        else sanity_check(model, marked[1], method)
    assert np.isfinite([result.spearman, result.pearson, result.ssim]).all()


def test_overlay_and_guided_gradcam_shapes(trained):
    model, marked = trained
    rgb = overlay(marked[0], gradcam(model, marked[0]), alpha=0.5)
    assert rgb.shape == (SIZE, SIZE, 3) and rgb.dtype == np.float32
    assert 0 <= rgb.min() and rgb.max() <= 1
    assert guided_gradcam(model, marked[0]).shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(jet(np.array([0.0, 0.5, 1.0])),
                               [[0, 0, 0.5], [0.5, 1, 0.5], [0.5, 0, 0]])


def test_user_errors_are_one_line_inspect_errors(trained):
    model, marked = trained
    with pytest.raises(InspectError, match="Unknown layer id 'nope'"):
        gradcam(model, marked[0], "nope")
    with pytest.raises(InspectError, match="'out'.*4-D"):
        gradcam(model, marked[0], "out")
    with pytest.raises(InspectError, match="out of range"):
        saliency(model, marked[0], class_index=5)
    with pytest.raises(InspectError, match="does not fit"):
        saliency(model, np.zeros((10, 10, 3)))
    with pytest.raises(InspectError, match="Unknown attribution"):
        sanity_check(model, marked[0], "magic")
