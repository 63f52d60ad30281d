"""Problems of the model against its data are drawn on their blocks, like the analysis's."""

from __future__ import annotations

import dataclasses

import pytest
from builder_helpers import DialogRecorder, make_window

from cnnlab import default_experiment
from cnnlab.spec.edit import retarget


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_an_output_that_does_not_fit_the_data_is_drawn_as_an_error_until_fixed(qtbot):
    exp = default_experiment()
    classes = len(exp.data.shapes.classes)
    window = make_window(qtbot, retarget(exp, classes=classes + 4))
    out = next(n.id for n in exp.model.nodes if n.type == "Output")
    block = window.scene.blocks[out]
    assert block.look.state == "error"
    assert block.look.problem == f"it has {classes + 4} units but the data has {classes} " \
                                 f"classes; set units to {classes}"
    assert "set units to" in block.toolTip()
    (row,) = window.problems.fix_rows()
    window.problems.itemClicked.emit(window.problems.item(row))
    assert block.look.state == "ok" and not block.look.problem
    window.doc.undo_stack.undo()
    assert window.scene.blocks[out].look.state == "error"


def test_new_data_with_fewer_classes_turns_the_output_red(qtbot):
    exp = default_experiment()
    window = make_window(qtbot, exp)
    out = next(n.id for n in exp.model.nodes if n.type == "Output")
    assert window.scene.blocks[out].look.state == "ok"
    shapes = dataclasses.replace(exp.data.shapes, classes=exp.data.shapes.classes[:3])
    window.doc.apply(dataclasses.replace(exp, data=dataclasses.replace(exp.data,
                                                                       shapes=shapes)), "data")
    assert window.scene.blocks[out].look.state == "error"
    assert all(b.look.state == "ok" for nid, b in window.scene.blocks.items() if nid != out)
