"""The run store: index, run folders, metrics, liveness, concurrency, spec diffs."""

from __future__ import annotations

import copy
import json
import math
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cnnlab.errors import RunError
from cnnlab.runs.store import RunRecord, RunStore
from cnnlab.spec.diff import diff_specs

SPEC = {
    "schema_version": 1,
    "name": "tiny",
    "model": {
        "nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [28, 28, 1]}},
            {"id": "conv1", "type": "Conv2D", "params": {"filters": 32, "kernel_size": 3}},
            {"id": "conv2", "type": "Conv2D", "params": {"filters": 32, "kernel_size": 3}},
            {"id": "head", "type": "Dense", "params": {"units": 10}},
        ],
        "edges": [
            {"src": "input", "dst": "conv1"},
            {"src": "conv1", "dst": "conv2"},
            {"src": "conv2", "dst": "head"},
        ],
        "modules": {},
    },
    "data": {"dataset": "mnist", "batch_size": 64},
    "training": {"epochs": 3, "optimizer": {"name": "adam", "learning_rate": 0.001}},
    "ui": {"positions": {"conv1": [10, 20]}},
}
META = {"versions": {"keras": "3.15.1"}, "device": "cpu", "seed": 7}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "ws")


def _run(store: RunStore, name: str = "run", **kwargs) -> RunRecord:
    return store.create_run(SPEC, name, 3, META, **kwargs)


def test_create_run_writes_folder_and_index(store):
    record = _run(store, "first", label="LeNet-5", params=1234, macs=5678)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", record.id)
    assert record.status == "running" and record.pid == os.getpid()
    assert (record.device, record.seed, record.label, record.params) == ("cpu", 7, "LeNet-5", 1234)
    assert record.run_dir == store.run_dir(record.id) == store.runs_dir / record.id
    assert json.loads((record.run_dir / "spec.json").read_text()) == SPEC
    assert store.spec(record.id) == SPEC
    meta = json.loads((record.run_dir / "metadata.json").read_text())
    assert meta["versions"] == {"keras": "3.15.1"} and meta["seed"] == 7
    assert meta["started_at"] and meta["ended_at"] is None
    assert meta["run"]["status"] == "running"
    data = record.to_json()
    for key in ("id", "name", "status", "epochs_done", "epochs_planned",
                "best_val_accuracy", "run_dir"):
        assert key in data
    json.dumps(data)
    assert store.checkpoint_dir(record.id).is_dir()
    assert store.model_path(record.id).name == "model.keras"
    assert (store.workspace / "index.sqlite").exists()


def test_run_ids_are_unique_and_sortable(store):
    ids = [_run(store).id for _ in range(20)]
    assert len(set(ids)) == 20
    assert sorted(ids)[0][:15] <= sorted(ids)[-1][:15]


def test_status_rename_tag_filter_and_delete(store):
    a, b, c = _run(store, "alpha"), _run(store, "beta"), _run(store, "gamma")
    store.set_status(a.id, "finished")
    store.set_status(b.id, "failed", "out of memory")
    assert store.get(a.id).ended_at is not None
    assert store.get(b.id).message == "out of memory"
    store.rename(c.id, "  renamed  ")
    store.tag(a.id, ["baseline", "mnist"])
    store.tag(c.id, "mnist")
    store.untag(a.id, "baseline")
    assert store.get(a.id).tags == ("mnist",)
    assert [r.id for r in store.list_runs(status="failed")] == [b.id]
    assert {r.id for r in store.list_runs(tag="mnist")} == {a.id, c.id}
    assert [r.id for r in store.list_runs(text="RENAM")] == [c.id]
    assert [r.name for r in store.list_runs(order="name")] == ["alpha", "beta", "renamed"]
    assert [r.id for r in store.list_runs()] == [c.id, b.id, a.id]
    meta = json.loads((store.run_dir(c.id) / "metadata.json").read_text())
    assert meta["run"]["name"] == "renamed" and meta["run"]["tags"] == ["mnist"]
    with pytest.raises(RunError, match="still running"):
        store.delete(c.id)
    store.delete(a.id)
    assert not (store.runs_dir / a.id).exists()
    assert a.id not in {r.id for r in store.list_runs()}
    with pytest.raises(RunError):
        store.rename(b.id, " ")
    with pytest.raises(RunError):
        store.set_status(b.id, "paused")


