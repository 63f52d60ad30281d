"""The one inspection core the CLI and the window share: sessions, filter layouts, scaling,
explanations of a chosen class, dead units in a fantasy."""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from graphs import chain  # noqa: E402

from cnnlab import build_model  # noqa: E402
from cnnlab.errors import CnnlabError  # noqa: E402
from cnnlab.inspect.ascent import AscentSettings  # noqa: E402
from cnnlab.inspect.explanation import explain  # noqa: E402
from cnnlab.inspect.fantasy import maximize_filter, never_active  # noqa: E402
from cnnlab.inspect.filters import as_filters, filter_image, kernels  # noqa: E402
from cnnlab.inspect.report import Request, inspection_figure  # noqa: E402
from cnnlab.inspect.sanity import sanity_check, sanity_checks  # noqa: E402
from cnnlab.inspect.scaling import display_image, to_unit  # noqa: E402
from cnnlab.inspect.session import open_model_file, open_run, runs_with_models  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402

L = keras.layers
NAMES = ["circle", "square", "triangle", "star", "cross", "ring"]


def small_experiment(**data):
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=60)
    return dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes, **data))


def saved_run(workspace, exp):
    """A run whose model.keras is the built (untrained) model of ``exp``: cheap and real."""
    store = RunStore(workspace)
    record = store.create_run(exp.run_dict(), "small", 1, {"device": "CPU"})
    build_model(exp).save(record.model_path)
    store.set_status(record.id, "finished")
    return store, record


def test_a_run_session_has_the_runs_samples_and_class_names(tmp_path):
    store, record = saved_run(tmp_path, small_experiment())
    session = open_run(RunStore(tmp_path, read_only=True), record.id)
    assert session.class_names == NAMES and session.has_data and session.split == "test"
    assert session.samples.shape == (6, 16, 16, 3)  # a 10 % test split of 60
    assert session.sample_caption(0) == NAMES[int(session.sample_labels[0])]
    assert session.sample_label(0) == f"test sample 0 (true: {session.sample_caption(0)})"
    assert session.run_dir == store.run_dir(record.id) and session.conv_ids() == ["b0"]
    assert session.source == f"run 'small' ({record.id})" and not session.notes
    x, y, split = session.eval_data(1000)
    assert split == "test" and len(x) == len(y) == 6
    assert session.fit(np.full((40, 30), 255, np.uint8)).shape == (16, 16, 3)
    assert runs_with_models(store) == [(record.id, f"small ({record.id}, finished)")]
    first = open_run(store, record.id, samples=1, strict=True)
    np.testing.assert_array_equal(first.samples[0], session.samples[0])


def test_a_run_whose_data_are_gone_is_inspected_on_synthetic_inputs(tmp_path):
    exp = small_experiment(source="folder", path=str(tmp_path / "gone"))
    store, record = saved_run(tmp_path / "ws", exp)
    session = open_run(store, record.id)
    assert not session.has_data and session.data is None
    assert session.samples.shape == (12, 16, 16, 3)
    assert session.class_names == [str(i) for i in range(6)]
    assert "could not be loaded" in session.notes[0] and "gone" in session.notes[0]
    with pytest.raises(CnnlabError, match="gone"):
        open_run(store, record.id, strict=True)  # the CLI says why, in one line
    with pytest.raises(CnnlabError, match="needs the run's dataset"):
        session.eval_data(10)


def test_a_model_file_session_and_a_run_without_a_model(tmp_path):
    store, record = saved_run(tmp_path, small_experiment())
    session = open_model_file(record.model_path)
    assert session.run_dir is None and session.samples.shape == (12, 16, 16, 3)
    assert session.source == "model file model.keras" and "no dataset" in session.notes[0]
    assert session.sample_label(3) == "synthetic sample 3"
    assert open_model_file(record.model_path, samples=False).samples.size == 0
    other = store.create_run(small_experiment().run_dict(), "empty", 1, {"device": "CPU"})
    with pytest.raises(CnnlabError, match="has no saved model yet"):
        open_run(store, other.id)


def test_conv2d_transpose_filters_are_one_per_output_channel():
    """Keras stores a transposed convolution as (kh, kw, out, in): filter o is [:, :, o, :].

    A single 1 in input channel i makes the layer write kernel[:, :, o, i] into output
    channel o: exactly filter o's tile for input channel i."""
    inp = keras.Input((1, 1, 3))
    model = keras.Model(inp, L.Conv2DTranspose(5, 2, use_bias=False, name="up")(inp))
    layer = model.get_layer("up")
    layer.kernel.assign(np.random.default_rng(0).normal(size=(2, 2, 5, 3)).astype("float32"))
    filters = kernels(layer)
    assert filters.shape == (5, 2, 2, 3)
    for i in range(3):
        delta = np.zeros((1, 1, 1, 3), "float32")
        delta[..., i] = 1.0
        out = model.predict(delta, verbose=0)[0]  # (2, 2, 5)
        for o in range(5):
            np.testing.assert_allclose(out[..., o], filters[o, ..., i], rtol=1e-5)
    grid = filter_image(filters)
    assert grid.mode == "rgb" and grid.tiles.shape == (5, 2, 2, 3)


