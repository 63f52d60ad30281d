"""Two weighted layers with nothing nonlinear between them: one linear map, a warning."""

import pytest
from graphs import chain

from cnnlab.analysis import analyze, output_classes_problems
from cnnlab.presetlib import load_preset, preset_names

CONV = {"filters": 4, "kernel_size": 3, "padding": "same"}


def linear_warnings(exp):
    return [p for p in analyze(exp.model).problems if p.code == "linear_stack"]


def test_two_convolutions_with_keras_default_activation_warn_on_the_second():
    found = linear_warnings(chain((16, 16, 1), ("Conv2D", CONV), ("Conv2D", CONV)))
    assert [(p.node, p.severity) for p in found] == [("b1", "warning")]
    assert "b0 and b1 together are one linear map" in found[0].message
    assert "Keras default for Conv2D" in found[0].message


@pytest.mark.parametrize("between", [
    ("AveragePooling2D", {"pool_size": 2}), ("Dropout", {"rate": 0.5}),
    ("BatchNormalization", {}), ("ZeroPadding2D", {"padding": 1}),
    ("Activation", {"activation": "linear"})])
def test_linear_blocks_between_keep_the_map_linear(between):
    exp = chain((16, 16, 1), ("Conv2D", CONV), between, ("Conv2D", CONV))
    assert [p.node for p in linear_warnings(exp)] == ["b2"]


@pytest.mark.parametrize("between", [
    ("MaxPooling2D", {"pool_size": 2}), ("Activation", {"activation": "relu"})])
def test_a_nonlinear_block_between_silences_the_warning(between):
    exp = chain((16, 16, 1), ("Conv2D", CONV), between, ("Conv2D", CONV))
    assert linear_warnings(exp) == []


def test_an_activation_on_the_first_layer_silences_the_warning():
    exp = chain((16, 16, 1), ("Conv2D", {**CONV, "activation": "relu"}), ("Conv2D", CONV))
    assert linear_warnings(exp) == []


def test_flatten_then_output_after_a_linear_dense_warns_on_the_output():
    exp = chain((8, 8, 1), ("Conv2D", {**CONV, "activation": "relu"}), ("Flatten", {}),
                ("Dense", {"units": 8, "activation": "linear"}), ("Output", {"units": 3}))
    found = linear_warnings(exp)
    assert [p.node for p in found] == ["b3"]
    assert "Keras default" not in found[0].message  # Dense's default here is relu


def test_a_warning_does_not_make_the_analysis_fail():
    result = analyze(chain((16, 16, 1), ("Conv2D", CONV), ("Conv2D", CONV)).model)
    assert result.ok and result.problems


@pytest.mark.parametrize("name", preset_names())
def test_no_preset_has_two_linear_layers_in_a_row(name):
    assert linear_warnings(load_preset(name)) == []


def test_output_units_against_the_data_class_count_name_the_block():
    exp = chain((8, 8, 1), ("Flatten", {}), ("Output", {"units": 10}))
    found = output_classes_problems(exp.model, 6)
    assert [(p.node, p.severity, p.code) for p in found] == [("b1", "error", "output_classes")]
    assert str(found[0]) == "b1: it has 10 units but the data has 6 classes; set units to 6"
    assert output_classes_problems(exp.model, 10) == []
    assert output_classes_problems(exp.model, None) == []
