"""The Export dialog's ONNX and LiteRT formats: verified with progress; a missing extra named."""

import dataclasses
import json
import sys

import pytest
from graphs import chain, trained_run

from cnnlab.ui.views.export_dialog import HINT, ExportDialog, with_format

WAIT = 60_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished run with Maxout and LRN (the lab's layers) briefly trained."""
    exp = chain((12, 12, 3), ("Conv2D", {"filters": 4, "activation": "relu"}),
                ("LocalResponseNormalization", {}), ("GlobalAveragePooling2D", {}),
                ("Maxout", {"units": 4, "pieces": 2}), ("Output", {"units": 6}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=12, samples=40)
    exp = dataclasses.replace(exp, name="lab net", data=dataclasses.replace(exp.data,
                                                                            shapes=shapes))
    store, record, _ = trained_run(tmp_path_factory.mktemp("runtime_ws"), exp, "lab net")
    return store.run_dir(record.id)


@pytest.fixture
def dialog(qtbot, run_dir):
    dialog = ExportDialog(run_dir, "lab net")
    qtbot.addWidget(dialog)
    yield dialog
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)


def test_file_names_follow_the_runtime_formats(tmp_path):
    assert with_format(tmp_path / "net.keras", "onnx").name == "net.onnx"
    assert with_format(tmp_path / "net.onnx", "litert").name == "net.tflite"
    assert with_format(tmp_path / "net.tflite", "savedmodel").name == "net_savedmodel"
    assert with_format(tmp_path / "net_savedmodel", "onnx").name == "net.onnx"


@pytest.mark.parametrize("fmt, suffix", [("onnx", ".onnx"), ("litert", ".tflite")])
def test_the_dialog_exports_and_verifies_a_runtime_format(qtbot, dialog, tmp_path, fmt,
                                                          suffix):
    dialog.set_format(fmt)
    assert dialog.path_edit.text().endswith(f"lab_net{suffix}")
    assert dialog.message.text() == HINT
    out = tmp_path / f"net{suffix}"
    dialog.path_edit.setText(str(out))
    stages = []
    dialog.worker.event.connect(lambda event: stages.append(event[0]))
    with qtbot.waitSignal(dialog.worker.finished, timeout=WAIT):
        assert dialog.export()
        assert not dialog.format_box.isEnabled()  # locked until the worker reports back
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    assert dialog.format_box.isEnabled()
    assert stages == ["converting", "verifying", "done"]
    assert dialog.progress.value() == 100
    result = dialog.result
    assert result is not None and result.format == fmt and result.path == out
    assert result.max_abs_diff <= 1e-5
    text = dialog.message.text()
    assert f"Exported ({fmt})" in text and str(out) in text and "max |difference|" in text
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["custom_layers"] == ["cnnlab>LocalResponseNormalization", "cnnlab>Maxout"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, f"{out.name}.manifest.json"]


@pytest.mark.parametrize("fmt, module", [("onnx", "onnxruntime"), ("litert", "ai_edge_litert")])
def test_a_missing_extra_is_named_in_the_dialog(qtbot, dialog, tmp_path, monkeypatch, fmt,
                                                module):
    monkeypatch.setitem(sys.modules, module, None)  # how Python marks "not importable"
    dialog.set_format(fmt)
    text = dialog.message.text()
    assert text.startswith(f"The {'ONNX' if fmt == 'onnx' else 'LiteRT'} export needs the "
                           f"{fmt} extra") and f'pip install "cnnlab[{fmt}]"' in text
    assert "\n" not in text and "b00020" in dialog.message.styleSheet()
    dialog.path_edit.setText(str(tmp_path / "net.onnx"))
    assert not dialog.export()
    assert not dialog.busy() and dialog.message.text() == text
    assert list(tmp_path.iterdir()) == []
    dialog.set_format("keras")
    assert dialog.message.text() == HINT and dialog.message.styleSheet() == ""
