"""Test set-up shared by every suite: quiet TensorFlow, offscreen Qt, a temp workspace,
and no thread left running when a test ends (tests/thread_guard.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402
from thread_guard import pytest_runtest_setup, pytest_runtest_teardown  # noqa: E402

__all__ = ["pytest_runtest_setup", "pytest_runtest_teardown"]  # pytest's hooks, installed here


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Every test gets its own CNNLAB_HOME so no test touches the user's runs."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "cnnlab-home"))
