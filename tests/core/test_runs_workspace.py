"""The lab's user data folder: one function, CNNLAB_HOME first, else platformdirs'."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from cnnlab.runs.store import RunStore
from cnnlab.runs.workspace import default_workspace, home_override, user_data_dir


def test_cnnlab_home_overrides_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "env"))
    assert home_override() == user_data_dir() == default_workspace() == tmp_path / "env"
    assert RunStore().workspace == (tmp_path / "env").resolve()
    assert RunStore(tmp_path / "explicit").workspace == (tmp_path / "explicit").resolve()
    monkeypatch.setenv("CNNLAB_HOME", "  ")
    assert home_override() is None


def test_without_cnnlab_home_it_is_platformdirs_folder(monkeypatch):
    monkeypatch.delenv("CNNLAB_HOME", raising=False)
    assert home_override() is None
    expected = platformdirs.user_data_dir("cnnlab", appauthor=False, roaming=True)
    assert str(user_data_dir()) == expected
    assert default_workspace() == user_data_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux folder")
def test_on_linux_it_stays_where_the_lab_kept_it(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLAB_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / ".local" / "share" / "cnnlab"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_data_dir() == tmp_path / "xdg" / "cnnlab"
