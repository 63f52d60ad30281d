"""Issue 14: each run is named by what changed (table, legend, diff) and the Architecture
column says what the network is."""

import copy

from graphs import chain
from PySide6.QtCore import Qt

from cnnlab.runs import RunStore
from cnnlab.ui.views.runs_view import RunsView

NAME = "Small CNN on shapes"
ID = Qt.ItemDataRole.UserRole  # the run id in the first column


def _spec() -> dict:
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 16}),
                ("Dense", {"units": 6}), name=NAME)
    return exp.run_dict()


def _with_conv4(spec: dict) -> dict:
    out = copy.deepcopy(spec)
    nodes = out["model"]["nodes"]
    nodes.insert(2, {"id": "conv4", "type": "Conv2D", "params": {"filters": 4,
                                                                  "kernel_size": 3}})
    out["model"]["edges"] = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return out


def fill(ws) -> list[str]:
    """Four runs: the first, lr 0.01, then +conv4 of one experiment; one of another."""
    store = RunStore(ws)
    first = _spec()
    faster = copy.deepcopy(first)
    faster["training"]["optimizer"]["learning_rate"] = 0.01
    other = copy.deepcopy(first)
    other["name"] = "VGG try"
    ids = []
    for spec in (first, faster, _with_conv4(faster), other):
        rec = store.create_run(spec, "", 2, {"device": "CPU"}, params=1234)
        for epoch in range(2):
            store.record_epoch(rec.id, epoch, {"val_accuracy": 0.4 + epoch / 10})
        store.set_status(rec.id, "finished")
        ids.append(rec.id)
    return ids


def _column(view, title: str) -> int:
    return [view.table.horizontalHeaderItem(c).text()
            for c in range(view.table.columnCount())].index(title)


def _cells(view, title: str) -> dict[str, str]:
    col = _column(view, title)
    return {view.table.item(r, 0).data(ID): view.table.item(r, col).text()
            for r in range(view.table.rowCount())}


def test_table_says_what_changed_and_what_the_network_is(qtbot, tmp_path):
    first, faster, deeper, other = fill(tmp_path)
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    assert set(_cells(view, "Name").values()) == {NAME, "VGG try"}  # the experiment's name
    changes = _cells(view, "What changed")
    assert changes == {first: "first run", faster: "lr 0.01", deeper: "+conv4",
                       other: "first run"}
    row = next(r for r in range(4) if view.table.item(r, 0).data(ID) == faster)
    tip = view.table.item(row, _column(view, "What changed")).toolTip()
    assert first in tip and "training.optimizer.learning_rate: 0.001 -> 0.01" in tip
    archs = _cells(view, "Architecture")
    assert archs[first] == "1 conv, 2 dense" and archs[deeper] == "2 conv, 2 dense"
    view.filter_edit.setText("conv4")  # the filter finds runs by their change too
    assert list(_cells(view, "Name")) == [deeper]


def test_legend_and_diff_use_the_labels(qtbot, tmp_path):
    first, faster, deeper, other = fill(tmp_path)
    view = RunsView(RunStore(tmp_path))
    qtbot.addWidget(view)
    view.select([first, faster, deeper])
    assert {item.name() for item in view.overlay_items} == {NAME, "lr 0.01", "+conv4"}
    view.select([deeper, faster])
    text = view.diff_text.toPlainText()
    assert text.splitlines()[0] == "lr 0.01  ->  +conv4"  # the older run first
    assert "+ block conv4 (Conv2D)" in text
    view.select([faster, other])  # two experiments: each label says which
    assert sorted(item.name() for item in view.overlay_items) == [
        f"{NAME}: lr 0.01", "VGG try"]
