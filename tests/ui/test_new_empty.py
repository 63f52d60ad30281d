"""File > New: the default CNN, an empty network (an Input only), or a preset."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, drop_block, make_window
from PySide6.QtCore import QPointF

from cnnlab import default_experiment, load_experiment


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def new_menu_texts(window) -> list[str]:
    file_menu = window.menuBar().actions()[0].menu()
    new = next(a.menu() for a in file_menu.actions() if a.menu() is not None)
    return [a.text() for a in new.actions() if a.text()]


def test_new_menu_offers_empty_network_beside_the_templates(qtbot):
    window = make_window(qtbot)
    assert new_menu_texts(window) == ["&Default CNN", "&Empty Network", "From &Preset…"]
    assert [k.toString() for k in window.menus.actions["new_empty"].shortcuts()] == [
        "Ctrl+Shift+N"]


def test_empty_network_is_an_input_only_and_can_be_built_on(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    default = default_experiment()
    window.menus.actions["new_empty"].trigger()
    exp = window.doc.experiment
    assert [(n.id, n.type) for n in exp.model.nodes] == [("input", "Input")]
    assert exp.model.edges == () and exp.name == "Empty network"
    assert exp.data == default.data and exp.training == default.training
    assert list(window.scene.blocks) == ["input"] and not window.doc.dirty
    assert window.doc.path is None and window.analysis.totals.params == 0
    drop_block(window, "Conv2D", QPointF(400, 300))
    assert "conv1" in window.doc.experiment.model.ids() and window.doc.dirty
    recorder.save_as_answer = str(tmp_path / "mine.json")
    assert window.files.save()
    assert load_experiment(tmp_path / "mine.json").model.ids() == ["input", "conv1"]


def test_new_empty_asks_about_unsaved_changes(qtbot, recorder):
    window = make_window(qtbot)
    window.editor.edit_params("conv1", {"filters": 8})
    recorder.save_answer = "cancel"
    window.files.new_empty()
    assert "conv1" in window.doc.experiment.model.ids()  # cancelled: nothing lost
    recorder.save_answer = "discard"
    window.files.new_empty()
    assert window.doc.experiment.model.ids() == ["input"]
    window.menus.actions["new"].trigger()  # back to the default CNN
    assert window.doc.experiment.model.ids() == default_experiment().model.ids()
