"""Export of a run, File > Import of a model file, and a dropped image folder as data."""

import dataclasses
import json
import re
import zipfile
from pathlib import Path

import pytest
from builder_helpers import DialogRecorder, drop_block, make_window
from graphs import chain, trained_run
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from cnnlab.runs import RunStore
from cnnlab.ui import model_import
from cnnlab.ui.canvas.view import block_mime
from cnnlab.ui.views.export_dialog import ExportDialog, default_target, with_format
from cnnlab.ui.views.runs_view import RunsView

WAIT = 60_000


def tiny_experiment():
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=60)
    return dataclasses.replace(exp, name="tiny net",
                               data=dataclasses.replace(exp.data, shapes=shapes))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A workspace with a finished run (a briefly trained model.keras) and one without a model."""
    ws = tmp_path_factory.mktemp("export_ws")
    exp = tiny_experiment()
    store, record, _ = trained_run(ws, exp, "tiny net", epochs=1)
    empty = store.create_run(exp.run_dict(), "no model", 1, {"device": "CPU"})
    store.set_status(empty.id, "failed", "stopped before the first epoch")
    return ws, record.id, empty.id, store.run_dir(record.id)


@pytest.fixture
def runs_view(qtbot, run):
    view = RunsView(RunStore(run[0]))
    qtbot.addWidget(view)
    yield view
    dialog = view.export_dialog
    if dialog is not None:
        qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)


def test_default_names_follow_the_format(tmp_path):
    target = default_target(tmp_path, "My run #2", "keras")
    assert target == tmp_path / "my_run_2.keras"
    assert default_target(tmp_path, "model", "keras").name == "model_export.keras"
    assert with_format(target, "savedmodel").name == "my_run_2_savedmodel"
    assert with_format(with_format(target, "savedmodel"), "h5").name == "my_run_2.h5"
    assert with_format(target, "python").name == "my_run_2.py"


def test_export_enabled_only_for_one_run_with_a_model(qtbot, runs_view, run):
    _ws, good, empty, _dir = run
    view = runs_view
    assert not view.export_button.isEnabled()
    view.select([good, empty])
    assert not view.export_button.isEnabled()
    view.select([empty])
    assert not view.export_button.isEnabled()
    assert view.export_selected() is None
    assert "trained model" in view.message.text()
    view.select([good])
    assert view.export_button.isEnabled()


def export_and_wait(qtbot, dialog: ExportDialog) -> None:
    seen = []
    dialog.worker.event.connect(seen.append)
    with qtbot.waitSignal(dialog.worker.finished, timeout=WAIT):
        assert dialog.export()
    assert not dialog.export_button.isEnabled() or not dialog.busy()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    return seen


@pytest.mark.parametrize("fmt", ["keras", "savedmodel"])
def test_export_dialog_exports_and_names_the_files(qtbot, runs_view, run, tmp_path, fmt):
    view = runs_view
    view.select([run[1]])
    dialog = view.export_selected()
    assert dialog.isVisible()
    assert Path(dialog.path_edit.text()).parent == run[3]
    dialog.set_format(fmt)
    out = tmp_path / ("net.keras" if fmt == "keras" else "net_savedmodel")
    dialog.path_edit.setText(str(out))
    seen = export_and_wait(qtbot, dialog)
    assert [s for s, _f in seen][-1] == "done"
    assert dialog.progress.value() == 100
    result = dialog.result
    assert result is not None and result.path == out and out.exists()
    assert result.manifest_path.is_file()
    text = dialog.message.text()
    assert str(out) in text and str(result.manifest_path) in text
    assert "max |difference|" in text
    assert dialog.format_box.isEnabled()


def test_export_failure_shows_the_message_and_keeps_the_old_file(qtbot, runs_view, run,
                                                                 tmp_path):
    view = runs_view
    view.select([run[1]])
    dialog = view.export_selected()
    dialog.set_format("h5")
    dialog.path_edit.setText(str(tmp_path / "wrong.txt"))
    export_and_wait(qtbot, dialog)
    assert dialog.result is None
    assert "must end in .h5" in dialog.message.text()
    assert "Nothing was replaced" in dialog.message.text()
    dialog.path_edit.setText(str(run[3] / "model.keras"))
    assert not dialog.export()
    assert "own model" in dialog.message.text()


def test_export_of_a_damaged_run_shows_the_run_error(qtbot, run, tmp_path):
    bad = tmp_path / "run"
    bad.mkdir()
    (bad / "model.keras").write_bytes(b"not a zip")
    dialog = ExportDialog(bad, "broken")
    qtbot.addWidget(dialog)
    dialog.path_edit.setText(str(tmp_path / "out.keras"))
    export_and_wait(qtbot, dialog)
    assert "Export failed" in dialog.message.text()
    assert "spec.json" in dialog.message.text()
    assert not (tmp_path / "out.keras").exists()


# -- File > Import… -------------------------------------------------------------------------

@pytest.fixture
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A small trained-shape .keras model and a hostile copy whose config has a Lambda layer."""
    from cnnlab import build_model

    folder = tmp_path_factory.mktemp("models")
    good = folder / "small.keras"
    build_model(tiny_experiment()).save(good)
    hostile = folder / "hostile.keras"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(hostile, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "config.json":
                config = json.loads(data)
                layer = config["config"]["layers"][1]
                layer["class_name"] = "Lambda"
                layer["config"] = {"name": layer["config"]["name"], "function": {
                    "class_name": "__lambda__", "config": {"code": "print('pwned')"}}}
                data = json.dumps(config).encode()
            zout.writestr(info.filename, data)
    truncated = folder / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:300])
    return good, hostile, truncated


