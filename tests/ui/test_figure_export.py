"""File ▸ Export Network Figure…: the canvas as SVG, PDF and PNG, written by Qt, offscreen.

The save dialog is replaced by its answer (a path and the chosen filter); the
rest is the real path: the menu action, the canvas items painting themselves,
Qt's writers and the atomic write.
"""

import re
import xml.etree.ElementTree as ET

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtGui import QImage

from cnnlab.spec import experiment_from_dict
from cnnlab.spec.module_library import TEMPLATES
from cnnlab.ui import figure_export

SVG_TEXT = "{http://www.w3.org/2000/svg}text"


@pytest.fixture
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def answer_dialog(monkeypatch, path, chosen="SVG drawing (*.svg)"):
    """The save dialog answers ``path`` with the filter ``chosen``; returns the captions."""
    asked = []

    def dialog(_parent, caption, suggestion, filters):
        asked.append((caption, suggestion, filters))
        return str(path), chosen

    monkeypatch.setattr(figure_export.QFileDialog, "getSaveFileName", dialog)
    return asked


def export_from_menu(window, monkeypatch, path, chosen="SVG drawing (*.svg)"):
    asked = answer_dialog(monkeypatch, path, chosen)
    window.menus.actions["export_figure"].trigger()
    return asked


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()  # parses as XML
    return ["".join(t.itertext()).strip() for t in root.iter(SVG_TEXT)]


def test_svg_pdf_and_png_from_the_file_menu(qtbot, monkeypatch, recorder, tmp_path):
    window = make_window(qtbot)
    rect = figure_export.figure_rect(window.scene)
    for suffix in (".svg", ".pdf", ".png"):
        asked = export_from_menu(window, monkeypatch, tmp_path / f"net{suffix}")
        assert asked and "SVG" in asked[0][2] and "PDF" in asked[0][2] and "PNG" in asked[0][2]
        assert (tmp_path / f"net{suffix}").stat().st_size > 1000
    texts = svg_texts(tmp_path / "net.svg")
    conv1 = window.scene.blocks["conv1"]
    assert conv1.shown_title() == "Conv2D" and "Conv2D" in texts and "conv1" in texts
    assert conv1.look.shape in texts and "32 3x3 relu" in texts  # shape and parameters
    pdf = (tmp_path / "net.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    box = [float(v) for v in re.search(rb"/MediaBox \[([^\]]*)\]", pdf).group(1).split()]
    assert box[2] / box[3] == pytest.approx(rect.width() / rect.height(), rel=0.01)
    image = QImage(str(tmp_path / "net.png"))
    assert not image.isNull() and image.width() > rect.width()  # sharper than the screen
    assert image.width() / image.height() == pytest.approx(rect.width() / rect.height(),
                                                           rel=0.01)
    assert "net.png" in window.statusBar().currentMessage()
    assert not recorder.errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.pdf", "net.png", "net.svg"]


def _residual_experiment():
    return experiment_from_dict({"name": "res", "model": {
        "nodes": [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 8]}},
                  {"id": "block1", "type": "residual", "params": {"filters": 8}},
                  {"id": "gap", "type": "GlobalAveragePooling2D"},
                  {"id": "output", "type": "Output", "params": {"units": 3}}],
        "edges": [{"src": "input", "dst": "block1"}, {"src": "block1", "dst": "gap"},
                  {"src": "gap", "dst": "output"}],
        "modules": {"residual": TEMPLATES["residual"]}}})


def test_modules_are_drawn_collapsed_or_expanded_as_displayed(qtbot, monkeypatch, recorder,
                                                              tmp_path):
    window = make_window(qtbot, _residual_experiment())
    export_from_menu(window, monkeypatch, tmp_path / "collapsed.svg")
    collapsed = svg_texts(tmp_path / "collapsed.svg")
    assert window.scene.blocks["block1"].shown_title() in collapsed
    assert "BatchNormalization" not in collapsed and "▾  block1" not in collapsed
    window.editor.fold("block1", False)
    export_from_menu(window, monkeypatch, tmp_path / "expanded.svg")
    expanded = svg_texts(tmp_path / "expanded.svg")
    inner = [window.scene.blocks[f"block1_{i}"] for i in ("conv1", "bn1", "add")]
    assert [b.look.ident for b in inner] == ["conv1", "bn1", "add"]  # as the cards show them
    assert all(b.look.ident in expanded and b.shown_title() in expanded for b in inner)
    assert "▾  block1" in expanded and "module residual" in expanded  # the module's frame
    assert not recorder.errors


def test_a_file_is_replaced_only_when_the_user_agrees(qtbot, monkeypatch, recorder, tmp_path):
    window = make_window(qtbot)
    kept = tmp_path / "net.png"
    kept.write_bytes(b"mine")
    recorder.answer = False  # "net" + the PNG filter names a file the dialog did not confirm
    export_from_menu(window, monkeypatch, tmp_path / "net", "PNG image (*.png)")
    assert kept.read_bytes() == b"mine" and len(recorder.questions) == 1
    recorder.answer = True
    export_from_menu(window, monkeypatch, tmp_path / "net", "PNG image (*.png)")
    assert not QImage(str(kept)).isNull()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.png"]  # no temp file left


def test_an_unknown_type_is_one_readable_line(qtbot, recorder, tmp_path):
    window = make_window(qtbot)
    assert figure_export.export_network_figure(window, tmp_path / "net.bmp") is None
    ((title, text),) = recorder.errors
    assert title == "Cannot export the figure" and "\n" not in text
    assert "net.bmp" in text and ".svg, .pdf or .png" in text
    assert not list(tmp_path.iterdir())
