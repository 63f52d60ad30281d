"""Fail a test that hangs (a FIFO opened, a device read) instead of blocking the run."""

import signal

import pytest


def no_hang_fixture(seconds: int, what: str = "something opened a FIFO or read a device"):
    """An autouse fixture that raises TimeoutError when a test runs past ``seconds``."""

    @pytest.fixture(autouse=True)
    def no_hang():
        def fail(*_):
            raise TimeoutError(f"the test hung: {what}")

        old = signal.signal(signal.SIGALRM, fail)
        signal.alarm(seconds)
        yield
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)

    return no_hang
