"""Fail a test that leaves a thread running (the hooks are installed by tests/conftest.py).

A thread started by a test must be stopped and joined by the test or its
fixtures: one left running keeps working on a finished test's objects, holds
files in its temporary folder, or keeps the process from exiting.
"""

import threading
import time

import pytest

GRACE_S = 2.0  # a thread told to stop may take a moment to end
_BEFORE = pytest.StashKey[set]()


def may_outlive_a_test(thread: threading.Thread) -> bool:
    """Threads that legitimately stay for the rest of the process."""
    # A thread started outside Python (a QThread, TensorFlow's C++ pools) that once ran
    # Python code: threading keeps such a _DummyThread in enumerate() for good and cannot
    # tell whether it still runs. Qt itself aborts on a QThread destroyed while running.
    return isinstance(thread, threading._DummyThread)


def threads_left(before: set, grace_s: float | None = None) -> list[threading.Thread]:
    """The threads started since ``before`` still alive after ``grace_s`` (``GRACE_S``)."""
    deadline = time.monotonic() + (GRACE_S if grace_s is None else grace_s)
    left = []
    for thread in threading.enumerate():
        if thread in before or may_outlive_a_test(thread):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            left.append(thread)
    return left


def describe(threads: list[threading.Thread]) -> str:
    """``'worker' (non-daemon, target Loader._work)``, one per thread."""
    def one(thread: threading.Thread) -> str:
        target = getattr(thread, "_target", None)
        what = getattr(target, "__qualname__", None) or type(thread).__qualname__
        kind = "daemon" if thread.daemon else "non-daemon"
        return f"{thread.name!r} ({kind}, target {what})"

    return ", ".join(one(t) for t in threads)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    item.stash[_BEFORE] = set(threading.enumerate())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    """After the test's own teardown: fail it when a thread it started still runs."""
    result = yield
    before = item.stash.get(_BEFORE, None)
    left = [] if before is None else threads_left(before)
    if left:
        pytest.fail(f"thread(s) outlived the test: {describe(left)}; stop and join them in "
                    "the test (or its fixture)", pytrace=False)
    return result