def import_and_wait(qtbot, window, path) -> None:
    importer = window.files.importer
    with qtbot.waitSignal(importer.worker.finished, timeout=WAIT):
        assert window.files.import_model(path)
    assert not window.menus.actions["import"].isEnabled() or not importer.busy()
    qtbot.waitUntil(lambda: window.menus.actions["import"].isEnabled(), timeout=WAIT)


def test_import_opens_a_new_unsaved_document_and_reports(qtbot, recorder, model_files):
    window = make_window(qtbot)
    window.editor.edit_params("conv1", {"filters": 20})
    assert window.doc.dirty
    recorder.save_answer = "cancel"
    assert not window.files.import_model(model_files[0])
    recorder.save_answer = "discard"
    import_and_wait(qtbot, window, model_files[0])
    assert window.doc.path is None and window.doc.dirty
    exp = window.doc.experiment
    assert "small.keras" in exp.description
    assert any(n.type == "Conv2D" for n in exp.model.nodes)
    assert len(window.scene.blocks) >= 3
    title, text = recorder.infos[-1]
    assert title == "Model imported"
    assert "imported" in text and "base source “file”" in text and str(model_files[0]) in text
    assert recorder.errors == []


def test_imported_batch_norm_total_adds_up_to_keras_count(qtbot, recorder, tmp_path):
    """Learned parameters + batch-norm state = Keras's count_params(), in the report and
    the summary footer, for a real Keras model with BatchNormalization."""
    import keras

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(6, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "bn.keras"
    model.save(path)
    keras_count = model.count_params()  # 3*3*3*8+8 + 4*8 (2 of them state) + 8*6+6
    state = 2 * 8  # the moving mean and variance of 8 channels
    window = make_window(qtbot)
    import_and_wait(qtbot, window, path)
    _title, text = recorder.infos[-1]
    assert (f"parameters: {keras_count - state:,} learned + {state:,} batch-norm state = "
            f"{keras_count:,} (Keras's count)") in text
    summary = window.summary.summary
    footer = [[summary.data(summary.index(row, col)) for col in (0, 3)]
              for row in range(summary.rowCount() - 3, summary.rowCount())]
    assert footer == [["Total learned", f"{keras_count - state:,}"],
                      ["+ batch-norm state", f"{state:,}"],
                      ["= Keras's count", f"{keras_count:,}"]]


@pytest.mark.parametrize("which, words", [(1, "Lambda"), (2, "truncated.keras")])
def test_refused_import_keeps_the_document(qtbot, recorder, model_files, which, words):
    window = make_window(qtbot)
    before = window.doc.experiment
    import_and_wait(qtbot, window, model_files[which])
    assert window.doc.experiment is before and not window.doc.dirty
    assert recorder.infos == []
    title, text = recorder.errors[-1]
    assert title == "Cannot import the model"
    assert words in text and "Traceback" not in text


def test_import_asks_for_a_file_through_the_menu(qtbot, recorder, monkeypatch, model_files):
    window = make_window(qtbot)
    asked = []
    monkeypatch.setattr(model_import, "ask_model_path", lambda _w, d: asked.append(d))
    window.menus.actions["import"].trigger()
    assert asked and not window.files.importer.busy()


# -- a dropped image folder ------------------------------------------------------------------

@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """Two classes of PNGs, one corrupt file, one class without images."""
    import numpy as np
    import tensorflow as tf

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (root / name).mkdir()
        for i in range(4):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            (root / name / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("no images here")
    return root


def folder_mime(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def send_drag(widget, mime: QMimeData) -> QDropEvent:
    """Drag enter, move and drop ``mime`` at the middle of ``widget``; return the drop."""
    pos = widget.rect().center()
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDragMoveEvent(pos, actions, mime, buttons, mods))
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(widget, drop)
    return drop


def lab(qtbot):
    """A shown main window not owned by qtbot (closed after its background jobs end)."""
    from cnnlab import default_experiment
    from cnnlab.ui.main_window import MainWindow

    window = MainWindow(default_experiment())
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    return window


def settle(qtbot, window) -> None:
    """Let debounced previews start, wait for every background job, then close the window."""
    from cnnlab.ui.views.worker import Worker

    qtbot.wait(400)
    workers = window.findChildren(Worker)
    assert workers
    qtbot.waitUntil(lambda: not any(w.running for w in workers), timeout=WAIT)
    window.close()
    window.scene.blockSignals(True)  # the Inspect view follows the selection until deleted
    window.deleteLater()


@pytest.fixture
def lab_window(qtbot, tmp_path, recorder):
    from cnnlab.ui.views import install_views

    window = lab(qtbot)
    views = install_views(window, RunStore(tmp_path))
    yield window, views
    settle(qtbot, window)


def test_dropped_folder_on_the_canvas_becomes_the_data(qtbot, lab_window, image_folder):
    window, views = lab_window
    panel = views["Recipe"].data_panel
    drop = send_drag(window.view.viewport(), folder_mime(image_folder))
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert window.tabs.currentWidget() is views["Recipe"]
    qtbot.waitUntil(lambda: window.doc.experiment.data.source == "folder", timeout=WAIT)
    assert window.doc.experiment.data.path == str(image_folder)
    assert window.doc.undo_stack.undoText() == "Use image folder images0"
    report = panel.report.toPlainText()
    assert "3 classes, 8 usable images" in report
    assert "dogs/broken.png: corrupt image" in report
    assert "empty/notes.txt: not an image" in report
    assert "Classes without usable images: empty" in report
    assert panel.check_button.isEnabled()
    window.doc.undo_stack.undo()
    assert window.doc.experiment.data.source == "shapes"
    assert not panel.check_button.isEnabled()


def test_palette_drops_and_file_drags_still_go_to_the_canvas(qtbot, lab_window,
                                                            image_folder):
    window, _views = lab_window
    before = set(window.doc.experiment.model.ids())
    drop_block(window, "Dropout", QPointF(600, 100))
    assert len(set(window.doc.experiment.model.ids()) - before) == 1
    for mime in (folder_mime(image_folder / "cats" / "0.png"), block_mime("Dropout")):
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(window, enter)
        assert not enter.isAccepted()
    assert window.doc.experiment.data.source == "shapes"


def test_folder_without_classes_is_reported_not_used(qtbot, lab_window, tmp_path):
    window, views = lab_window
    panel = views["Recipe"].data_panel
    flat = tmp_path / "flat"
    flat.mkdir()
    send_drag(window, folder_mime(flat))
    qtbot.waitUntil(lambda: "not made the data source" in panel.report.toPlainText(),
                    timeout=WAIT)
    assert "no class sub-folders" in panel.report.toPlainText()
    assert window.doc.experiment.data.source == "shapes"


def test_check_folder_button_for_a_folder_source(qtbot, image_folder, tmp_path):
    from cnnlab.spec.sections import DataSpec
    from cnnlab.ui.views.data_panel import DataPanel

    panel = DataPanel(DataSpec(source="folder", path=str(image_folder)))
    qtbot.addWidget(panel)
    assert panel.check_button.isEnabled()
    with qtbot.waitSignal(panel.checker.finished, timeout=WAIT):
        panel.check_button.click()
    assert re.search(r"^  cats +4$", panel.report.toPlainText(), re.M)
    with qtbot.waitSignal(panel.checker.finished, timeout=WAIT):
        panel.check_folder(str(tmp_path / "missing"))
    assert "Cannot check the folder: image folder not found" in panel.report.toPlainText()
    qtbot.wait(400)
    qtbot.waitUntil(lambda: not panel.previewing, timeout=WAIT)


def test_folder_dropped_before_the_views_waits_for_them(qtbot, recorder, image_folder,
                                                       tmp_path):
    from cnnlab.ui.views import install_views

    window = lab(qtbot)
    assert not window.use_data_folder(str(image_folder))
    assert "once TensorFlow has loaded" in window.statusBar().currentMessage()
    views = install_views(window, RunStore(tmp_path))
    qtbot.waitUntil(lambda: window.doc.experiment.data.source == "folder", timeout=WAIT)
    assert "3 classes" in views["Recipe"].data_panel.report.toPlainText()
    settle(qtbot, window)
