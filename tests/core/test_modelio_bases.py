"""Pretrained bases: Keras applications flattened into the graph, weights copied by name."""

import sys
import types

import numpy as np
import pytest
from graphs import chain

from cnnlab.analysis import analyze
from cnnlab.build import build_model
from cnnlab.errors import ModelFileError, SpecError
from cnnlab.modelio import bases
from cnnlab.modelio.splice import insert_base, load_base_weights

SHAPE = (32, 32, 3)


def _head_experiment(shape=SHAPE):
    return chain(shape, ("GlobalAveragePooling2D", {}), ("Output", {"units": 5}), name="tl")


def _assert_analysis_matches(exp, model):
    analysis = analyze(exp.model)
    assert analysis.ok, analysis.problems
    for info in analysis.layers:
        layer = model.get_layer(info.id)
        assert tuple(layer.output.shape[1:]) == info.output_shape, info.id
        assert layer.count_params() == info.params + info.state, info.id
    assert analysis.totals.params + analysis.totals.state == model.count_params()


def _assert_same_outputs(app, model, prefix="base_"):
    import keras

    names = [la.name for la in app.layers[1::17]] + [app.layers[-1].name]
    ref = keras.Model(app.inputs, [app.get_layer(n).output for n in names])
    ours = keras.Model(model.inputs, [model.get_layer(prefix + n).output for n in names])
    x = np.random.default_rng(0).random((2, *SHAPE), dtype=np.float32) * 255
    for name, a, b in zip(names, ref([x], training=False), ours([x], training=False)):
        a, b = np.asarray(a), np.asarray(b)
        scale = float(np.max(np.abs(a))) or 1.0
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5 * scale, err_msg=name)


def test_application_names_and_weight_files(monkeypatch, tmp_path):
    assert bases.application_names() == ["VGG16", "VGG19", "ResNet50", "ResNet50V2",
                                         "MobileNetV2", "EfficientNetB0", "InceptionV3"]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert bases.weights_file("ResNet50") == \
        tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert bases.weights_file("MobileNetV2", (128, 128, 3)).name == \
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5"
    assert bases.weights_file("MobileNetV2", SHAPE).name.endswith("_1.0_224_no_top.h5")


def test_missing_imagenet_weights_name_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(bases, "can_reach", lambda *a, **k: False)
    expected = tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(ModelFileError) as err:
        bases.load_base("ResNet50", SHAPE)
    message = str(err.value)
    assert expected.name in message and str(expected.parent) in message
    assert "weights 'random'" in message and "https://storage.googleapis.com/" in message
    with pytest.raises(ModelFileError, match=expected.name):
        insert_base(_head_experiment(), "ResNet50")


@pytest.mark.parametrize("name", [pytest.param("ResNet50", marks=pytest.mark.slow), "MobileNetV2"])
def test_application_base_matches_keras(tmp_path, name):
    app = bases.load_base(name, SHAPE, weights="random")
    weights = tmp_path / "base.weights.h5"
    app.save_weights(weights)
    exp = insert_base(_head_experiment(), name, weights="file", weights_path=weights)
    transfer = exp.training.transfer
    assert (transfer.base, transfer.base_source, transfer.weights, transfer.prefix) == \
        (name, "application", "file", "base_")
    assert transfer.strategy == "feature_extractor"
    ids = [n.id for n in exp.model.nodes]
    assert ids[0] == "input" and "base_" + app.layers[-1].name in ids
    model = build_model(exp)
    _assert_analysis_matches(exp, model)
    assert load_base_weights(model, exp)[0].startswith(f"base {name}: copied")
    _assert_same_outputs(app, model)


def test_cut_at_keeps_the_layers_up_to_it():
    exp = insert_base(_head_experiment(), "ResNet50", weights="random",
                      cut_at="conv3_block4_out")
    ids = {n.id for n in exp.model.nodes}
    assert "base_conv3_block4_out" in ids and not any(i.startswith("base_conv4") for i in ids)
    analysis = analyze(exp.model)
    assert analysis.ok and analysis.layer("b0").output_shape == (512,)
    assert exp.training.transfer.cut_at == "conv3_block4_out"
    with pytest.raises(SpecError, match="has no layer 'conv9'"):
        insert_base(_head_experiment(), "VGG16", weights="random", cut_at="conv9")


def test_inserting_again_replaces_the_previous_base():
    first = insert_base(_head_experiment(), "VGG16", weights="random")
    second = insert_base(first, "VGG19", weights="random", cut_at="block4_pool")
    types_ = [n.type for n in second.model.nodes]
    assert types_.count("Conv2D") == 12 and types_.count("Input") == 1
    assert second.training.transfer.base == "VGG19"
    assert analyze(second.model).layer("b1").output_shape == (5,)


def test_model_file_as_base(tmp_path):
    own = build_model(chain(SHAPE, ("Conv2D", {"filters": 4, "padding": "same"}),
                            ("MaxPooling2D", {}), ("Flatten", {}), ("Output", {"units": 2})))
    path = tmp_path / "own.keras"
    own.save(path)
    exp = insert_base(_head_experiment(), path, source="file", prefix="mine_")
    assert [n.id for n in exp.model.nodes] == ["input", "mine_b0", "mine_b1", "b0", "b1"]
    assert exp.training.transfer.weights == "file"
    model = build_model(exp)
    load_base_weights(model, exp)
    np.testing.assert_array_equal(model.get_layer("mine_b0").get_weights()[0],
                                  own.get_layer("b0").get_weights()[0])


def test_preset_as_base(monkeypatch):
    preset = chain((64, 64, 3), ("Conv2D", {"filters": 8}), ("Flatten", {}),
                   ("Output", {"units": 10}))
    fake = types.ModuleType("cnnlab.presetlib")
    fake.load_preset = lambda name: preset
    monkeypatch.setitem(sys.modules, "cnnlab.presetlib", fake)
    exp = insert_base(_head_experiment(), "tiny", source="preset", prefix="p_")
    assert [n.id for n in exp.model.nodes] == ["input", "p_b0", "b0", "b1"]
    assert analyze(exp.model).layer("p_b0").output_shape == (30, 30, 8)
    assert load_base_weights(build_model(exp), exp) == ["base tiny: random weights "
                                                        "(nothing to copy)"]


def test_bad_base_requests_are_clear_errors():
    with pytest.raises(SpecError, match="unknown application 'ResNet9000'"):
        insert_base(_head_experiment(), "ResNet9000", weights="random")
    with pytest.raises(SpecError, match="source must be one of"):
        insert_base(_head_experiment(), "VGG16", source="web")
    with pytest.raises(SpecError, match="at least 75x75"):
        bases.load_base("InceptionV3", SHAPE, weights="random")


def test_a_base_replaces_the_old_feature_extractor_and_keeps_the_head():
    from cnnlab import analyze, default_experiment

    exp = insert_base(default_experiment(), "MobileNetV2", weights="random")
    ids = [n.id for n in exp.model.nodes]
    assert not {"conv1", "pool1", "conv2", "pool2", "conv3"} & set(ids)
    assert {"gap", "fc1", "output"} <= set(ids)
    assert analyze(exp.model).ok, analyze(exp.model).problems