def test_metrics_round_trip_and_rerecord(store):
    run = _run(store)
    store.record_epoch(run.id, 0, {"loss": 2.0, "accuracy": 0.3, "val_accuracy": 0.4})
    store.record_epoch(run.id, 1, {"loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.6})
    store.record_epoch(run.id, 1, {"loss": 0.9, "accuracy": 0.55, "val_accuracy": 0.5})
    store.record_epoch(run.id, 2, {"loss": 0.8, "lr": 0.01})
    metrics = store.metrics(run.id)
    assert metrics["loss"] == [2.0, 0.9, 0.8]
    assert metrics["accuracy"][:2] == [0.3, 0.55] and math.isnan(metrics["accuracy"][2])
    assert math.isnan(metrics["lr"][0]) and metrics["lr"][2] == 0.01
    record = store.get(run.id)
    assert record.epochs_done == 3 and record.best_val_accuracy == 0.5
    other = _run(store)
    both = store.metrics_many([run.id, other.id])
    assert both[other.id] == {} and both[run.id]["loss"] == [2.0, 0.9, 0.8]
    saved = json.loads((record.run_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in saved["epochs"]] == [0, 1, 2]
    with pytest.raises(RunError):
        store.record_epoch(run.id, -1, {"loss": 1.0})
    with pytest.raises(RunError):
        store.record_epoch(run.id, 3, {"loss": "high"})


def test_unknown_ids_raise_run_error(store):
    run = _run(store)
    calls = [
        lambda: store.get("nope"), lambda: store.set_status("nope", "finished"),
        lambda: store.record_epoch("nope", 0, {"loss": 1.0}), lambda: store.metrics("nope"),
        lambda: store.metrics_many([run.id, "nope"]), lambda: store.spec("nope"),
        lambda: store.diff(run.id, "nope"), lambda: store.rename("nope", "x"),
        lambda: store.tag("nope", "x"), lambda: store.delete("nope"),
        lambda: store.run_dir("../nope"), lambda: store.heartbeat("nope"),
        lambda: store.list_runs(order="size"), lambda: store.list_runs(status="done"),
    ]
    for call in calls:
        with pytest.raises(RunError) as info:
            call()
        assert "\n" not in str(info.value)


def test_dead_process_shows_interrupted(store):
    code = (
        "import sys; from cnnlab.runs.store import RunStore\n"
        "print(RunStore(sys.argv[1]).create_run({'name': 'x'}, 'orphan', 5, {}).id)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(store.workspace)],
                         capture_output=True, text=True, check=True)
    orphan = out.stdout.strip()
    alive = _run(store, "alive")
    statuses = {r.id: r.status for r in store.list_runs()}
    assert statuses == {orphan: "interrupted", alive.id: "running"}
    with sqlite3.connect(store.index_path) as conn:
        stored = conn.execute("SELECT status FROM runs WHERE id = ?", (orphan,)).fetchone()
    assert stored == ("interrupted",)
    assert json.loads((store.runs_dir / orphan / "metadata.json").read_text())["run"][
        "status"] == "interrupted"
    assert store.list_runs(status="running")[0].id == alive.id


def test_stale_heartbeat_on_other_host(store):
    run = _run(store)
    with sqlite3.connect(store.index_path) as conn:
        conn.execute("UPDATE runs SET hostname = 'elsewhere', heartbeat_at = ? WHERE id = ?",
                     (time.time() - 1000, run.id))
    assert store.get(run.id).status == "interrupted"
    fresh = _run(store)
    with sqlite3.connect(store.index_path) as conn:
        conn.execute("UPDATE runs SET hostname = 'elsewhere' WHERE id = ?", (fresh.id,))
    assert store.get(fresh.id).status == "running"


def test_heartbeat_revives_own_run_and_resume_reclaims(store):
    run = _run(store)
    store.set_status(run.id, "interrupted")
    before = store.get(run.id).heartbeat_at
    store.heartbeat(run.id)
    record = store.get(run.id)
    assert record.status == "running" and record.heartbeat_at >= before
    store.set_status(run.id, "stopped")
    store.heartbeat(run.id)
    assert store.get(run.id).status == "stopped"
    store.set_status(run.id, "running")
    assert store.get(run.id).ended_at is None


def test_concurrent_threads(store):
    run = _run(store)
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for epoch in range(start, start + 50):
                store.record_epoch(run.id, epoch, {"loss": float(epoch)})
                if epoch % 10 == 0:
                    store.list_runs()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 50,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert store.metrics(run.id)["loss"] == [float(e) for e in range(200)]


def _process_worker(workspace: str, run_id: str, start: int) -> None:
    store = RunStore(workspace)
    for epoch in range(start, start + 50):
        store.record_epoch(run_id, epoch, {"loss": float(epoch), "accuracy": 0.5})


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs the fork start method")
def test_concurrent_processes(store):
    run = _run(store)
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_process_worker, args=(str(store.workspace), run.id, i * 50))
             for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    assert store.metrics(run.id)["loss"] == [float(e) for e in range(200)]
    assert store.get(run.id).epochs_done == 200
    saved = json.loads((store.run_dir(run.id) / "metrics.json").read_text())
    assert len(saved["epochs"]) == 200
    json.loads((store.run_dir(run.id) / "metadata.json").read_text())


def test_diff_lines(store):
    changed = copy.deepcopy(SPEC)
    changed["model"]["nodes"][2]["params"]["filters"] = 64
    changed["model"]["nodes"].insert(3, {"id": "drop1", "type": "Dropout",
                                         "params": {"rate": 0.5}})
    changed["model"]["edges"][2] = {"src": "conv2", "dst": "drop1"}
    changed["model"]["edges"].append({"src": "drop1", "dst": "head"})
    changed["training"]["optimizer"]["learning_rate"] = 0.01
    changed["ui"] = {"positions": {}}
    a = _run(store)
    b = store.create_run(changed, "b", 3, META)
    lines = store.diff(a.id, b.id).lines()
    assert "conv2.filters: 32 -> 64" in lines
    assert "+ block drop1 (Dropout)" in lines
    assert "training.optimizer.learning_rate: 0.001 -> 0.01" in lines
    assert "+ edge drop1 -> head" in lines and "- edge conv2 -> head" in lines
    assert not any("ui" in line for line in lines)
    assert diff_specs(SPEC, changed).blocks_added[0].id == "drop1"
    assert diff_specs(changed, SPEC).lines()[0] == "- block drop1 (Dropout)"
    ui_only = copy.deepcopy(SPEC)
    ui_only["ui"] = {"zoom": 2}
    assert diff_specs(SPEC, ui_only).empty
    json.dumps(diff_specs(SPEC, changed).to_json())


def test_rebuild_index_from_folders(store):
    a, b = _run(store, "alpha"), _run(store, "beta")
    store.record_epoch(a.id, 0, {"loss": 1.0, "val_accuracy": 0.7})
    store.record_epoch(a.id, 1, {"loss": 0.5, "val_accuracy": 0.9})
    store.tag(a.id, "keep")
    store.set_status(a.id, "finished")
    before = {r.id: r.to_json() for r in store.list_runs()}
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.index_path}{suffix}").unlink(missing_ok=True)
    fresh = RunStore(store.workspace)
    assert fresh.rebuild_index() == 2
    after = {r.id: r.to_json() for r in fresh.list_runs()}
    for run_id in (a.id, b.id):
        for key in ("name", "status", "epochs_done", "best_val_accuracy", "tags", "seed"):
            assert after[run_id][key] == before[run_id][key], key
    assert fresh.metrics(a.id)["loss"] == [1.0, 0.5]
    assert fresh.spec(b.id) == SPEC


def test_corrupt_index_is_a_clear_error_and_rebuildable(store):
    run = _run(store)
    for suffix in ("-wal", "-shm"):
        Path(f"{store.index_path}{suffix}").unlink(missing_ok=True)
    store.index_path.write_bytes(b"this is not a database" * 100)
    broken = RunStore(store.workspace)
    with pytest.raises(RunError, match="unreadable"):
        broken.list_runs()
    assert broken.rebuild_index() == 1
    assert [r.id for r in broken.list_runs()] == [run.id]
    assert list(store.workspace.glob("index.sqlite.corrupt-*"))


def test_metadata_stays_valid_json(store):
    run = _run(store)
    for epoch in range(5):
        store.record_epoch(run.id, epoch, {"loss": float("nan"), "val_accuracy": 0.1 * epoch})
        store.heartbeat(run.id)
        meta = json.loads((run.run_dir / "metadata.json").read_text())
        assert meta["run"]["status"] == "running"
        saved = json.loads((run.run_dir / "metrics.json").read_text())
        assert len(saved["epochs"]) == epoch + 1
    store.set_status(run.id, "finished")
    meta = json.loads((run.run_dir / "metadata.json").read_text())
    assert meta["ended_at"] and meta["run"]["status"] == "finished"
    metrics_text = (run.run_dir / "metrics.json").read_text()
    assert "NaN" not in metrics_text
    assert not [p for p in run.run_dir.iterdir() if p.name.startswith(".")]
