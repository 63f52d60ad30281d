"""Pure parts of the builder (ids, layout, visible graph, parsing) and small window parts."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from builder_helpers import DialogRecorder, make_window
from nets import resnet
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from cnnlab import BLOCKS, Param
from cnnlab.diagram.layout import COL, layered_layout
from cnnlab.diagram.visible import visible_graph
from cnnlab.spec.edit import with_ui
from cnnlab.spec.ids import new_id, next_ids
from cnnlab.ui import crash
from cnnlab.ui.param_widgets import parse_text
from cnnlab.ui.tf_loader import TensorFlowLoader


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_new_ids_are_readable_and_unique():
    assert new_id("Conv2D", {"conv1", "conv2", "conv3", "pool1"}) == "conv4"
    assert new_id("MaxPooling2D", {"pool1", "pool2"}) == "pool3"
    assert new_id("Add", set()) == "add1"
    assert new_id("bottleneck_proj", {"bottleneck_proj1"}) == "bottleneck_proj2"
    assert next_ids("Dense", {"fc1"}, 2) == ["fc2", "fc3"]


def test_layout_keeps_main_chain_straight_and_branches_beside():
    ids = ["in", "c1", "c2", "c3", "proj", "add", "out"]
    edges = [("in", "c1"), ("c1", "c2"), ("c2", "c3"), ("c3", "add"), ("in", "proj"),
             ("proj", "add"), ("add", "out")]
    pos = layered_layout(ids, edges)
    main = {pos[i][0] for i in ("in", "c1", "c2", "c3", "add", "out")}
    assert main == {0.0}
    assert pos["proj"][0] == COL and pos["proj"][1] == pos["c1"][1]
    ys = [pos[i][1] for i in ("in", "c1", "c2", "c3", "add", "out")]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_layout_spreads_inception_branches_without_overlap():
    ids = ["in", "b1", "r3", "b3", "r5", "b5", "pool", "pp", "cat"]
    edges = [("in", "b1"), ("in", "r3"), ("r3", "b3"), ("in", "r5"), ("r5", "b5"),
             ("in", "pool"), ("pool", "pp"), ("b1", "cat"), ("b3", "cat"), ("b5", "cat"),
             ("pp", "cat")]
    pos = layered_layout(ids, edges)
    row1 = sorted(pos[i][0] for i in ("b1", "r3", "r5", "pool"))
    assert all(b - a >= COL for a, b in zip(row1, row1[1:]))
    assert pos["cat"][0] == pos["in"][0] == 0.0


def test_visible_graph_collapses_and_expands_modules():
    exp = resnet(50)
    from cnnlab.diagram.arrange import ensure_positions

    exp = ensure_positions(exp)
    graph = visible_graph(exp)
    modules = [n for n in graph.nodes.values() if n.kind == "module"]
    assert len(modules) == 16
    from cnnlab import analyze

    analysed = {layer.id for layer in analyze(exp.model).layers}
    assert all(n.flat_id in analysed for n in modules)  # each shows its output block
    assert None not in {e.top for e in graph.edges}  # every arrow is a spec connection
    opened = visible_graph(with_ui(exp, folded=[]))
    assert len(opened.groups) == 16 and all(n.kind != "module" for n in opened.nodes.values())
    assert sum(e.top is None for e in opened.edges) > 0  # arrows inside the modules


def test_parse_text_for_pairs_lists_and_optionals():
    pair = Param("kernel_size", "int_or_pair", 3, "k", min=1)
    assert parse_text(pair, "5") == 5
    assert parse_text(pair, "5, 3") == [5, 3]
    assert parse_text(pair, "5x3") == [5, 3]
    shape = Param("shape", "int_list", [32, 32, 3], "s", min=1)
    assert parse_text(shape, "64 × 64 × 1") == [64, 64, 1]
    optional = Param("kernel_l2", "float", None, "l2", min=0, optional=True)
    assert parse_text(optional, "") is None
    pad = Param("padding", "padding", "valid", "p", min=0)
    assert parse_text(pad, "same") == "same" and parse_text(pad, "2") == 2
    with pytest.raises(ValueError):
        parse_text(pair, "three")


def test_palette_is_grouped_and_searchable(qtbot):
    window = make_window(qtbot)
    palette = window.palette
    groups = [palette.tree.topLevelItem(i).text(0)
              for i in range(palette.tree.topLevelItemCount())]
    for name in ("Input/Output", "Convolution", "Pooling", "Activation", "Normalization",
                 "Regularization", "Merge", "Reshape", "Modules"):
        assert name in groups
    palette.search.setText("pool")
    shown = palette.visible_types()
    assert "MaxPooling2D" in shown and "Conv2D" not in shown
    palette.search.setText("")
    conv = palette.tree.findItems("Conv2D", Qt.MatchFlag.MatchExactly
                                  | Qt.MatchFlag.MatchRecursive)
    assert conv[0].toolTip(0) == BLOCKS["Conv2D"].help


def test_palette_double_click_adds_connected_block(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv3"])
    window.palette.activated.emit("Dropout")
    assert "drop1" in window.doc.experiment.model.ids()
    assert any(e.src == "conv3" and e.dst == "drop1" for e in window.doc.experiment.model.edges)


def test_shortcuts_and_view_tabs(qtbot):
    window = make_window(qtbot)
    keys = {name: [s.toString() for s in a.shortcuts()]
            for name, a in window.menus.actions.items()}
    assert "Del" in keys["delete"] and "Ctrl+C" in keys["copy"] and "Ctrl+V" in keys["paste"]
    assert "Ctrl+D" in keys["duplicate"] and "Ctrl+Z" in keys["undo"]
    assert "Ctrl+Shift+Z" in keys["redo"] and "F" in keys["fit"]
    assert "Ctrl+S" in keys["save"] and "Ctrl+O" in keys["open"] and "Ctrl+N" in keys["new"]
    index = window.add_view("Training", QLabel("training"))
    assert window.tabs.tabText(index) == "Training" and window.tabs.count() == 2
    assert window.show_view("Training") and window.tabs.currentIndex() == index


def test_uncaught_exception_becomes_a_message(recorder, monkeypatch):
    logged = []
    monkeypatch.setattr(crash.log, "error", lambda *a: logged.append(a))
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError as exc:
        crash.excepthook(type(exc), exc, exc.__traceback__)
    assert logged and "ZeroDivisionError" in recorder.errors[-1][1]


def test_tensorflow_loader_reports_ready(qtbot, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(__version__="2.21.0"))
    loader = TensorFlowLoader()
    assert loader.label() == "TensorFlow: not loaded"
    with qtbot.waitSignal(loader.stateChanged, timeout=5000,
                          check_params_cb=lambda s: s == "ready"):
        loader.start()
    assert loader.label() == "TensorFlow: ready 2.21"


def test_python_m_cnnlab_ui_paints_before_tensorflow(tmp_path):
    env = {"CNNLAB_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin"}
    proc = subprocess.run([sys.executable, "-m", "cnnlab.ui", "--startup-probe"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "first_paint" in proc.stdout and "tensorflow_imported=False" in proc.stdout


def test_bad_file_on_the_command_line_opens_the_default_with_a_message(tmp_path):
    from cnnlab.ui.app import initial_document, parse_args

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    args = parse_args([str(bad), "--no-tensorflow"])
    assert args.file == str(bad) and args.no_tensorflow and not args.startup_probe
    exp, path, error = initial_document(args.file)
    assert path is None and exp.model.ids() and "not valid JSON" in error
