"""The fields of the one form builder (issue 19): what each Param kind takes and refuses,
and a section's own check refusing an edit at the field it names."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QLineEdit, QSpinBox

from cnnlab import Param
from cnnlab.spec.sections import DataSpec
from cnnlab.ui.param_form import ParamForm
from cnnlab.ui.param_widgets import ERROR_STYLE, NOT_SET, TYPING_MS
from cnnlab.ui.views.data_panel import DataPanel


def _shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_typed_number_out_of_range_is_shown_at_the_box_until_the_focus_leaves(qtbot):
    form = _shown(qtbot, ParamForm([Param("units", "int", 8, "Units", min=1, max=64),
                                    Param("note", "str", "", "A note")]))
    applied = []
    form.edited.connect(lambda name, value: applied.append((name, value)))
    box = form.editors["units"].widget
    assert isinstance(box, QSpinBox) and (box.minimum(), box.maximum()) == (1, 64)
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.selectAll()
    qtbot.keyClicks(box, "0")
    qtbot.waitUntil(form.error.isVisible, timeout=TYPING_MS * 4)
    assert form.error.text() == "units must be >= 1 (got 0)"
    assert box.styleSheet() == ERROR_STYLE and "units must be >= 1" in box.toolTip()
    assert applied == []
    form.editors["note"].widget.setFocus()  # leaving: the box shows its value again
    qtbot.waitUntil(lambda: not box.hasFocus())
    assert box.cleanText() == "8" and box.styleSheet() == "" and not form.error.isVisible()
    assert form.values()["units"] == 8


def test_optional_fields_empty_mean_not_set_and_json_fields_show_json(qtbot):
    form = ParamForm([Param("clip", "float", None, "Clip", min=0.0, optional=True),
                      Param("classes", "json", ["a", "b"], "Names")])
    qtbot.addWidget(form)
    clip, classes = form.editors["clip"].widget, form.editors["classes"].widget
    assert isinstance(clip, QLineEdit) and clip.placeholderText() == NOT_SET
    assert clip.text() == "" and classes.text() == '["a", "b"]'
    classes.setText('["a", "b", "c"]')
    classes.editingFinished.emit()
    clip.setText("2.5")
    clip.editingFinished.emit()
    assert form.values() == {"clip": 2.5, "classes": ["a", "b", "c"]}
    clip.setText("")
    clip.editingFinished.emit()
    assert form.values()["clip"] is None
    clip.setText("-1")
    clip.editingFinished.emit()
    assert form.values()["clip"] is None and form.error.text() == "clip must be >= 0 (got -1.0)"


def test_a_section_check_refuses_at_the_field_it_names_and_the_next_edit_clears_it(qtbot):
    panel = DataPanel(DataSpec(test_split=0.1))
    qtbot.addWidget(panel)
    changed = []
    panel.changed.connect(changed.append)
    panel.form.set_value("validation_split", 0.9)
    editor = panel.form.editors["validation_split"]
    assert editor.error == "validation_split + test_split leave no training data"
    assert panel.form.error.text() == editor.error and changed == []
    panel.form.set_value("source", "npz")  # needs a path: shown at the path field
    assert "needs a path" in panel.form.editors["path"].error and changed == []
    panel.form.set_value("source", "shapes")
    panel.form.set_value("validation_split", 0.3)
    assert changed and changed[-1] == dataclasses.replace(DataSpec(test_split=0.1),
                                                          validation_split=0.3)
    assert not editor.error and not panel.form.error.isVisible()
    # An edit during a preview re-arms the debounce, which starts one more preview: wait
    # for both (under load the first wait could end between the two, leaving a thread).
    qtbot.waitUntil(lambda: not panel.previewing, timeout=60_000)
