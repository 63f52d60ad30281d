"""Where the window keeps recovery files and settings: the core's one user data folder."""

from __future__ import annotations

import json
import sys
import time

import pytest
from PySide6.QtCore import QStandardPaths

from cnnlab import default_experiment, dumps
from cnnlab.runs.workspace import user_data_dir
from cnnlab.ui import recovery, settings
from cnnlab.ui.document import Document


def test_recovery_and_settings_use_cnnlab_home(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "home"))
    assert recovery.data_dir() == user_data_dir() == tmp_path / "home"
    assert recovery.recovery_dir() == tmp_path / "home" / "recovery"
    assert settings.LabSettings().store.fileName() == str(tmp_path / "home" / "window.ini")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux folders")
def test_recovery_files_of_the_old_qt_folder_are_still_offered(qapp, monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLAB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    names = qapp.applicationName(), qapp.organizationName()
    qapp.setApplicationName("cnnlab")  # as the app does (cnnlab.ui.app)
    qapp.setOrganizationName("CNN Lab")
    try:
        _offers_the_old_file(tmp_path)
    finally:
        qapp.setApplicationName(names[0])
        qapp.setOrganizationName(names[1])


def _offers_the_old_file(tmp_path) -> None:
    assert recovery.data_dir() == tmp_path / "share" / "cnnlab"
    legacy = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    assert legacy == str(tmp_path / "share" / "CNN Lab" / "cnnlab")
    old = tmp_path / "share" / "CNN Lab" / "cnnlab" / "recovery" / "untitled.json"
    old.parent.mkdir(parents=True)
    body = {"path": None, "saved_at": time.time(),
            "experiment": json.loads(dumps(default_experiment()))}
    old.write_text(json.dumps(body), encoding="utf-8")
    found = recovery.find_recoverable()
    assert found is not None and found.file == old
    written = recovery.write_recovery(Document(default_experiment()))
    assert written.parent == tmp_path / "share" / "cnnlab" / "recovery"
