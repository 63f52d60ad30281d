"""Keras models back into editable graphs: round trips, foreign models, opaque layers."""

import numpy as np
import pytest
from graphs import chain

from cnnlab.analysis import analyze
from cnnlab.build import build_model
from cnnlab.errors import ModelFileError
from cnnlab.modelio.importer import import_model_file, set_weights
from cnnlab.spec import experiment_from_dict


def _flat(exp):
    graph = exp.model.expand()
    return ([(n.id, n.type, dict(n.params)) for n in graph.nodes],
            sorted((e.src, e.dst, e.port) for e in graph.edges))


def _lab_experiment():
    """Branches, explicit padding, lab layers and regularizers in one small graph."""
    return experiment_from_dict({"name": "round trip", "model": {"nodes": [
        {"id": "image", "type": "Input", "params": {"shape": [12, 12, 3]}},
        {"id": "conv1", "type": "Conv2D", "params": {
            "filters": 6, "padding": 1, "activation": "relu", "kernel_l2": 1e-4,
            "max_norm": 3.0}},
        {"id": "bn1", "type": "BatchNormalization", "params": {"momentum": 0.9}},
        {"id": "left", "type": "SeparableConv2D", "params": {"filters": 6,
                                                             "padding": "same"}},
        {"id": "right", "type": "DepthwiseConv2D", "params": {"padding": "same",
                                                              "activation": "swish"}},
        {"id": "add", "type": "Add"},
        {"id": "lrn", "type": "LocalResponseNormalization", "params": {"depth_radius": 1}},
        {"id": "act", "type": "Activation", "params": {"activation": "prelu"}},
        {"id": "pool", "type": "MaxPooling2D", "params": {"pool_size": 3, "strides": 2}},
        {"id": "pad", "type": "ZeroPadding2D", "params": {"padding": [[0, 1], [1, 0]]}},
        {"id": "gap", "type": "GlobalAveragePooling2D"},
        {"id": "drop", "type": "Dropout", "params": {"rate": 0.25}},
        {"id": "maxout", "type": "Maxout", "params": {"units": 5, "pieces": 3,
                                                      "sparsity_rho": 0.1,
                                                      "sparsity_beta": 0.01}},
        {"id": "out", "type": "Output", "params": {"units": 4}},
    ], "edges": [
        {"src": "image", "dst": "conv1"}, {"src": "conv1", "dst": "bn1"},
        {"src": "bn1", "dst": "left"}, {"src": "bn1", "dst": "right"},
        {"src": "left", "dst": "add", "port": 0}, {"src": "right", "dst": "add", "port": 1},
        {"src": "add", "dst": "lrn"}, {"src": "lrn", "dst": "act"},
        {"src": "act", "dst": "pool"}, {"src": "pool", "dst": "pad"},
        {"src": "pad", "dst": "gap"}, {"src": "gap", "dst": "drop"},
        {"src": "drop", "dst": "maxout"}, {"src": "maxout", "dst": "out"}]}})


@pytest.fixture(scope="module")
def lab_model():
    exp = _lab_experiment()
    return exp, build_model(exp)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_gives_same_spec_and_predictions(tmp_path, lab_model, suffix):
    exp, model = lab_model
    path = tmp_path / f"model{suffix}"
    model.save(path)
    result = import_model_file(path)
    assert _flat(result.experiment) == _flat(exp)
    assert not any("opaque" in line for line in result.report)
    rebuilt = build_model(result.experiment)
    assert set_weights(rebuilt, result.weights) == []
    x = np.random.default_rng(1).random((3, 12, 12, 3), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x), model(x), atol=1e-6)


def test_import_without_weights(tmp_path, lab_model):
    path = tmp_path / "model.keras"
    lab_model[1].save(path)
    result = import_model_file(path, keep_weights=False)
    assert result.weights is None
    assert analyze(result.experiment.model).ok


def _foreign_model():
    import keras

    inp = keras.Input((10, 10, 1), name="pixels")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inp)
    x = keras.layers.ReLU(6.0, name="r6")(x)
    x = keras.layers.UpSampling2D(2, name="up")(x)
    x = keras.layers.LayerNormalization(name="ln")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(8, activation="relu", kernel_regularizer="l1", name="fc")(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="probs")(x))


