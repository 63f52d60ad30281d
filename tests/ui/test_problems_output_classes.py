"""An Output that does not fit the data's classes: flagged in Problems, fixed in one click."""

from __future__ import annotations

import dataclasses

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtCore import QPointF

from cnnlab import default_experiment
from cnnlab.spec.edit import retarget


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def output_id(exp):
    return next(n.id for n in exp.model.nodes if n.type == "Output")


def test_a_mismatched_output_is_an_error_named_by_its_id_and_one_click_fixes_it(qtbot):
    exp = default_experiment()
    classes = len(exp.data.shapes.classes)
    window = make_window(qtbot, retarget(exp, classes=classes + 4))
    out = output_id(exp)
    texts = window.problems.texts()
    assert f"{out}: it has {classes + 4} units but the data has {classes} classes; " \
           f"set units to {classes}" in texts
    assert not any("model.nodes[" in t for t in texts)
    (row,) = window.problems.fix_rows()
    window.problems.itemClicked.emit(window.problems.item(row))
    assert window.doc.experiment.model.node(out).params["units"] == classes
    assert window.problems.error_count() == 0 and not window.problems.fix_rows()
    window.doc.undo_stack.undo()
    assert window.problems.error_count() == 1


def test_changing_the_data_flags_the_output_until_it_fits(qtbot):
    exp = default_experiment()
    window = make_window(qtbot, exp)
    assert window.problems.error_count() == 0
    shapes = dataclasses.replace(exp.data.shapes, classes=exp.data.shapes.classes[:3])
    window.doc.apply(dataclasses.replace(exp, data=dataclasses.replace(exp.data,
                                                                       shapes=shapes)), "data")
    assert window.problems.error_count() == 1 and window.problems.fix_rows()


def test_a_dropped_output_takes_the_data_class_count(qtbot):
    exp = default_experiment()
    shapes = dataclasses.replace(exp.data.shapes, classes=exp.data.shapes.classes[:4])
    exp = retarget(dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes)),
                   classes=4)
    window = make_window(qtbot, exp)
    (new,) = window.drop_block("Output", QPointF(600, 600))
    assert window.doc.experiment.model.node(new).params["units"] == 4
