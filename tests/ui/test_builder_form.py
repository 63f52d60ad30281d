"""The properties form, the summary table and the problems list."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QToolButton

from cnnlab import REG_PARAM_NAMES


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def _row(window, block_id):
    model = window.summary.summary
    row = model.row_of(block_id)
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def test_form_is_generated_from_the_catalogue(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv1"])
    editors = window.properties.editors
    assert isinstance(editors["filters"].widget, QSpinBox)
    assert editors["filters"].widget.minimum() == 1
    assert isinstance(editors["activation"].widget, QComboBox)
    assert isinstance(editors["use_bias"].widget, QCheckBox)
    assert isinstance(editors["kernel_size"].widget, QLineEdit)
    assert REG_PARAM_NAMES & set(editors)
    assert "Kernel size" in editors["kernel_size"].widget.toolTip()
    toggle = next(b for b in window.properties.findChildren(QToolButton)
                  if b.text() == "Regularization")
    reg_widget = editors["kernel_l2"].widget
    assert not toggle.isChecked() and not reg_widget.isVisibleTo(window.properties)
    toggle.click()
    assert reg_widget.isVisibleTo(window.properties)


def test_edit_filters_updates_canvas_and_table(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv1"])
    window.properties.editors["filters"].widget.setValue(48)
    assert window.doc.experiment.model.node("conv1").params["filters"] == 48
    assert window.scene.blocks["conv1"].look.shape == "32×32×48"
    assert _row(window, "conv1")[2] == "32×32×48"
    assert _row(window, "conv1")[3] == f"{3 * 3 * 3 * 48 + 48:,}"
    assert window.doc.undo_stack.count() == 1
    assert window.doc.undo_stack.undoText() == "Edit conv1.filters"
    window.properties.editors["filters"].widget.setValue(40)
    assert window.doc.undo_stack.count() == 2
    window.doc.undo_stack.undo()
    assert window.properties.editors["filters"].widget.value() == 48


def test_pair_and_choice_fields(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv2"])
    kernel = window.properties.editors["kernel_size"].widget
    kernel.setText("5, 3")
    kernel.editingFinished.emit()
    assert window.doc.experiment.model.node("conv2").params["kernel_size"] == [5, 3]
    assert window.scene.blocks["conv2"].look.summary.startswith("64 5x3")
    act = window.properties.editors["activation"].widget
    act.activated.emit(act.findText("tanh"))
    assert window.doc.experiment.model.node("conv2").params["activation"] == "tanh"


def test_bad_text_is_shown_at_the_field(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv2"])
    before = window.doc.experiment
    kernel = window.properties.editors["kernel_size"].widget
    kernel.setText("0")
    kernel.editingFinished.emit()
    assert window.doc.experiment is before
    assert "kernel_size must be >= 1" in kernel.toolTip()
    assert "d64545" in kernel.styleSheet()


def test_error_turns_block_red_and_fix_clears_it(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv3"])
    editors = window.properties.editors
    pad = editors["padding"].widget
    pad.setCurrentText("valid")
    pad.lineEdit().editingFinished.emit()
    kernel = editors["kernel_size"].widget
    kernel.setText("11")
    kernel.editingFinished.emit()
    item = window.scene.blocks["conv3"]
    assert item.look.state == "error"
    assert "does not fit" in item.toolTip()
    texts = window.problems.texts()
    assert any(t.startswith("conv3:") and "does not fit" in t for t in texts)
    assert window.scene.blocks["gap"].look.shape == "?"
    window.scene.clearSelection()
    window.problems.blockActivated.emit("conv3")
    assert window.scene.selected_item_ids() == ["conv3"]
    window.scene.select_ids(["conv3"])
    kernel = window.properties.editors["kernel_size"].widget
    kernel.setText("3")
    kernel.editingFinished.emit()
    assert window.scene.blocks["conv3"].look.state == "ok"
    assert window.problems.error_count() == 0


def test_clicking_a_problem_selects_its_block(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["pool2"])
    window.editor.delete_selection()
    assert window.problems.count() >= 1
    item = next(window.problems.item(i) for i in range(window.problems.count())
                if window.problems.item(i).text().startswith("conv3"))
    window.problems.itemClicked.emit(item)
    assert window.scene.selected_item_ids() == ["conv3"]
    assert window.scene.blocks["conv3"].look.state == "error"


def test_summary_totals_row(qtbot):
    window = make_window(qtbot)
    model = window.summary.summary
    last = model.rowCount() - 1
    assert model.data(model.index(last, 0)) == "Total"
    assert model.data(model.index(last, 3)) == f"{window.analysis.totals.params:,}"
    window.summary.blockActivated.emit("pool1")
    assert window.scene.selected_item_ids() == ["pool1"]


def test_experiment_name_edit_changes_title(qtbot):
    window = make_window(qtbot)
    window.scene.clearSelection()
    name = window.properties._name_edit
    name.setText("My net")
    name.editingFinished.emit()
    assert window.doc.experiment.name == "My net"
    assert window.windowTitle() == "My net[*]" and window.isWindowModified()
