"""Two linear layers in a row: a warning on the second block, in Problems and on the canvas."""

from __future__ import annotations

import dataclasses

import pytest
from builder_helpers import DialogRecorder, make_window
from graphs import chain

from cnnlab import default_experiment

CONV = {"filters": 4, "kernel_size": 3, "padding": "same"}


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_conv_after_a_linear_conv_is_marked_and_an_activation_clears_it(qtbot):
    net = chain((16, 16, 3), ("Conv2D", CONV), ("Conv2D", {**CONV, "activation": "relu"}),
                ("GlobalAveragePooling2D", {}), ("Output", {"units": 6}))
    window = make_window(qtbot, dataclasses.replace(default_experiment(), model=net.model))
    assert window.problems.texts() == [
        "b1: b0 and b1 together are one linear map: b0's activation is linear (the Keras "
        "default for Conv2D) and nothing nonlinear lies between them; give b0 an activation "
        "such as relu"]
    assert window.problems.error_count() == 0
    assert window.scene.blocks["b1"].look.state == "warning"
    assert window.scene.blocks["b0"].look.state == "ok"
    window.editor.edit_params("b0", {**CONV, "activation": "relu"})
    assert window.problems.texts() == ["No problems: every block has a shape."]
