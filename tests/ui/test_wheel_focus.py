"""The mouse wheel never changes a setting unseen: combo and spin boxes take it only when
focused; unfocused, the wheel scrolls the form around them (issue 14)."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.preset_source import default_experiment
from cnnlab.ui.views.recipe_view import RecipeView


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
    views = install_views(window, tmp_path)
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