def test_foreign_model_becomes_a_graph_with_opaque_blocks(tmp_path):
    model = _foreign_model()
    path = tmp_path / "foreign.keras"
    model.save(path)
    result = import_model_file(path)
    types = {n.id: n.type for n in result.experiment.model.nodes}
    assert types == {"pixels": "Input", "c1": "Conv2D", "r6": "Activation", "up": "Opaque",
                     "ln": "Opaque", "gap": "GlobalAveragePooling2D", "fc": "Dense",
                     "probs": "Output"}
    assert result.experiment.model.node("r6").params == {"activation": "relu6"}
    assert result.experiment.model.node("fc").params["kernel_l1"] == pytest.approx(0.01)
    report = "\n".join(result.report)
    assert "up: kept as an opaque frozen block" in report and "ln:" in report
    analysis = analyze(result.experiment.model)
    assert analysis.ok and analysis.layer("ln").params == 8
    assert analysis.layer("ln").trainable_params == 0
    rebuilt = build_model(result.experiment)
    set_weights(rebuilt, result.weights, strict=True)
    assert not rebuilt.get_layer("ln").trainable
    x = np.random.default_rng(2).random((2, 10, 10, 1), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x), model(x), atol=1e-6)


def test_sequential_model_and_open_input_sizes(tmp_path):
    import keras

    seq = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3),
                            keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(2)])
    path = tmp_path / "seq.h5"
    seq.save(path)
    with pytest.raises(ModelFileError, match="open sizes; give the input shape"):
        import_model_file(path)
    result = import_model_file(path, input_shape=(9, 9, 3))
    exp = result.experiment
    assert [n.type for n in exp.model.nodes] == ["Input", "Conv2D", "GlobalMaxPooling2D",
                                                 "Output"]
    assert exp.model.nodes[0].params["shape"] == [9, 9, 3]
    rebuilt = build_model(exp)
    set_weights(rebuilt, result.weights, strict=True)
    x = np.random.default_rng(3).random((2, 9, 9, 3), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x), seq(x), atol=1e-6)


def test_two_input_model_is_refused_clearly(tmp_path):
    import keras

    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], keras.layers.Add()([a, b]))
    path = tmp_path / "two.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="2 inputs and 1 outputs"):
        import_model_file(path)


def test_shared_layer_is_refused_clearly(tmp_path):
    import keras

    inp = keras.Input((4,))
    dense = keras.layers.Dense(4, name="shared")
    model = keras.Model(inp, dense(dense(inp)))
    path = tmp_path / "shared.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="'shared' is used 2 times"):
        import_model_file(path)


def test_set_weights_reports_missing_layers():
    model = build_model(chain((4,), ("Dense", {"units": 2})))
    assert set_weights(model, {"ghost": []}) == ["ghost: no such layer; its weights were "
                                                "not set"]
    with pytest.raises(ModelFileError, match="do not fit"):
        set_weights(model, {"b0": [np.zeros((3, 3)), np.zeros(2)]})


def test_nested_model_is_kept_as_one_opaque_block(tmp_path):
    import keras

    inner_in = keras.Input((6, 6, 2))
    inner = keras.Model(inner_in, keras.layers.Conv2D(3, 3, name="ic")(inner_in), name="inner")
    inp = keras.Input((6, 6, 2), name="img")
    x = keras.layers.Flatten(name="flat")(inner(inp))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="head")(x))
    path = tmp_path / "nested.keras"
    model.save(path)
    result = import_model_file(path)
    node = result.experiment.model.node("inner")
    assert node.type == "Opaque" and node.params["params"] == 57
    assert any("inner: kept as an opaque frozen block (a nested model)" in line
               for line in result.report)
    rebuilt = build_model(result.experiment)
    set_weights(rebuilt, result.weights, strict=True)
    x = np.random.default_rng(4).random((2, 6, 6, 2), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x), model(x), atol=1e-6)


def test_weights_file_round_trip(tmp_path, lab_model):
    from cnnlab.modelio.importer import read_weights, write_weights

    path = tmp_path / "model.keras"
    lab_model[1].save(path)
    weights = import_model_file(path).weights
    write_weights(weights, tmp_path / "w.npz")
    back = read_weights(tmp_path / "w.npz")
    assert back.keys() == weights.keys()
    for name, arrays in weights.items():
        assert all(np.array_equal(a, b) for a, b in zip(arrays, back[name], strict=True))
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(ModelFileError, match="not a weights file"):
        read_weights(tmp_path / "bad.npz")


def test_raw_operations_are_refused_clearly(tmp_path):
    import keras

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2)(keras.ops.add(inp, 1.0)))
    path = tmp_path / "ops.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match=r"applies the operation 'add(_\d+)?'"):
        import_model_file(path)
