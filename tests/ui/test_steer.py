"""Steer and branch in the window (issue 17): the Runs view as a tree, a branch's curves
continuing its parent's, its steer as "What changed", and the steer dialog's "Branch"."""

import json
import math
import time

import pytest
from graphs import chain
from PySide6.QtCore import Qt

from cnnlab.runs import RunStore
from cnnlab.ui.views.runs_table import BRANCH_MARK
from cnnlab.ui.views.runs_view import RunsView

ID = Qt.ItemDataRole.UserRole


def keep_epochs(store, run_id, epochs, steps=3):
    """Kept epoch checkpoints as the trainer leaves them (files only: the dialog reads names)."""
    folder = store.checkpoint_dir(run_id) / "epochs"
    folder.mkdir(parents=True)
    for n in epochs:
        (folder / f"epoch-{n:04d}.keras").write_bytes(b"")
        (folder / f"epoch-{n:04d}.json").write_text(json.dumps(
            {"epochs_done": n, "iterations": n * steps, "steps_per_epoch": steps}))


def family(ws):
    """A parent (3 epochs) and a branch after its epoch 2 with lr 0.0003 and one more epoch."""
    store = RunStore(ws)
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6}))
    spec = exp.run_dict()
    spec["training"]["epochs"] = 3
    parent = store.create_run(spec, "exp", 3, {"device": "CPU"})
    for e, acc in enumerate([0.3, 0.5, 0.6]):
        store.record_epoch(parent.id, e, {"val_accuracy": acc})
    store.set_status(parent.id, "finished")
    keep_epochs(store, parent.id, [1, 2, 3])
    child_spec = json.loads(json.dumps(spec))
    child_spec["training"]["optimizer"]["learning_rate"] = 0.0003
    child_spec["training"]["epochs"] = 4
    child = store.create_run(child_spec, "exp", 4, {"device": "CPU", "fork": {
        "parent": parent.id, "epoch": 2, "steer": ["training.epochs: 3 -> 4"]}})
    for e, acc in ((2, 0.65), (3, 0.7)):
        store.record_epoch(child.id, e, {"val_accuracy": acc})
    store.set_status(child.id, "finished")
    other = store.create_run(spec, "exp", 3, {"device": "CPU"})  # newest: listed first
    store.set_status(other.id, "stopped")
    return store, parent.id, child.id, other.id


def rows(view):
    table = view.table
    return [(table.item(r, 0).data(ID), table.item(r, 0).text(), table.row_depth(r))
            for r in range(table.rowCount())]


def column(view, title):
    return [view.table.horizontalHeaderItem(c).text()
            for c in range(view.table.columnCount())].index(title)


def test_runs_tree_curves_and_steer(qtbot, tmp_path):
    store, parent, child, other = family(tmp_path)
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    assert [(i, d) for i, _, d in rows(view)] == [(other, 0), (parent, 0), (child, 1)]
    assert rows(view)[2][1] == f"{BRANCH_MARK}exp"
    change = view.table.item(2, column(view, "What changed"))
    assert change.text() == "branch @2: epochs 4, lr 0.0003", change.text()
    assert f"Branched from run {parent} after epoch 2" in change.toolTip()
    for _ in range(2):  # sorted by name, either way: the branch stays under its parent
        view.table.horizontalHeader().sectionClicked.emit(column(view, "Status"))
        order = [i for i, _, _ in rows(view)]
        assert order.index(child) == order.index(parent) + 1
    view.select([parent, child])
    x, y = view.overlay_items[1].getData()
    assert list(x) == [2, 3, 4] and list(y) == [0.5, 0.65, 0.7]  # continues the parent's
    assert list(view.overlay_items[0].getData()[0]) == [1, 2, 3]
    assert view.overlay_items[1].name() == "branch @2: epochs 4, lr 0.0003"
    diff = view.diff_text.toPlainText()
    assert "training.optimizer.learning_rate: 0.001 -> 0.0003" in diff
    assert diff.startswith("exp  ->  branch @2: epochs 4, lr 0.0003"), diff


