import dataclasses

import numpy as np
from PySide6.QtWidgets import QWidget

from cnnlab.runs import RunStore
from cnnlab.spec.sections import TrainingSpec
from cnnlab.ui.views.data_panel import DataPanel
from cnnlab.ui.views.recipe_panels import OptimizerPanel, device_panel, regularization_panel


def _n(y):
    return 0 if y is None else len(y)


def test_lr_plot_shows_warm_restarts(qtbot):
    t = TrainingSpec()
    sched = dataclasses.replace(t.schedule, name="cosine_restarts", first_decay_epochs=2.0,
                                t_mul=1.0)
    t = dataclasses.replace(t, epochs=6, schedule=sched)
    panel = OptimizerPanel(t, steps_per_epoch=10)
    qtbot.addWidget(panel)
    panel.update_curve()
    qtbot.waitUntil(lambda: _n(panel.lr_item.getData()[1]) == 60, timeout=30_000)
    y = np.asarray(panel.lr_item.getData()[1])
    jumps = np.flatnonzero(np.diff(y) > 0.5 * y.max())
    assert len(jumps) == 2  # restarts after epochs 2 and 4


def test_form_emits_new_value_and_rejects_bad_input(qtbot):
    t = TrainingSpec()
    panel = regularization_panel(t)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.changed) as blocker:
        panel.forms["regularization"].set_value("kernel_l2", 0.001)
    new = blocker.args[0]
    assert new.regularization.kernel_l2 == 0.001 and t.regularization.kernel_l2 == 0.0
    form = panel.forms["regularization"]
    form.set_value("kernel_l2", -1)
    assert ">= 0" in form.error.text()
    dev = device_panel(t)
    qtbot.addWidget(dev)
    with qtbot.waitSignal(dev.changed) as blocker:
        dev.forms["device"].set_value("mixed_precision", "mixed_bfloat16")
    assert blocker.args[0].device.mixed_precision == "mixed_bfloat16"


def test_data_panel_shows_samples_and_counts(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: hasattr(panel, "bar_heights"), timeout=20_000)
    assert len(panel.bar_heights) == 6 and sum(panel.bar_heights) == 3000
    with qtbot.waitSignal(panel.changed) as blocker:
        panel.shapes_form.set_value("samples", 120)
    assert blocker.args[0].shapes.samples == 120


def test_install_views(qtbot, tmp_path, monkeypatch):
    """The real window: every view is a tab, and a recipe edit changes its document."""
    from builder_helpers import DialogRecorder, make_window
    from graphs import chain

    from cnnlab.ui.views import install_views

    DialogRecorder().install(monkeypatch)  # closing asks about the unsaved edit: discard

    window = make_window(qtbot, chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3})))
    views = install_views(window, RunStore(tmp_path))
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert {"Training", "Runs", "Recipe", "Inspect", "Studies"} <= set(titles)
    recipe = views["Recipe"]
    recipe.regularization_panel.forms["regularization"].set_value("kernel_l2", 0.01)
    assert window.doc.experiment.training.regularization.kernel_l2 == 0.01
    assert isinstance(views["Training"], QWidget)
    # The Samples gallery's revisions reach the document as undoable steps.
    views["Inspect"].revision_requested.emit({"exclude": ["train[3]", "train[7]"]})
    views["Inspect"].revision_requested.emit({"relabel": {"train[9]": "circle"}})
    data = window.doc.experiment.data
    assert data.exclude == ["train[3]", "train[7]"] and data.relabel == {"train[9]": "circle"}
    assert window.doc.undo_stack.undoText() == "Relabel 1 sample"
    window.doc.undo_stack.undo()
    window.doc.undo_stack.undo()
    assert window.doc.experiment.data.exclude == [] and window.doc.experiment.data.relabel == {}


def test_augmentation_preview_grid(qtbot):
    from cnnlab.ui.views.augment_panel import AugmentationPanel

    panel = AugmentationPanel(TrainingSpec())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.changed) as blocker:
        panel.add_layer("RandomRotation")
    assert blocker.args[0].augmentation.layers[0]["type"] == "RandomRotation"
    qtbot.waitUntil(lambda: hasattr(panel, "preview_images"), timeout=30_000)
    assert panel.preview_images.shape[0] == 16


def test_transfer_panel_names_a_base_missing_from_the_graph_while_editing(qtbot):
    from cnnlab.presetlib import load_preset
    from cnnlab.ui.views.recipe_view import RecipeView

    exp = load_preset("default")
    transfer = dataclasses.replace(exp.training.transfer, base="MobileNetV2",
                                   strategy="feature_extractor")
    broken = dataclasses.replace(exp, training=dataclasses.replace(exp.training,
                                                                   transfer=transfer))
    view = RecipeView(exp)
    qtbot.addWidget(view)
    label = view.transfer_panel.problem_label
    assert label.isHidden()
    view.set_experiment(broken)
    assert not label.isHidden()
    assert "training.transfer.base" in label.text() and "Insert base" in label.text()
    view.set_experiment(exp)
    assert label.isHidden() and label.text() == ""
