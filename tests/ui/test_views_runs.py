import math

from graphs import chain

from cnnlab.train.store import RunStore
from cnnlab.ui.views.runs_view import RunsView


def fill_store(ws):
    store = RunStore(ws)
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6}))
    spec_a = exp.run_dict()
    spec_b = exp.run_dict()
    spec_b["training"]["optimizer"]["learning_rate"] = 0.01
    ids = []
    for name, spec, accs, params in (("alpha", spec_a, [0.3, 0.5, 0.6], 1000),
                                     ("beta", spec_b, [0.2, math.nan, 0.7], 5000)):
        rec = store.create_run(spec, name, 3, {"device": "CPU"}, label="tiny", params=params,
                               macs=params * 10)
        for e, acc in enumerate(accs):
            store.record_epoch(rec.id, e, {"val_accuracy": acc, "loss": 1.0 / (e + 1)})
        store.set_status(rec.id, "finished")
        ids.append(rec.id)
    return store, ids


def test_runs_view_lists_overlays_and_diffs(qtbot, tmp_path):
    store, ids = fill_store(tmp_path)
    view = RunsView(tmp_path)
    qtbot.addWidget(view)
    assert view.table.rowCount() == 2
    names = {view.table.item(r, 0).text() for r in range(2)}
    assert names == {"alpha", "beta"}
    view.select(ids)
    assert len(view.overlay_items) == 2
    _, y = view.overlay_items[1].getData()
    assert len(y) == 3
    assert "training.optimizer.learning_rate" in view.diff_text.toPlainText()
    assert len(view.scatter_points) == 2
    view.metric_box.setCurrentText("loss")
    assert view.overlay_items[0].getData()[1][1] == 0.5


def test_runs_view_manage(qtbot, tmp_path):
    store, ids = fill_store(tmp_path)
    view = RunsView(tmp_path)
    qtbot.addWidget(view)
    assert view.rename(ids[0], "renamed")
    assert store.get(ids[0]).name == "renamed"
    assert view.add_tags(ids[0], ["good"])
    assert "good" in store.get(ids[0]).tags
    view.filter_edit.setText("good")
    assert view.table.rowCount() == 1
    view.filter_edit.setText("")
    assert not view.rename(ids[0], "  ")
    assert "empty" in view.message.text()
    assert view.delete([ids[1]])
    assert view.table.rowCount() == 1


def test_runs_view_open_and_resume(qtbot, tmp_path):
    store, ids = fill_store(tmp_path)
    store.set_status(ids[0], "interrupted")
    view = RunsView(tmp_path)
    qtbot.addWidget(view)
    view.select([ids[0]])
    with qtbot.waitSignal(view.open_experiment) as blocker:
        view.open_selected()
    assert blocker.args[0].model.nodes
    with qtbot.waitSignal(view.resume_requested) as blocker:
        view.resume_selected()
    assert blocker.args == [ids[0]]
    view.select([ids[1]])
    view.resume_selected()
    assert "finished" in view.message.text()
