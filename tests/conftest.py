"""Test set-up shared by every suite: quiet TensorFlow, offscreen Qt, a temp workspace."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Every test gets its own CNNLAB_HOME so no test touches the user's runs."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "cnnlab-home"))