def test_branch_from_the_context_menu_emits_the_childs_spec(qtbot, tmp_path):
    store, parent, _, _ = family(tmp_path)
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    asked = []
    view.branch_requested.connect(lambda exp, fork: asked.append((exp, fork)))
    table = view.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).data(ID) == parent)
    table.customContextMenuRequested.emit(table.visualItemRect(table.item(row, 0)).center())
    action = view.context_menu.actions()[0]
    assert action.text() == "Branch from this run…" and action.isEnabled()
    action.trigger()
    dialog = view.steer_dialog
    assert dialog is not None and dialog.isVisible()
    assert [dialog.epoch_box.itemData(i) for i in range(dialog.epoch_box.count())] == [1, 2, 3]
    assert dialog.fork_epoch == 3  # the last kept by default
    assert dialog.more_box.minimum() == 1  # after the parent's last epoch: one more at least
    assert "then trains epochs 4 to 4" in dialog.steer_text.toPlainText()
    dialog.epoch_box.setCurrentIndex(1)
    dialog.rate_check.setChecked(True)
    dialog.rate_box.setValue(0.0005)
    dialog.schedule_box.setCurrentIndex(dialog.schedule_box.findData("cosine"))
    dialog.aug_box.setCurrentIndex(dialog.aug_box.findData(True))
    dialog.more_box.setValue(2)
    assert not dialog.unfreeze_box.isEnabled()  # no transfer base in this network
    steer = dialog.steer_text.toPlainText()
    assert "after epoch 2, then trains epochs 3 to 5" in steer
    assert "training.optimizer.learning_rate: 0.001 -> 0.0005" in steer
    assert "training.schedule.name: constant -> cosine" in steer
    qtbot.mouseClick(dialog.branch_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and len(asked) == 1
    exp, fork = asked[0]
    assert fork == f"{parent}@2"
    t = exp.training
    assert (t.optimizer.learning_rate, t.schedule.name, t.epochs) == (0.0005, "cosine", 5)
    assert [layer["type"] for layer in t.augmentation.layers] == ["RandomFlip",
                                                                 "RandomTranslation"]
    assert store.spec(parent)["training"]["epochs"] == 3  # the parent is never changed


def test_a_run_without_checkpoints_cannot_be_branched(qtbot, tmp_path):
    store, _, _, other = family(tmp_path)
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    view.select([other])
    assert view.branch_selected() is None
    assert f"Cannot branch run {other}: run {other} has no checkpoint" in view.message.text()


def test_a_paused_training_run_is_stopped_then_branched(qtbot, tmp_path):
    from cnnlab.train import RunStarted, Stopped
    from cnnlab.ui.views.steer_dialog import SteerDialog, branch_training_run
    from cnnlab.ui.views.training_view import TrainingView

    store, parent, _, _ = family(tmp_path)

    def paused_trainer(spec, sink, control, **_kwargs):
        sink(RunStarted(parent, str(store.run_dir(parent)), "CPU", "float32", 3, 4, params=1))
        while not control.stop_requested:  # a batch every 10 ms (a spin would starve the GUI)
            control.wait_if_paused()
            time.sleep(0.01)
        sink(Stopped(parent, 3))

    from cnnlab.spec import experiment_from_dict

    training = TrainingView(lambda: experiment_from_dict(store.spec(parent)), store,
                            trainer=paused_trainer)
    qtbot.addWidget(training)
    assert not branch_training_run(training, store, print)  # no run yet
    assert training.start()
    qtbot.waitUntil(lambda: training.run_id == parent, timeout=60_000)
    assert not training.branch_button.isEnabled()  # training: pause first
    training.toggle_pause()
    assert training.branch_button.isEnabled()
    asked = []
    training.branch_requested.connect(lambda: branch_training_run(
        training, store, lambda exp, fork: asked.append((exp, fork))))
    qtbot.mouseClick(training.branch_button, Qt.MouseButton.LeftButton)  # the view's Branch…
    qtbot.waitUntil(lambda: training.findChild(SteerDialog) is not None, timeout=60_000)
    dialog = training.findChild(SteerDialog)
    qtbot.waitUntil(lambda: not training.running, timeout=60_000)
    assert dialog.fork_epoch == 3  # the last complete epoch
    qtbot.mouseClick(dialog.branch_button, Qt.MouseButton.LeftButton)
    assert [fork for _exp, fork in asked] == [f"{parent}@3"]
    forks = []
    training._trainer = lambda spec, sink, control, **kw: forks.append(kw.get("fork"))
    assert training.start(experiment=asked[0][0], fork=asked[0][1])  # what the window does
    qtbot.waitUntil(lambda: not training.running, timeout=60_000)
    assert forks == [f"{parent}@3"]


@pytest.mark.slow
def test_branch_trains_for_real(qtbot, tmp_path, capsys):
    """The whole path with real training (~10 s); the default tests above cover the window's
    part and tests/core/test_fork.py the branch's training."""
    from cli_support import train_run
    from core.test_trainer_support import write_spec

    from cnnlab import run_training

    spec = write_spec(tmp_path / "p.json", samples=40, size=8, epochs=2, width=4)
    parent = train_run(spec, tmp_path / "ws")
    view = RunsView(RunStore(tmp_path / "ws"))
    qtbot.addWidget(view)
    outcomes = []
    view.branch_requested.connect(lambda exp, fork: outcomes.append(run_training(
        exp, lambda _event: None, workspace=tmp_path / "ws", fork=fork)))
    view.select([parent])
    dialog = view.branch_selected()
    dialog.rate_check.setChecked(True)
    dialog.more_box.setValue(1)
    qtbot.mouseClick(dialog.branch_button, Qt.MouseButton.LeftButton)
    assert outcomes and outcomes[0].status == "finished", outcomes
    view.refresh()
    child = outcomes[0].run_id
    assert [(i, d) for i, _, d in rows(view)] == [(parent, 0), (child, 1)]
    view.select([parent, child])
    x, y = view.overlay_items[1].getData()
    assert list(x) == [2, 3] and not math.isnan(y[0])
