"""One form builder (issue 19): a Param declared alike for a block (Properties) and for the
recipe (Recipe tab) gets the same widget, applies after the same pause in typing (one undo
step), and shows a refused value the same way at its field."""

from __future__ import annotations

import time

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtWidgets import QAbstractSpinBox, QToolButton

from cnnlab import BLOCKS
from cnnlab.ui.param_widgets import ERROR_STYLE, TYPING_MS
from cnnlab.ui.views.recipe_view import RecipeView, bind
from cnnlab.ui.views.worker import Worker

# (Conv2D parameter, recipe panel, its form, its field, typed value, a refused text):
# each pair has the same declaration (kind, range, optional), only the help differs.
PAIRS = [
    ("filters", "optimizer_panel", "", "batch_size", "48", "0"),
    ("max_norm", "regularization_panel", "regularization", "max_norm", "2.5", "-1"),
]


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """Answer the window's dialogs (closing an edited window asks to save)."""
    return DialogRecorder().install(monkeypatch)


@pytest.fixture
def window_and_recipe(qtbot):
    """The window with its Recipe tab on one document (wired as ``install_views`` does)."""
    window = make_window(qtbot)
    doc = window.doc
    recipe = RecipeView(doc.experiment)
    bind(recipe, lambda: doc.experiment, doc.apply)
    doc.changed.connect(recipe.set_experiment)
    window.add_view("Recipe", recipe)
    window.show_view("Recipe")
    window.scene.select_ids(["conv1"])
    next(b for b in window.properties.findChildren(QToolButton)
         if b.text() == "Regularization").click()
    return window, recipe


def _settle(qtbot, recipe) -> None:
    """Let the recipe's jobs (rate curve, samples, preview) end before the window goes."""
    workers = recipe.findChildren(Worker)
    qtbot.waitUntil(lambda: not any(w.running for w in workers), timeout=30_000)


def _text(widget) -> str:
    return widget.cleanText() if isinstance(widget, QAbstractSpinBox) else widget.text()


def _behaviour(qtbot, window, editor, applied, typed: str, refused: str) -> dict:
    """What a user sees and gets from one field: its looks, a typed burst, a refused text."""
    w, p, undo = editor.widget, editor.param, window.doc.undo_stack
    looks = {
        "widget": type(w).__name__,
        "range": (w.minimum(), w.maximum()) if isinstance(w, QAbstractSpinBox) else None,
        "placeholder": getattr(w, "placeholderText", lambda: None)(),
        "focus": w.focusPolicy(),
        "tooltip is the help": w.toolTip() == f"<b>{p.name}</b>: {p.help}<br><i>"
                                              f"{p.describe()}</i>",
    }
    steps = undo.count()
    w.setFocus()
    qtbot.waitUntil(w.hasFocus)
    w.selectAll()
    qtbot.keyClicks(w, typed)
    last_key = time.monotonic()
    early = applied() == float(typed)
    qtbot.waitUntil(lambda: applied() == float(typed), timeout=TYPING_MS * 6)
    timing = {"applied at once": early,
              "applied after the pause": time.monotonic() - last_key >= TYPING_MS / 1000 * 0.8,
              "undo steps": undo.count() - steps, "text kept": _text(w) == typed}
    w.selectAll()
    qtbot.keyClicks(w, refused)
    qtbot.wait(TYPING_MS * 2)
    form = next(f for f in window.findChildren(type(window.properties.forms[0]))
                if f.editors.get(p.name) is editor)
    error = {"style": w.styleSheet(), "message": editor.error.replace(p.name, "NAME"),
             "in tooltip": bool(editor.error) and editor.error in w.toolTip(),
             "error line": form.error.text() == editor.error and form.error.isVisible(),
             "applied": applied() != float(typed), "undo steps": undo.count() - steps}
    return {"looks": looks, "typing": timing, "refused": error}


@pytest.mark.parametrize(("block_name", "panel", "section", "field", "typed", "refused"), PAIRS)
def test_a_param_behaves_alike_in_properties_and_in_the_recipe(
        qtbot, window_and_recipe, block_name, panel, section, field, typed, refused):
    window, recipe = window_and_recipe
    form = getattr(recipe, panel).forms[section]
    block_param = next(p for p in BLOCKS["Conv2D"].params if p.name == block_name)
    recipe_param = form.editors[field].param
    same = ("kind", "min", "max", "optional", "choices")
    assert [getattr(block_param, a) for a in same] == [getattr(recipe_param, a) for a in same]
    recipe.toolbox.setCurrentWidget(next(
        recipe.toolbox.widget(i) for i in range(recipe.toolbox.count())
        if recipe.toolbox.widget(i).isAncestorOf(form)))

    def in_block():
        return window.doc.experiment.model.node("conv1").params.get(block_name)

    def in_recipe():
        training = window.doc.experiment.training
        return getattr(getattr(training, section) if section else training, field)

    props = _behaviour(qtbot, window, window.properties.editors[block_name], in_block,
                       typed, refused)
    rec = _behaviour(qtbot, window, form.editors[field], in_recipe, typed, refused)
    assert props == rec
    assert props["typing"] == {"applied at once": False, "applied after the pause": True,
                               "undo steps": 1, "text kept": True}
    assert props["refused"]["style"] == ERROR_STYLE and props["refused"]["message"]
    assert props["refused"] | {"style": "", "message": ""} == {
        "style": "", "message": "", "in tooltip": True, "error line": True, "applied": False,
        "undo steps": 1}
    _settle(qtbot, recipe)
