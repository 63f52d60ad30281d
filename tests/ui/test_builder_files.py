"""Files: save and reopen, bad files, unsaved-changes prompt, recent files, autosave, recovery."""

from __future__ import annotations

import json
import os
import time

import pytest
from builder_helpers import DialogRecorder, make_window

from cnnlab import dumps, load_experiment
from cnnlab.spec.edit import positions
from cnnlab.ui import recovery


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_save_and_reopen_gives_the_identical_spec(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    window.editor.edit_params("conv1", {"filters": 20, "kernel_size": [5, 3],
                                        "padding": "same"})
    window.editor.moved({"fc1": (400.0, 700.0)})
    target = tmp_path / "net.json"
    recorder.save_as_answer = str(target)
    assert window.files.save()
    assert not window.doc.dirty and not window.isWindowModified()
    saved = window.doc.experiment
    reopened = load_experiment(target)
    assert dumps(reopened) == dumps(saved)
    assert positions(reopened)["fc1"] == (400.0, 700.0)
    other = make_window(qtbot)
    assert other.files.open_file(target)
    assert dumps(other.doc.experiment) == dumps(saved)
    assert other.doc.path == target and not other.doc.dirty
    assert str(target.resolve()) in other.settings.recent_files()
    assert other.menus.recent_menu.actions()[0].text() == "net.json"


def test_bad_file_shows_the_path_naming_message(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    good = window.doc.experiment
    bad = tmp_path / "bad.json"
    raw = json.loads(dumps(good))
    raw["model"]["nodes"][1]["params"]["kernel_size"] = 0
    bad.write_text(json.dumps(raw))
    assert not window.files.open_file(bad)
    assert window.doc.experiment is good
    title, message = recorder.errors[-1]
    assert "model.nodes[1].params.kernel_size" in message
    assert not window.files.open_file(tmp_path / "missing.json")
    assert "no such file" in recorder.errors[-1][1]


def test_unsaved_changes_prompt(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    window.editor.edit_params("conv1", {"filters": 8})
    recorder.save_answer = "cancel"
    window.files.new()
    assert window.doc.dirty  # cancelled: nothing lost
    recorder.save_answer = "save"
    recorder.save_as_answer = str(tmp_path / "kept.json")
    window.files.new()
    assert (tmp_path / "kept.json").exists() and not window.doc.dirty
    assert window.doc.path is None
    window.editor.edit_params("conv1", {"filters": 9})
    recorder.save_answer = "discard"
    window.close()
    assert not window.isVisible()


def test_autosave_and_recovery(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    window.editor.edit_params("conv1", {"filters": 12})
    written = window.autosaver.autosave()
    assert written is not None and written.parent == recovery.recovery_dir()
    assert str(written).startswith(os.environ["CNNLAB_HOME"])
    found = recovery.find_recoverable()
    assert found is not None and found.path is None
    # a fresh window (after a crash) offers the recovered experiment
    fresh = make_window(qtbot)
    recorder.answer = True
    assert fresh.files.offer_recovery()
    assert fresh.doc.experiment.model.node("conv1").params["filters"] == 12
    assert fresh.doc.dirty and "did not close properly" in recorder.questions[-1]
    # a clean save removes the recovery file
    recorder.save_as_answer = str(tmp_path / "recovered.json")
    fresh.files.save()
    assert not written.exists()


def test_recovery_older_than_document_is_ignored(qtbot, tmp_path, recorder):
    window = make_window(qtbot)
    target = tmp_path / "doc.json"
    recorder.save_as_answer = str(target)
    window.files.save()
    window.editor.edit_params("conv1", {"filters": 7})
    written = window.autosaver.autosave()
    body = json.loads(written.read_text())
    body["saved_at"] = time.time() - 3600
    written.write_text(json.dumps(body))
    assert recovery.find_recoverable() is None
    assert not written.exists()


def test_autosave_timer_writes_when_dirty(qtbot):
    from builder_helpers import default_experiment

    from cnnlab.ui.main_window import MainWindow

    window = MainWindow(default_experiment(), autosave_ms=50)
    qtbot.addWidget(window)
    assert window.autosaver.autosave() is None  # clean: nothing to save
    window.editor.edit_params("conv1", {"filters": 5})
    qtbot.waitUntil(lambda: recovery.recovery_file(None).exists(), timeout=2000)


def test_layout_is_remembered(qtbot):
    window = make_window(qtbot)
    window.docks["problems"].hide()
    window.close()
    again = make_window(qtbot)
    again.restore_layout()
    assert not again.docks["problems"].isVisible()


def test_cnnlab_with_an_experiment_file_opens_it_in_the_window(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from cnnlab.presetlib import load_preset
    from cnnlab.spec import save_experiment

    spec = tmp_path / "mine.json"
    save_experiment(load_preset("default"), spec)
    data = json.loads(spec.read_text())
    data["name"] = "Opened from the command line"
    spec.write_text(json.dumps(data))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNNLAB_HOME": str(tmp_path / "ws")}
    done = subprocess.run([sys.executable, "-m", "cnnlab.cli", str(spec), "--startup-probe"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "first_paint" in done.stdout and "invalid choice" not in done.stderr
