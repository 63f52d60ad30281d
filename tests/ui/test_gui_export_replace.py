"""The export dialog asks before replacing and never replaces a foreign folder."""

import dataclasses

import pytest
from builder_helpers import DialogRecorder
from graphs import chain, trained_run

from cnnlab.ui.views.export_dialog import ExportDialog

WAIT = 60_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=60)
    exp = dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes))
    store, record, _ = trained_run(tmp_path_factory.mktemp("ws"), exp, "tiny", epochs=1)
    return store.run_dir(record.id)


@pytest.fixture
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def make_dialog(qtbot, run_dir, fmt, out):
    dialog = ExportDialog(run_dir, "tiny")
    qtbot.addWidget(dialog)
    dialog.set_format(fmt)
    dialog.path_edit.setText(str(out))
    return dialog


def test_an_existing_file_is_replaced_only_after_yes(qtbot, run_dir, tmp_path, recorder):
    out = tmp_path / "net.keras"
    out.write_text("precious")
    dialog = make_dialog(qtbot, run_dir, "keras", out)
    recorder.answer = False
    assert not dialog.export()
    assert recorder.questions and str(out) in recorder.questions[-1]
    assert out.read_text() == "precious" and "Nothing was replaced" in dialog.message.text()
    recorder.answer = True
    with qtbot.waitSignal(dialog.worker.finished, timeout=WAIT):
        assert dialog.export()
    assert dialog.result is not None and out.read_bytes()[:2] == b"PK"


def test_a_foreign_folder_is_refused_without_asking(qtbot, run_dir, tmp_path, recorder):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"precious")
    dialog = make_dialog(qtbot, run_dir, "savedmodel", folder)
    assert not dialog.export()
    assert recorder.questions == []
    assert "not a SavedModel exported by the lab" in dialog.message.text()
    assert [p.name for p in folder.iterdir()] == ["a.jpg"]
