"""Recipe > Optimizer > Find learning rate…: the range test in the background, its curve on
a log axis, the suggestion marked, and "Use it" as one undoable edit of the learning rate.

A real RecipeView bound to a real Document; the test runs 100 real training
steps of a tiny model in the dialog's worker thread.
"""

import math

from test_plan_panel import tiny_experiment

from cnnlab.ui.document import Document
from cnnlab.ui.views.recipe_view import RecipeView, bind


def test_find_learning_rate_and_use_it(qtbot):
    exp = tiny_experiment()
    doc = Document(exp, None)
    view = RecipeView(exp)
    qtbot.addWidget(view)
    bind(view, lambda: doc.experiment, doc.apply)
    doc.changed.connect(view.set_experiment)
    panel = view.optimizer_panel
    panel.find_button.click()
    dialog = panel.lr_dialog
    assert dialog is not None and dialog.plot.getPlotItem().ctrl.logXCheck.isChecked()
    qtbot.waitUntil(lambda: dialog.result is not None or "Cannot" in dialog.message.text(),
                    timeout=120_000)
    assert dialog.worker.wait(30)
    result = dialog.result
    assert result is not None, dialog.message.text()
    assert len(result.rates) == len(result.losses) and result.rates[0] < result.rates[-1]
    x, _ = dialog.smooth_item.getData()
    assert len(x) > 10
    assert result.suggested is not None, dialog.message.text()  # the tiny net learns in 100
    assert dialog.use_button.isEnabled() and dialog.marker.isVisible()
    assert f"{result.suggested:g}" in dialog.message.text()
    assert math.isclose(dialog.marker.value(), math.log10(result.suggested))
    dialog.use_button.click()
    assert doc.experiment.training.optimizer.learning_rate == result.suggested
    assert exp.training.optimizer.learning_rate == 0.001  # the old snapshot is unchanged
    doc.undo_stack.undo()
    assert doc.experiment.training.optimizer.learning_rate == 0.001
