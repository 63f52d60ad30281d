"""Several RunStore objects on one workspace in one process, and stores across a fork.

The index's writer lock belongs to each index object (no module-level lock):
two stores on one workspace are kept apart by SQLite (WAL and the busy
timeout), and a forked child gets fresh locks and none of its parent's claims.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cnnlab.runs.store import RunStore

SPEC = {"schema_version": 1, "name": "tiny", "model": {"nodes": [], "edges": [], "modules": {}}}
EPOCHS = 40

needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="needs the fork start method")

# Another process that tries to claim a run and prints the outcome.
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


def _claim_elsewhere(workspace: Path, run_id: str) -> str:
    out = subprocess.run([sys.executable, "-c", _CLAIMER, str(workspace), run_id],
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_two_stores_on_one_workspace_write_from_two_threads(tmp_path):
    stores = [RunStore(tmp_path / "ws"), RunStore(tmp_path / "ws")]
    shared = stores[0].create_run(SPEC, "shared", EPOCHS, {})
    own = [store.create_run(SPEC, f"own{i}", EPOCHS, {}) for i, store in enumerate(stores)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        store = stores[i]
        try:
            for epoch in range(EPOCHS):
                store.record_epoch(own[i].id, epoch, {"loss": float(epoch)})
                store.record_epoch(shared.id, 2 * epoch + i, {"loss": float(i)})
                store.heartbeat(shared.id)
                store.tag(own[i].id, f"t{epoch % 3}")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    for i, store in enumerate(stores):
        assert store.metrics(own[i].id)["loss"] == [float(e) for e in range(EPOCHS)]
        assert store.get(own[i].id).tags == ("t0", "t1", "t2")
    assert stores[1].metrics(shared.id)["loss"] == [0.0, 1.0] * EPOCHS
    assert stores[1].get(shared.id).epochs_done == 2 * EPOCHS


def _heartbeat_in_child(store: RunStore, run_id: str) -> None:
    store.heartbeat(run_id)  # the inherited store, its parent's lock taken at the fork


@needs_fork
def test_a_forked_child_writes_with_a_store_whose_lock_a_parent_thread_held(tmp_path):
    store = RunStore(tmp_path / "ws")
    run = store.create_run(SPEC, "r", 1, {})
    inside, leave = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        # only the object's lock: an open SQLite transaction must never cross a fork
        with store._index._locks()[1]:
            inside.set()
            leave.wait(30)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    assert inside.wait(30)
    child = multiprocessing.get_context("fork").Process(target=_heartbeat_in_child,
                                                        args=(store, run.id))
    child.start()
    leave.set()
    holder.join(30)
    child.join(15)
    if child.exitcode is None:  # it waits for a lock no thread of it will ever release
        child.kill()
        child.join(30)
    assert child.exitcode == 0


def _wait_for_parent(ready, done) -> None:
    ready.set()
    done.wait(60)


@needs_fork
def test_a_forked_child_does_not_keep_a_released_claim(tmp_path):
    store = RunStore(tmp_path / "ws")
    run = store.create_run(SPEC, "r", 1, {})
    store.claim(run.id)
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    child = context.Process(target=_wait_for_parent, args=(ready, done))
    child.start()
    try:
        assert ready.wait(30)
        assert _claim_elsewhere(store.workspace, run.id).startswith("refused:")
        store.release(run.id)
        # the child still lives; had it kept its copy of the lock, the run would stay claimed
        assert _claim_elsewhere(store.workspace, run.id) == "claimed"
    finally:
        done.set()
        child.join(30)
    assert child.exitcode == 0
