import math

from graphs import chain
from PySide6.QtCore import Qt

from cnnlab.runs import RunStore
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
    view = RunsView(RunStore(tmp_path))
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
    view = RunsView(RunStore(tmp_path))
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
    view = RunsView(RunStore(tmp_path))
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


def _column(view, title):
    return [view.table.horizontalHeaderItem(c).text()
            for c in range(view.table.columnCount())].index(title)


def test_runs_table_shows_test_accuracy_and_reproducibility(qtbot, tmp_path, capsys):
    import json

    from cnnlab.cli import main

    spec = {"name": "tested", "model": {
        "nodes": [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 3]}},
                  {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 3}},
                  {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
                  {"id": "output", "type": "Output", "params": {"units": 3}}],
        "edges": [{"src": "input", "dst": "conv"}, {"src": "conv", "dst": "gap"},
                  {"src": "gap", "dst": "output"}]},
        "data": {"source": "shapes", "test_split": 0.2,
                 "shapes": {"image_size": 16, "samples": 100,
                            "classes": ["circle", "square", "cross"]}},
        "training": {"epochs": 1, "batch_size": 16, "deterministic": True}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    ws = tmp_path / "ws"
    assert main(["train", str(tmp_path / "spec.json"), "--workspace", str(ws), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    view = RunsView(RunStore(ws))
    qtbot.addWidget(view)
    test_cell = view.table.item(0, _column(view, "Test acc"))
    assert test_cell.text() == f"{result['metrics']['test_accuracy']:.4f}"
    assert f"test loss {result['metrics']['test_loss']:.4f}" in test_cell.toolTip()
    assert view.table.item(0, _column(view, "Reproducible")).text() == "yes"


def test_runs_view_indexes_a_folder_a_killed_run_left(qtbot, tmp_path):
    import json

    store, ids = fill_store(tmp_path)
    orphan = store.runs_dir / "20261201-120000-abcd"  # spec.json written, never indexed
    orphan.mkdir()
    (orphan / "spec.json").write_text(json.dumps(store.spec(ids[0])))
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    assert view.table.rowCount() == 3
    assert "run 20261201-120000-abcd was missing from the index" in view.message.text()
    row = next(r for r in range(3) if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
               == orphan.name)
    assert view.table.item(row, _column(view, "Status")).text() == "interrupted"
    assert view.table.item(row, _column(view, "Test acc")).text() == "-"


_VIEW = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from cnnlab.runs import open_store
from cnnlab.ui.views.runs_view import RunsView
view = RunsView(open_store(sys.argv[1]))
print(view.store.read_only, view.table.rowCount(), view.message.text())
"""


def test_runs_view_on_a_read_only_workspace(tmp_path):
    """The window on a read-only bind mount (EROFS even for root): it lists, read-only."""
    import shutil
    import subprocess
    import sys

    import pytest

    fill_store(tmp_path / "ws")
    ws = tmp_path / "ws"
    mount = f'mount --bind "{ws}" "{ws}" && mount -o remount,bind,ro "{ws}" && exec "$@"'
    command = ["unshare", "-rm", "sh", "-c", mount, "sh", sys.executable, "-c", _VIEW, str(ws)]
    if not shutil.which("unshare") or subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no unshare for a read-only bind mount here")
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("True 2 This workspace is read-only: runs can be viewed and "
                                  "exported, not changed.")
