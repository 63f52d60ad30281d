"""The check that no thread outlives a test (tests/thread_guard.py) catches one that does."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from thread_guard import describe, threads_left

TESTS = Path(__file__).resolve().parents[1]


def test_a_running_thread_is_left_and_a_stopping_one_is_not():
    before = set(threading.enumerate())
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait, name="waiting", daemon=True)
    ending = threading.Thread(target=time.sleep, args=(0.05,), name="ending")
    waiting.start()
    ending.start()
    try:
        left = threads_left(before, grace_s=0.3)
        assert left == [waiting]
        assert describe(left) == "'waiting' (daemon, target Event.wait)"
    finally:
        stop.set()
        waiting.join()
    assert threads_left(before, grace_s=0.0) == []


def test_a_test_that_leaves_a_thread_fails_naming_it(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "import thread_guard\n"
        "from thread_guard import pytest_runtest_setup, pytest_runtest_teardown\n"
        "thread_guard.GRACE_S = 0.2\n")
    (tmp_path / "test_leak.py").write_text(
        "import threading, time\n"
        "def test_leaks():\n"
        "    threading.Thread(target=time.sleep, args=(5,), name='leaky', daemon=True).start()\n"
        "def test_joins():\n"
        "    t = threading.Thread(target=time.sleep, args=(0.01,), name='tidy')\n"
        "    t.start(); t.join()\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:faulthandler", str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(TESTS), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1, out.stdout + out.stderr
    assert "2 passed, 1 error" in out.stdout, out.stdout  # an error at test_leaks' teardown
    assert "ERROR at teardown of test_leaks" in out.stdout, out.stdout
    assert "thread(s) outlived the test: 'leaky' (daemon, target sleep)" in out.stdout
