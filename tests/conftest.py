"""Test set-up shared by every suite: quiet TensorFlow, offscreen Qt, a temp workspace,
and no thread left running when a test ends (tests/thread_guard.py)."""

import os

from cnnlab.tfquiet import quiet_environment  # imports neither Keras nor TensorFlow

quiet_environment()  # Keras's backend and TensorFlow's log level, as every entry point does
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from thread_guard import pytest_runtest_setup, pytest_runtest_teardown  # noqa: E402

__all__ = ["pytest_runtest_setup", "pytest_runtest_teardown"]  # pytest's hooks, installed here


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Every test gets its own CNNLAB_HOME so no test touches the user's runs."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path / "cnnlab-home"))