def test_raw_kernel_layouts_and_the_auto_grid():
    k = np.arange(3 * 3 * 4 * 2, dtype="float32").reshape(3, 3, 4, 2)
    np.testing.assert_array_equal(as_filters(k, "conv")[1], k[..., 1])
    np.testing.assert_array_equal(as_filters(k, "transpose")[3], k[:, :, 3, :])
    depthwise = as_filters(k, "depthwise")
    assert depthwise.shape == (8, 3, 3, 1)
    assert filter_image(depthwise).mode == "mean"  # one channel: a near-square grid
    many = filter_image(as_filters(np.ones((1, 1, 64, 64), "float32"), "conv"))
    assert many.mode == "mean"  # 4096 channel tiles would not be readable
    assert np.all(many.tiles == 0.5)  # constant filters sit mid-grey


def test_one_min_max_scaling():
    x = np.array([[1.0, 3.0], [5.0, np.nan]], "float32")
    np.testing.assert_allclose(to_unit(x), [[0.2, 0.6], [1.0, 0.0]])
    maps = np.stack([np.array([[0.0, 2.0]]), np.array([[7.0, 7.0]])], axis=-1)  # (1, 2, 2)
    np.testing.assert_allclose(to_unit(maps, axes=(0, 1))[..., 0], [[0.0, 1.0]])
    np.testing.assert_allclose(to_unit(maps, axes=(0, 1), constant=0.5)[..., 1], [[0.5, 0.5]])
    assert to_unit(np.zeros(0)).shape == (0,)
    assert display_image(np.full((2, 2, 1), 0.3)).shape == (2, 2)
    np.testing.assert_allclose(display_image(np.array([[-1.0, 1.0]])), [[0.0, 1.0]])


@pytest.fixture(scope="module")
def dead_model():
    """Filter 1 of conv never activates: zero weights and a negative bias under a ReLU."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 3), name="input")
    h = L.Conv2D(3, 3, activation="relu", name="conv")(inp)
    out = L.Dense(4, activation="softmax", name="out")(L.GlobalAveragePooling2D(name="g")(h))
    model = keras.Model(inp, out)
    kernel, bias = model.get_layer("conv").get_weights()
    kernel[..., 1], bias[1] = 0.0, -1.0
    model.get_layer("conv").set_weights([kernel, bias])
    return model


def test_a_dead_filter_is_named_and_a_live_one_is_not(dead_model):
    settings = AscentSettings(steps=6)
    assert never_active(maximize_filter(dead_model, "conv", 1, settings))
    assert not never_active(maximize_filter(dead_model, "conv", 0, settings))
    fig = inspection_figure(dead_model, Request("fantasy", layer="conv", class_index=1, steps=4))
    assert "never activated" in fig.get_supxlabel()
    live = inspection_figure(dead_model, Request("fantasy", layer="conv", class_index=0, steps=4))
    assert "never activated" not in live.get_supxlabel()


def test_explain_a_class_by_choice_or_the_predicted_one(dead_model):
    image = np.random.default_rng(1).uniform(size=(12, 12, 3)).astype("float32")
    names = ["a", "b", "c", "d"]
    predicted = explain(dead_model, image, None, names)
    best = predicted.target.predicted
    assert predicted.target.index == best and "(predicted, p=" in predicted.target.describe()
    other = (best + 1) % 4
    asked = explain(dead_model, image, other, names, methods=["saliency", "gradcam"])
    assert asked.target.index == other and set(asked.maps) == {"saliency", "gradcam"}
    assert f"class '{names[other]}' (asked" in asked.target.describe()
    assert not np.allclose(asked.maps["saliency"], predicted.maps["saliency"])
    checked = explain(dead_model, image, other, names, sanity=True, methods=["saliency"])
    np.testing.assert_allclose(checked.maps["saliency"], asked.maps["saliency"], rtol=1e-5)
    single = sanity_check(dead_model, image, "saliency", class_index=other)
    assert checked.checks["saliency"].spearman == pytest.approx(single.spearman)
    both = sanity_checks(dead_model, image, ["saliency", "guided"], class_index=other)
    assert set(both) == {"saliency", "guided"} and both["saliency"].class_index == other
