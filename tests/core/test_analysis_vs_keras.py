"""The pure-Python analysis equals the built Keras model, exactly."""

import pytest
from graphs import chain, random_experiment

from cnnlab.analysis import analyze
from cnnlab.blocks import BLOCKS
from cnnlab.build import block_output, build_model

# One small graph per block type: (input shape, [(type, params)...]).
CASES = {
    "Input": ((8, 8, 3), [("Flatten", {}), ("Output", {"units": 2})]),
    "Conv2D": ((13, 11, 3), [("Conv2D", {"filters": 5, "kernel_size": [3, 2], "strides": 2,
                                         "padding": 1, "activation": "relu"})]),
    "Conv2D_same": ((13, 13, 2), [("Conv2D", {"filters": 4, "kernel_size": 5, "strides": 3,
                                              "padding": "same", "use_bias": False})]),
    "Conv2D_dilated": ((16, 16, 2), [("Conv2D", {"filters": 3, "kernel_size": 3,
                                                 "dilation_rate": 2})]),
    "DepthwiseConv2D": ((12, 12, 3), [("DepthwiseConv2D", {"kernel_size": 3,
                                                           "depth_multiplier": 2,
                                                           "padding": "same", "strides": 2})]),
    "SeparableConv2D": ((12, 12, 3), [("SeparableConv2D", {"filters": 7, "kernel_size": 3,
                                                           "depth_multiplier": 2})]),
    "Conv2DTranspose": ((5, 5, 4), [("Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                                                         "strides": 2})]),
    "Conv2DTranspose_same": ((5, 5, 4), [("Conv2DTranspose", {"filters": 3, "kernel_size": 4,
                                                              "strides": 2,
                                                              "padding": "same"})]),
    "MaxPooling2D": ((9, 9, 2), [("MaxPooling2D", {"pool_size": 3, "strides": 2})]),
    "AveragePooling2D": ((9, 9, 2), [("AveragePooling2D", {"pool_size": 2,
                                                           "padding": "same"})]),
    "GlobalAveragePooling2D": ((6, 6, 4), [("GlobalAveragePooling2D", {})]),
    "GlobalMaxPooling2D": ((6, 6, 4), [("GlobalMaxPooling2D", {})]),
    "ZeroPadding2D": ((6, 6, 4), [("ZeroPadding2D", {"padding": [1, 2]})]),
    "Flatten": ((6, 6, 4), [("Flatten", {})]),
    "Reshape": ((6, 6, 4), [("Reshape", {"target_shape": [-1, 8]})]),
    "Dense": ((10,), [("Dense", {"units": 7})]),
    "Dense_on_map": ((4, 4, 3), [("Dense", {"units": 5})]),
    "Output": ((10,), [("Output", {"units": 3, "activation": "sigmoid"})]),
    "Activation": ((6, 6, 3), [("Activation", {"activation": "leaky_relu"}),
                               ("Activation", {"activation": "elu"}),
                               ("Activation", {"activation": "gelu"})]),
    "Activation_prelu": ((6, 6, 3), [("Activation", {"activation": "prelu"})]),
    "Activation_prelu_vec": ((9,), [("Activation", {"activation": "prelu"})]),
    "Maxout": ((10,), [("Maxout", {"units": 4, "pieces": 3})]),
    "Maxout_map": ((5, 5, 3), [("Maxout", {"units": 4, "pieces": 2})]),
    "BatchNormalization": ((6, 6, 3), [("BatchNormalization", {"center": False})]),
    "LocalResponseNormalization": ((6, 6, 8), [("LocalResponseNormalization", {})]),
    "Dropout": ((6, 6, 3), [("Dropout", {"rate": 0.3})]),
    "SpatialDropout2D": ((6, 6, 3), [("SpatialDropout2D", {"rate": 0.3})]),
    "GaussianNoise": ((6, 6, 3), [("GaussianNoise", {"stddev": 0.2})]),
    "GaussianDropout": ((6, 6, 3), [("GaussianDropout", {"rate": 0.2})]),
    "ZeroPadding2D_asymmetric": ((7, 6, 2), [("ZeroPadding2D", {"padding": [[0, 1], [2, 3]]})]),
    "Activation_relu6": ((6, 6, 3), [("Activation", {"activation": "relu6"})]),
    "Rescaling": ((6, 6, 3), [("Rescaling", {"scale": [0.5, 2.0, 1.0], "offset": -1.0})]),
    "Normalization": ((6, 6, 3), [("Normalization", {})]),
    "Normalization_given": ((6, 6, 2), [("Normalization", {"mean": [1.0, 2.0],
                                                           "variance": [4.0, 9.0]})]),
    "Opaque": ((6, 6, 4), [("Opaque", {
        "layer": {"module": "keras.layers", "class_name": "LayerNormalization",
                  "config": {"name": "ln", "epsilon": 1e-3}, "registered_name": None},
        "input_shapes": [[6, 6, 4]], "output_shape": [6, 6, 4], "params": 8}),
        ("Opaque", {"layer": {"module": "keras.layers", "class_name": "UpSampling2D",
                              "config": {"size": [2, 3]}},
                    "output_shape": [12, 18, 4], "params": 0})]),
}


def assert_matches_keras(exp, batchnorm="none"):
    from dataclasses import replace

    reg = replace(exp.training.regularization, batchnorm=batchnorm)
    analysis = analyze(exp.model, batchnorm)
    assert analysis.ok, analysis.problems
    model = build_model(exp, regularization=reg)
    total = 0
    for info in analysis.layers:
        layer = block_output(model, info.id)
        assert tuple(layer.output.shape[1:]) == info.output_shape, info.id
        owned = [lay for lay in model.layers
                 if lay.name == info.id or lay.name.startswith(info.id + "_")]
        params = sum(lay.count_params() for lay in owned)
        trainable = sum(sum(int(w.numpy().size) for w in lay.trainable_weights) for lay in owned)
        assert params == info.params + info.state, (info.id, params, info.params)
        assert trainable == info.trainable_params, info.id
        total += params
    assert total == model.count_params() == analysis.totals.params + analysis.totals.state


def test_every_block_type_has_a_case():
    covered = {kind for _, blocks in CASES.values() for kind, _ in blocks} | {"Input"}
    # merges: tested with branches
    assert set(BLOCKS) - covered <= {"Add", "Concatenate", "Multiply"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_block_matches_keras(case):
    shape, blocks = CASES[case]
    assert_matches_keras(chain(shape, *blocks))


def test_merges_match_keras():
    from cnnlab.spec import experiment_from_dict

    exp = experiment_from_dict({"model": {"nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [8, 8, 3]}},
        {"id": "a", "type": "Conv2D", "params": {"filters": 4, "padding": "same"}},
        {"id": "b", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 1}},
        {"id": "c", "type": "Conv2D", "params": {"filters": 6, "kernel_size": 5,
                                                 "padding": 2}},
        {"id": "add", "type": "Add"},
        {"id": "cat", "type": "Concatenate"},
    ], "edges": [{"src": "x", "dst": "a"}, {"src": "x", "dst": "b"}, {"src": "x", "dst": "c"},
                 {"src": "a", "dst": "add"}, {"src": "b", "dst": "add"},
                 {"src": "add", "dst": "cat", "port": 0}, {"src": "c", "dst": "cat",
                                                           "port": 1}]}})
    assert analyze(exp.model).layer("cat").output_shape == (8, 8, 10)
    assert_matches_keras(exp)


def test_multiply_broadcasts_like_keras():
    from cnnlab.spec import experiment_from_dict

    exp = experiment_from_dict({"model": {"nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [6, 6, 4]}},
        {"id": "gap", "type": "GlobalAveragePooling2D"},
        {"id": "se", "type": "Reshape", "params": {"target_shape": [1, 1, 4]}},
        {"id": "gate", "type": "Activation", "params": {"activation": "sigmoid"}},
        {"id": "mul", "type": "Multiply"},
    ], "edges": [{"src": "x", "dst": "gap"}, {"src": "gap", "dst": "se"},
                 {"src": "se", "dst": "gate"}, {"src": "x", "dst": "mul", "port": 0},
                 {"src": "gate", "dst": "mul", "port": 1}]}})
    assert analyze(exp.model).layer("mul").output_shape == (6, 6, 4)
    assert_matches_keras(exp)


@pytest.mark.parametrize("batchnorm", ["before_activation", "after_activation"])
def test_inserted_batchnorm_counts(batchnorm):
    exp = chain((10, 10, 3), ("Conv2D", {"filters": 4, "activation": "relu"}),
                ("Flatten", {}), ("Output", {"units": 2}))
    assert_matches_keras(exp, batchnorm)


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_match_keras(seed):
    assert_matches_keras(random_experiment(seed))
