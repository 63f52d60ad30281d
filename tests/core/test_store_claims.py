"""Run claims (issue 13): one process trains a run at a time; a killed one leaves no claim."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnlab.errors import RunError
from cnnlab.runs.store import RunStore

SPEC = {"schema_version": 1, "name": "tiny", "model": {"nodes": [], "edges": [], "modules": {}}}

# A second process that claims a run and says so on stdout, then waits to be killed.
_HOLDER = """
import sys, time
from cnnlab.runs.store import RunStore
store = RunStore(sys.argv[1])
store.claim(sys.argv[2])
print("claimed", flush=True)
time.sleep(60)
"""

# A second process that tries to claim a run and prints the outcome.
_CLAIMER = """
import sys
from cnnlab.errors import RunError
from cnnlab.runs.store import RunStore
try:
    RunStore(sys.argv[1]).claim(sys.argv[2])
except RunError as exc:
    print("refused:", exc)
else:
    print("claimed")
"""


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "ws")


def _python(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout.strip()


def _start_holder(store: RunStore, run_id: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(store.workspace), run_id],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "claimed"
    return proc


def test_new_run_is_claimed_until_released(store):
    run = store.create_run(SPEC, "r", 1, {})
    assert "refused" in _python(_CLAIMER, str(store.workspace), run.id)
    store.claim(run.id)  # the trainer takes over the claim create_run made
    with pytest.raises(RunError, match=rf"run {run.id} is being trained by process "
                                       rf"{os.getpid()} on .+ since \d{{4}}-"):
        store.claim(run.id)
    other = _python(_CLAIMER, str(store.workspace), run.id)
    assert other.startswith(f"refused: run {run.id} is being trained by process {os.getpid()}")
    assert store.release(run.id) is True and store.release(run.id) is False
    assert _python(_CLAIMER, str(store.workspace), run.id) == "claimed"
    store.claim(run.id)  # the other process ended, so its claim went with it
    store.release(run.id)


def test_second_process_is_told_who_holds_the_run(store):
    run = store.create_run(SPEC, "r", 1, {})
    store.release(run.id)
    store.set_status(run.id, "stopped")
    holder = _start_holder(store, run.id)
    try:
        with pytest.raises(RunError) as caught:
            store.claim(run.id)
        message = str(caught.value)
        assert message.startswith(f"run {run.id} is being trained by process {holder.pid} on ")
        assert "since 20" in message and "\n" not in message
        assert "refused" in _python(_CLAIMER, str(store.workspace), run.id)
        with pytest.raises(RunError, match="being trained by process .*stop it before"):
            store.delete(run.id)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # killed, not released: the operating system dropped the claim
    store.claim(run.id)
    store.release(run.id)
    store.delete(run.id)
    assert not (store.runs_dir / run.id).exists()


def test_claim_of_unknown_run_is_a_run_error(store):
    with pytest.raises(RunError, match="no run 'nope'"):
        store.claim("nope")


def test_two_resumes_at_once_only_one_wins(store):
    run = store.create_run(SPEC, "r", 1, {})
    store.release(run.id)
    procs = [subprocess.Popen([sys.executable, "-c", _HOLDER, str(store.workspace), run.id],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while sum(p.poll() is not None for p in procs) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        loser = [p for p in procs if p.poll() is not None]
        winner = [p for p in procs if p.poll() is None]
        assert len(loser) == 1 and len(winner) == 1
        assert winner[0].stdout.readline().strip() == "claimed"
        err = loser[0].stderr.read()
        assert f"being trained by process {winner[0].pid}" in err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)


def test_claim_file_names_the_holder(store):
    run = store.create_run(SPEC, "r", 1, {})
    doc = json.loads((run.run_dir / "claim.lock").read_text())
    assert doc["pid"] == os.getpid() and doc["since"].endswith("UTC")
    store.release(run.id)
    assert (run.run_dir / "claim.lock").read_text() == ""


def _child_tries_to_claim(workspace: str, run_id: str, queue) -> None:
    try:
        RunStore(workspace).claim(run_id)
        queue.put("claimed")
    except RunError as exc:
        queue.put(str(exc))


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
def test_a_forked_child_neither_holds_nor_drops_the_claim(store):
    import multiprocessing

    run = store.create_run(SPEC, "r", 1, {})
    store.claim(run.id)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_tries_to_claim, args=(str(store.workspace), run.id,
                                                                queue))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert f"being trained by process {os.getpid()}" in queue.get(timeout=10)
    # the child closed its inherited copy on exit; the parent's claim stands
    assert "refused" in _python(_CLAIMER, str(store.workspace), run.id)
    store.release(run.id)
