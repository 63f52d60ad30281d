"""Test-set metrics in the run store (issue 12, defect 5) and the index migration."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from cnnlab.errors import RunError
from cnnlab.runs.store import RunStore

SPEC = {"schema_version": 1, "name": "tiny", "model": {"nodes": [], "edges": [], "modules": {}}}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "ws")


def test_record_test_goes_to_index_record_and_metadata(store):
    run = store.create_run(SPEC, "r", 1, {"deterministic": True})
    store.record_test(run.id, {"loss": 0.5, "accuracy": 0.75, "top5": 1.0, "compile": 3})
    record = store.get(run.id)
    assert (record.test_loss, record.test_accuracy, record.test_top5) == (0.5, 0.75, 1.0)
    data = record.to_json()
    assert data["test_accuracy"] == 0.75 and data["deterministic"] is True
    meta = json.loads((run.run_dir / "metadata.json").read_text())
    assert meta["test"] == {"loss": 0.5, "accuracy": 0.75, "top5": 1.0}
    # a new evaluation replaces the old one as a whole; the prefixed names work too
    store.record_test(run.id, {"test_loss": 0.25, "test_accuracy": math.nan})
    record = store.get(run.id)
    assert (record.test_loss, record.test_accuracy, record.test_top5) == (0.25, None, None)
    meta = json.loads((run.run_dir / "metadata.json").read_text())
    assert meta["test"] == {"loss": 0.25}
    assert store.list_runs()[0].test_loss == 0.25


def test_record_test_refuses_non_numbers_and_unknown_runs(store):
    run = store.create_run(SPEC, "r", 1, {})
    with pytest.raises(RunError, match="test metric 'accuracy' is not a number"):
        store.record_test(run.id, {"accuracy": "high"})
    with pytest.raises(RunError, match="no run 'nope'"):
        store.record_test("nope", {"loss": 1.0})


def test_rebuilt_index_keeps_test_metrics(store):
    run = store.create_run(SPEC, "r", 1, {})
    store.record_test(run.id, {"loss": 0.5, "accuracy": 0.75})
    store.index_path.unlink()
    assert store.rebuild_index() == 1
    record = store.get(run.id)
    assert (record.test_loss, record.test_accuracy, record.test_top5) == (0.5, 0.75, None)


def test_index_of_schema_1_is_migrated(tmp_path):
    workspace = tmp_path / "ws"
    old = RunStore(workspace)
    run = old.create_run(SPEC, "old run", 2, {})
    old.record_epoch(run.id, 0, {"val_accuracy": 0.5})
    with sqlite3.connect(old.index_path) as conn:  # what a schema-1 lab wrote
        for column in ("test_loss", "test_accuracy", "test_top5"):
            conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    reader = RunStore(workspace, read_only=True)  # reads it as it is, migrates nothing
    assert reader.get(run.id).test_accuracy is None and reader.list_runs()[0].name == "old run"
    with sqlite3.connect(old.index_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    store = RunStore(workspace)
    record = store.get(run.id)
    assert record.name == "old run" and record.best_val_accuracy == 0.5
    assert record.test_accuracy is None
    store.record_test(run.id, {"loss": 1.5, "accuracy": 0.25})
    assert store.get(run.id).test_accuracy == 0.25
    with sqlite3.connect(store.index_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2


def test_training_again_drops_the_old_test_evaluation(store):
    run = store.create_run(SPEC, "r", 2, {})
    store.record_test(run.id, {"loss": 0.5, "accuracy": 0.75})
    store.set_status(run.id, "stopped")
    assert store.get(run.id).test_accuracy == 0.75
    store.set_status(run.id, "running", epochs_planned=5)  # resumed for more epochs
    record = store.get(run.id)
    assert (record.test_loss, record.test_accuracy, record.epochs_planned) == (None, None, 5)
    assert "test" not in json.loads((run.run_dir / "metadata.json").read_text())
    with pytest.raises(RunError, match="planned epochs must be a whole number from 1"):
        store.set_status(run.id, "running", epochs_planned=0)
