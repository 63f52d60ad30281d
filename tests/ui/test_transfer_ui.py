"""Transfer learning in the window: the base inserter and the canvas's recipe marks."""

from __future__ import annotations

import dataclasses

import pytest
from builder_helpers import DialogRecorder, make_window

from cnnlab import default_experiment
from cnnlab.modelio import bases
from cnnlab.modelio.bases import application_names
from cnnlab.runs import RunStore
from cnnlab.ui.document import Document
from cnnlab.ui.views.recipe_panels import TransferPanel
from cnnlab.ui.views.transfer_panel import default_cut, with_hint

TF_TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """Answer the window's dialogs (closing an edited window asks to save)."""
    return DialogRecorder().install(monkeypatch)


def _panel(qtbot, doc: Document) -> TransferPanel:
    panel = TransferPanel(doc.experiment.training)
    qtbot.addWidget(panel)
    panel.set_document(lambda: doc.experiment, doc.apply)
    doc.changed.connect(lambda exp: panel.set_value(exp.training))
    return panel


def _choose(panel: TransferPanel, app: str, weights: str) -> None:
    inserter = panel.inserter
    inserter.app_box.setCurrentText(app)
    inserter.weights_box.setCurrentIndex(inserter.weights_box.findData(weights))


def _with_training(exp, **sections):
    training = exp.training
    for attr, values in sections.items():
        training = dataclasses.replace(
            training, **{attr: dataclasses.replace(getattr(training, attr), **values)})
    return dataclasses.replace(exp, training=training)


def test_panel_lists_applications_and_keeps_strategy_fields(qtbot):
    panel = _panel(qtbot, Document(default_experiment()))
    box = panel.inserter.app_box
    assert [box.itemText(i) for i in range(box.count())] == application_names()
    shown = {p.name for p in panel.forms["transfer"].params}
    assert {"strategy", "head_epochs", "unfreeze", "lr_multiplier", "head", "svm_l2"} <= shown
    assert "base" not in shown and "weights_path" not in shown
    assert "Base: none" in panel.base_label.text()
    assert panel.advice.text()


def test_default_cut_and_hint():
    layers = [("a", (16, 16, 8)), ("b", (4, 4, 32)), ("pool", (32,))]
    assert default_cut(layers) == 1
    assert "random" in with_hint("ImageNet weights for X are missing")


def test_insert_random_base_is_one_undo_step_and_frozen(qtbot):
    doc = Document(default_experiment())
    panel = _panel(qtbot, doc)
    _choose(panel, "MobileNetV2", "random")
    inserter = panel.inserter
    assert inserter.list_layers()
    qtbot.waitUntil(lambda: inserter.layer_list.count() > 0, timeout=TF_TIMEOUT_MS)
    cut = inserter.cut_at()
    assert cut is not None and "(" not in cut
    assert inserter.insert()
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 1, timeout=TF_TIMEOUT_MS)
    exp = doc.experiment
    assert doc.undo_stack.text(0) == "Insert MobileNetV2 base"
    base_ids = [n.id for n in exp.model.nodes if n.id.startswith("base_")]
    assert len(base_ids) > 20 and f"base_{cut}" in base_ids
    assert exp.training.transfer.strategy == "feature_extractor"
    assert "MobileNetV2" in panel.base_label.text()
    assert "Inserted base MobileNetV2" in inserter.message.text()
    window = make_window(qtbot, exp)
    frozen = [i for i, item in window.scene.blocks.items() if item.look.frozen]
    assert frozen and all(i.startswith("base_") for i in frozen)
    assert "frozen" in window.scene.blocks[frozen[0]].toolTip()
    assert "conv1" not in window.scene.blocks  # the base replaced the old feature extractor
    assert not window.scene.blocks["fc1"].look.frozen
    doc.undo_stack.undo()
    assert not any(n.id.startswith("base_") for n in doc.experiment.model.nodes)


