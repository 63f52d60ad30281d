"""What killed processes leave in a workspace (issue 13): stale temporary files, folders
without an index row, half-deleted folders. Only the lab's own leftovers are removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cnnlab.runs.store import RunStore

SPEC = {"schema_version": 1, "name": "tiny", "model": {"nodes": [], "edges": [], "modules": {}}}
OLD = time.time() - 3600

# Creates a run, starts an atomic write of a checkpoint (cnnlab.atomic), and is killed
# in the middle of it, as a trainer killed during a save.
_KILLED_WRITER = """
import os, signal, sys
from cnnlab.atomic import atomic_path
from cnnlab.runs.store import RunStore
store = RunStore(sys.argv[1])
run = store.create_run({"name": "killed", "model": {}}, "killed", 2, {})
store.set_status(run.id, "stopped")
print(run.id, flush=True)
with atomic_path(store.checkpoint_dir(run.id) / "epoch-0001.weights.h5") as tmp:
    tmp.write_bytes(b"half a checkpoint")
    with atomic_path(run.run_dir / "metadata.json") as tmp2:
        tmp2.write_text("{half")
        os.kill(os.getpid(), signal.SIGKILL)
"""

# Killed between making the run folder (spec.json written) and indexing it.
_KILLED_CREATOR = """
import os, signal, sys
import cnnlab.runs.lifecycle as lifecycle
from cnnlab.runs.store import RunStore
lifecycle.insert_run = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
RunStore(sys.argv[1]).create_run({"name": "orphan", "model": {}}, "", 3, {"seed": 5})
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=60)


def _age(paths) -> None:
    for path in paths:
        os.utime(path, (OLD, OLD), follow_symlinks=False)


def test_stale_temporary_files_go_on_the_next_open_and_nothing_else(tmp_path):
    ws = tmp_path / "ws"
    out = _python(_KILLED_WRITER, str(ws))
    assert out.returncode == -signal.SIGKILL
    run_dir = ws / "runs" / out.stdout.strip()
    temps = sorted(p for p in run_dir.rglob(".*.tmp-*"))
    assert sorted(p.parent.name for p in temps) == sorted(["checkpoints", run_dir.name])
    # the user's own files, including ones that look a little like ours, stay
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    keep = [run_dir / "notes.tmp-abcdefgh", run_dir / ".notes", run_dir / "x.json.tmp-abcdefgh",
            run_dir / "checkpoints" / ".model.keras.tmp-TOO_LONG_NAME"]
    for path in keep:
        path.write_text("mine")
    link = run_dir / ".link.tmp-abcdefgh"
    link.symlink_to(outside)
    _age([*temps, *keep, link])
    fresh = run_dir / ".model.keras.tmp-0123abcd.keras"  # a writer may still be at it
    fresh.write_text("being written")

    store = RunStore(ws)
    assert not any(p.exists() for p in temps)
    assert all(p.read_text() == "mine" for p in keep) and fresh.exists()
    assert link.is_symlink() and outside.read_text() == "keep"
    assert store.notes == [f"removed 2 temporary file(s) that killed processes left in "
                           f"{store.runs_dir}"]
    assert RunStore(ws).notes == []


def test_temporary_files_of_a_claimed_run_stay(tmp_path):
    store = RunStore(tmp_path / "ws")
    run = store.create_run(SPEC, "live", 1, {})  # claimed by this (live) process
    store.set_status(run.id, "stopped")
    temp = run.run_dir / ".model.keras.tmp-abcd1234.keras"
    temp.write_text("being written")
    _age([temp])
    assert RunStore(store.workspace).notes == [] and temp.exists()
    store.release(run.id)
    RunStore(store.workspace)
    assert not temp.exists()


def test_folder_without_index_row_is_indexed_as_interrupted(tmp_path):
    ws = tmp_path / "ws"
    assert _python(_KILLED_CREATOR, str(ws)).returncode == -signal.SIGKILL
    (folder,) = (ws / "runs").iterdir()
    assert (folder / "spec.json").is_file() and not (folder / "metadata.json").exists()
    store = RunStore(ws)
    assert store.notes == [f"run {folder.name} was missing from the index; indexed from its "
                           "folder as interrupted"]
    (record,) = store.list_runs()
    assert (record.id, record.name, record.status) == (folder.name, "orphan", "interrupted")
    assert "killed before the run was indexed" in record.message
    assert store.spec(record.id) == {"name": "orphan", "model": {}}
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["run"]["status"] == "interrupted"
    store.claim(record.id)  # nobody holds it: it can be resumed
    store.release(record.id)


def test_folders_without_anything_usable(tmp_path):
    store = RunStore(tmp_path / "ws")
    run = store.create_run(SPEC, "real", 1, {})
    store.set_status(run.id, "finished")
    runs = store.runs_dir
    junk = runs / "my-notes"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    empty_claim = runs / "20261201-101010-abcd"  # killed right after making the folder
    empty_claim.mkdir()
    (empty_claim / "claim.lock").write_text("")
    (empty_claim / ".spec.json.tmp-abcdefgh.json").write_text("{")
    trash = runs / ".deleting-20261201-101010-beef-12ab"  # a killed delete
    (trash / "checkpoints").mkdir(parents=True)
    (trash / "model.keras").write_text("x")
    _age([junk / "notes.txt", junk, *empty_claim.iterdir(), empty_claim])

    reopened = RunStore(store.workspace)
    assert reopened.notes == [f"{junk} is not a run (no readable spec.json); left as it is"]
    assert (junk / "notes.txt").read_text() == "mine"
    assert not empty_claim.exists() and not trash.exists()
    assert [r.id for r in reopened.list_runs()] == [run.id]


def test_many_missing_runs_make_one_note(tmp_path):
    store = RunStore(tmp_path / "ws")
    ids = []
    for name in "abcde":
        run = store.create_run(SPEC, name, 1, {})
        store.set_status(run.id, "finished" if name < "c" else "stopped")
        store.release(run.id)
        ids.append(run.id)
    for suffix in ("", "-wal", "-shm"):  # the index is lost
        Path(f"{store.index_path}{suffix}").unlink(missing_ok=True)
    reader = RunStore(store.workspace, read_only=True)
    assert {r.id for r in reader.list_runs()} == set(ids)
    (note,) = reader.notes
    assert note.startswith("5 runs are missing from the index (") and "and 2 more" in note
    assert "shown from their folders as finished, stopped (the next command" in note
    reopened = RunStore(store.workspace)
    (note,) = reopened.notes
    assert note.startswith("5 runs were missing from the index")
    assert {r.id: r.status for r in reopened.list_runs()} == {
        run_id: "finished" if i < 2 else "stopped" for i, run_id in enumerate(ids)}
