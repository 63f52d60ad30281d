"""The mouse wheel never changes a setting unseen: combo and spin boxes take it only when
focused; unfocused, the wheel scrolls the form around them (issue 14)."""

import pytest
from builder_helpers import DialogRecorder
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from cnnlab import default_experiment
from cnnlab.runs import RunStore
from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.views.recipe_view import RecipeView


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """Answer the window's dialogs (closing an edited window asks to save)."""
    return DialogRecorder().install(monkeypatch)


def _wheel(widget: QWidget, steps: int = -1) -> None:
    """One notch of the wheel (negative: towards the user, 'scroll down') over ``widget``."""
    local = QPointF(widget.width() / 2, widget.height() / 2)
    glob = QPointF(widget.mapToGlobal(local.toPoint()))
    ev = QWheelEvent(local, glob, QPoint(0, 0), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def _tall_form(qtbot):
    install_wheel_guard()
    body = QWidget()
    lay = QVBoxLayout(body)
    combo, spin = QComboBox(), QSpinBox()
    combo.addItems(["VGG16", "MobileNetV2", "ResNet50V2"])
    spin.setRange(0, 100)
    spin.setValue(50)
    lay.addWidget(combo)
    lay.addWidget(spin)
    lay.addSpacing(3000)
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(body)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    return area, combo, spin


def test_unfocused_boxes_pass_the_wheel_to_the_scroll_area(qtbot):
    area, combo, spin = _tall_form(qtbot)
    area.setFocus()
    for box in (combo, spin):
        bar = area.verticalScrollBar()
        before = bar.value()
        _wheel(box)
        assert not box.hasFocus()
        assert bar.value() > before  # the form scrolled instead
    assert combo.currentText() == "VGG16" and spin.value() == 50
    # The wheel alone does not give them focus either (it would then change them).
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_focused_boxes_take_the_wheel(qtbot):
    area, combo, spin = _tall_form(qtbot)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    _wheel(combo)
    assert combo.currentText() == "MobileNetV2"
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    _wheel(spin, steps=1)
    assert spin.value() == 51


def test_recipe_form_scrolls_over_its_combos(qtbot):
    view = RecipeView(default_experiment())
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    qtbot.waitExposed(view)
    view.toolbox.setCurrentIndex(4)  # Transfer learning: application combo below the form
    area = view.toolbox.widget(4)
    inserter = view.transfer_panel.inserter
    app_box = inserter.app_box
    area.ensureWidgetVisible(app_box)
    qtbot.wait(20)
    before_text, before_scroll = app_box.currentText(), area.verticalScrollBar().value()
    _wheel(app_box)
    assert app_box.currentText() == before_text
    assert area.verticalScrollBar().value() > before_scroll
    qtbot.waitUntil(lambda: not view.optimizer_panel.worker.running, timeout=30000)


def test_switching_recipe_sections_keeps_the_focus_in_the_recipe(qtbot, tmp_path):
    from builder_helpers import make_window
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractButton

    from cnnlab.ui.views import install_views

    window = make_window(qtbot)
    views = install_views(window, RunStore(tmp_path))
    window.show_view("Recipe")
    recipe = views["Recipe"]
    headers = [b for b in recipe.toolbox.findChildren(QAbstractButton)
               if b.metaObject().className() == "QToolBoxButton"]
    field = recipe.data_panel.findChildren(QComboBox)[0]
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    for header in headers[1:3]:
        QTest.mouseClick(header, Qt.MouseButton.LeftButton)
        focused = QApplication.focusWidget()
        assert focused is header  # not a field elsewhere in the window (the Name)
        assert not any(w.hasFocus() for w in window.properties.findChildren(QWidget))
    qtbot.waitUntil(lambda: not recipe.optimizer_panel.worker.running, timeout=30000)


def test_properties_apply_as_you_type_one_undo_step_per_burst(qtbot):
    from builder_helpers import make_window

    from cnnlab.ui.param_widgets import ERROR_STYLE, TYPING_MS

    window = make_window(qtbot)
    window.scene.select_ids(["conv1"])
    node = lambda: window.doc.experiment.model.node("conv1")  # noqa: E731
    count = window.doc.undo_stack.count()
    kernel = window.properties.editors["kernel_size"].widget
    kernel.setFocus()
    qtbot.waitUntil(kernel.hasFocus)
    kernel.selectAll()
    qtbot.keyClicks(kernel, "5, 3")
    assert node().params.get("kernel_size") != [5, 3]  # not yet: still typing
    qtbot.waitUntil(lambda: node().params.get("kernel_size") == [5, 3], timeout=TYPING_MS * 4)
    assert window.doc.undo_stack.count() == count + 1  # the burst is one edit
    assert kernel.hasFocus() and kernel.text() == "5, 3"
    kernel.selectAll()
    qtbot.keyClicks(kernel, "5, q")
    qtbot.wait(TYPING_MS * 2)
    assert kernel.styleSheet() == ERROR_STYLE  # shown at the field ...
    assert node().params["kernel_size"] == [5, 3]  # ... and not applied
    assert window.doc.undo_stack.count() == count + 1
    filters = window.properties.editors["filters"].widget
    filters.setFocus()
    qtbot.waitUntil(filters.hasFocus)
    filters.selectAll()
    qtbot.keyClicks(filters, "64")
    qtbot.waitUntil(lambda: node().params.get("filters") == 64, timeout=TYPING_MS * 4)
    assert window.doc.undo_stack.count() == count + 2


def test_experiment_name_applies_as_you_type(qtbot):
    from builder_helpers import make_window

    from cnnlab.ui.param_widgets import TYPING_MS

    window = make_window(qtbot)
    window.scene.clearSelection()
    name = window.properties._name_edit
    name.setFocus()
    qtbot.waitUntil(name.hasFocus)
    name.selectAll()
    qtbot.keyClicks(name, "My net")
    qtbot.waitUntil(lambda: window.doc.experiment.name == "My net", timeout=TYPING_MS * 4)
    assert name.text() == "My net" and name.hasFocus()