def test_missing_imagenet_file_is_named_in_red(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(bases, "can_reach", lambda *a, **k: False)
    doc = Document(default_experiment())
    panel = _panel(qtbot, doc)
    _choose(panel, "MobileNetV2", "imagenet")
    assert panel.inserter.insert()
    message = panel.inserter.message
    qtbot.waitUntil(lambda: "ImageNet" in message.text(), timeout=TF_TIMEOUT_MS)
    expected = bases.weights_file("MobileNetV2", (32, 32, 3)).name
    assert expected in message.text() and "random" in message.text()
    assert "d64545" in message.styleSheet()
    assert doc.undo_stack.count() == 0


def test_file_weights_need_a_file(qtbot):
    doc = Document(default_experiment())
    panel = _panel(qtbot, doc)
    _choose(panel, "VGG16", "file")
    assert panel.inserter.weights_row.isVisibleTo(panel)
    assert not panel.inserter.insert()
    assert "weights file" in panel.inserter.message.text()


@pytest.mark.parametrize(("values", "badge"), [
    ({"kernel_l2": 1e-4}, "L2"),
    ({"kernel_l1": 1e-5, "kernel_l2": 1e-4}, "L1+L2"),
    ({"max_norm": 3.0}, "max-norm"),
    ({"sparsity_rho": 0.05, "sparsity_beta": 1.0}, "KL"),
])
def test_regularization_badges_on_weighted_blocks(qtbot, values, badge):
    window = make_window(qtbot)
    window.doc.apply(_with_training(window.doc.experiment, regularization=values), "reg")
    blocks = window.scene.blocks
    assert blocks["conv1"].look.badge == badge
    assert not blocks["pool1"].look.badge
    assert "regularization:" in blocks["conv1"].toolTip()


def test_block_override_and_multiplier_zero(qtbot):
    exp = default_experiment()
    nodes = [dataclasses.replace(n, params={**n.params, "kernel_l2": 0.001})
             if n.id == "conv1" else n for n in exp.model.nodes]
    exp = dataclasses.replace(exp, model=dataclasses.replace(exp.model, nodes=tuple(nodes)))
    exp = _with_training(exp, transfer={"strategy": "multipliers",
                                        "layer_multipliers": {"conv2": 0.0}})
    window = make_window(qtbot, exp)
    blocks = window.scene.blocks
    assert blocks["conv1"].look.badge == "L2" and not blocks["conv2"].look.badge
    assert blocks["conv2"].look.frozen and not blocks["conv1"].look.frozen


def test_svm_head_output_block_says_linear_svm(qtbot):
    exp = _with_training(default_experiment(), transfer={"head": "svm", "svm_l2": 0.02})
    window = make_window(qtbot, exp)
    output = window.scene.blocks["output"]
    assert output.look.summary == "6 linear SVM"
    assert output.look.badge == "L2"
    tip = output.toolTip()
    assert "svm_l2 = 0.02" in tip and "class margins" in tip and "squared hinge" in tip
    assert window.scene.blocks["fc1"].look.summary == "64 relu"
    window.doc.apply(_with_training(window.doc.experiment, transfer={"head": "softmax"}),
                     "head")
    output = window.scene.blocks["output"]
    assert output.look.summary == "6 softmax" and not output.look.badge


def test_window_refuses_to_train_a_base_that_is_not_in_the_graph(qtbot, tmp_path):
    from cnnlab.ui.views.training_view import TrainingView

    transfer = {"base": "MobileNetV2", "strategy": "feature_extractor"}
    exp = _with_training(default_experiment(), transfer=transfer)
    exp = dataclasses.replace(exp, data=dataclasses.replace(
        exp.data, shapes=dataclasses.replace(exp.data.shapes, samples=60)))
    view = TrainingView(lambda: exp, RunStore(tmp_path))
    qtbot.addWidget(view)
    assert view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=TF_TIMEOUT_MS)
    text = view.message.text()
    assert "training.transfer.base" in text and "Insert base in Recipe > Transfer" in text
    assert not view.run_id


def test_insert_a_preset_base_as_the_cli_does(qtbot):
    from cnnlab.modelio.splice import insert_base

    doc = Document(default_experiment())
    panel = _panel(qtbot, doc)
    inserter = panel.inserter
    inserter.source_box.setCurrentIndex(inserter.source_box.findData("preset"))
    inserter.preset_box.setCurrentText("lenet5")
    assert inserter.preset_box.isVisibleTo(panel) and not inserter.weights_box.isVisibleTo(panel)
    assert inserter.list_layers()
    qtbot.waitUntil(lambda: inserter.layer_list.count() > 0, timeout=TF_TIMEOUT_MS)
    assert inserter.cut_at() == "c5"  # lenet5's last block with an image output (1x1x120)
    assert inserter.insert()
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 1, timeout=TF_TIMEOUT_MS)
    exp = doc.experiment
    t = exp.training.transfer
    assert (t.base, t.base_source, t.weights, t.cut_at) == ("lenet5", "preset", "random", "c5")
    same = insert_base(default_experiment(), "lenet5", source="preset", cut_at="c5",
                       weights="random")
    assert exp.model.to_dict()["nodes"] == same.model.to_dict()["nodes"]


def test_insert_feedback_is_in_sight_and_goes_with_the_experiment(qtbot, tmp_path,
                                                                  monkeypatch):
    """Issue 14: 'Inserting…' with a moving bar next to the button, the offline error
    scrolled into view, and gone after File > New (another experiment)."""
    from cnnlab.ui.views.recipe_view import RecipeView, bind

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(bases, "can_reach", lambda *a, **k: False)
    doc = Document(default_experiment())
    view = RecipeView(doc.experiment)
    qtbot.addWidget(view)
    bind(view, lambda: doc.experiment, doc.apply)
    view.transfer_panel.set_document(lambda: doc.experiment, doc.apply)
    doc.changed.connect(view.set_experiment)
    view.resize(700, 420)
    view.show()
    view.toolbox.setCurrentIndex(4)
    qtbot.waitExposed(view)
    area = view.toolbox.widget(4)
    area.verticalScrollBar().setValue(0)
    inserter = view.transfer_panel.inserter
    _choose(view.transfer_panel, "MobileNetV2", "imagenet")
    assert inserter.insert()
    assert "Inserting MobileNetV2" in inserter.message.text() and inserter.busy.isVisible()
    button, message = inserter.insert_button, inserter.message
    assert abs(button.mapTo(inserter, button.rect().center()).y()
               - message.mapTo(inserter, message.rect().center()).y()) < 30  # beside it
    qtbot.waitUntil(lambda: "ImageNet" in message.text(), timeout=TF_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not inserter.busy.isVisible(), timeout=5000)
    top_left = message.mapTo(area.viewport(), message.rect().topLeft())
    assert area.viewport().rect().contains(top_left)  # scrolled into sight
    doc.apply(dataclasses.replace(default_experiment(), name="another"), "New")  # File > New
    assert message.text() == ""
    qtbot.waitUntil(lambda: not view.optimizer_panel.worker.running, timeout=30000)
