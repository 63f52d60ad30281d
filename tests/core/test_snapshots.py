"""Snapshot ensembles (issue 15): the weights at each cosine-restarts cycle end, averaged,
against the final model, recorded with the run's last epoch and in ``snapshots/``."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import write_spec  # noqa: E402

from cnnlab.cli import main  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.spec.sections import ScheduleSpec  # noqa: E402
from cnnlab.studies.ensemble import read_ensemble  # noqa: E402
from cnnlab.train.snapshots import cycle_ends  # noqa: E402

RESTARTS = {"name": "cosine_restarts", "first_decay_epochs": 1.0, "t_mul": 1.0}


def _train(tmp_path, capsys, **training) -> tuple[dict, RunStore]:
    spec = write_spec(tmp_path / "e.json", samples=60, size=8, epochs=2, batch=16, width=4,
                      **training)
    ws = tmp_path / "ws"
    assert main(["train", str(spec), "--workspace", str(ws), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["status"] == "finished", result
    return result, RunStore(ws)


def test_cycle_ends_follow_the_schedule_in_batches():
    def spec(**kw):
        return ScheduleSpec(**{"name": "cosine_restarts", **kw})

    assert cycle_ends(spec(first_decay_epochs=1.0, t_mul=1.0), 4, 3) == [4, 8, 12]
    assert cycle_ends(spec(first_decay_epochs=1.0, t_mul=2.0), 4, 7) == [4, 12, 28]
    assert cycle_ends(spec(first_decay_epochs=0.5, t_mul=1.0, warmup_epochs=1.0), 4, 2) == [6, 8]
    assert cycle_ends(spec(first_decay_epochs=5.0), 4, 3) == []  # the first cycle never ends


def test_restarts_run_records_its_snapshot_ensemble_against_the_final_model(tmp_path, capsys):
    import keras

    result, store = _train(tmp_path, capsys, schedule=RESTARTS)
    run_dir = store.run_dir(result["run_id"])
    folder = run_dir / "snapshots"
    assert sorted(p.name for p in folder.glob("cycle-*.npz")) == ["cycle-1.npz", "cycle-2.npz"]
    # The run ends where its last cycle ends: that snapshot is the final model.
    final = keras.models.load_model(result["model_path"], compile=False).get_weights()
    with np.load(folder / "cycle-2.npz") as last:
        assert all(np.array_equal(last[f"arr_{i}"], w) for i, w in enumerate(final))
    with np.load(folder / "cycle-1.npz") as first:
        assert not all(np.array_equal(first[f"arr_{i}"], w) for i, w in enumerate(final))
    record = json.loads((folder / "ensemble.json").read_text())
    assert record["snapshots"] == ["cycle-1.npz", "cycle-2.npz"]
    assert record["snapshot_count"] == 2
    assert 0.0 <= record["test_snapshot_ensemble_accuracy"] <= 1.0
    # The final model alone, evaluated by the observer, is what Keras's evaluate says.
    assert record["test_final_accuracy"] == pytest.approx(result["metrics"]["test_accuracy"])
    last_epoch = {k: v[-1] for k, v in store.metrics(result["run_id"]).items()}
    assert last_epoch["test_snapshot_ensemble_accuracy"] == pytest.approx(
        record["test_snapshot_ensemble_accuracy"])
    assert last_epoch["snapshot_count"] == 2
    assert read_ensemble(RunStore(store.workspace, read_only=True), result["run_id"]) == {
        k: record[k] for k in ("test_snapshot_ensemble_accuracy", "test_final_accuracy",
                               "snapshot_count")}


@pytest.mark.slow  # the default test_restarts_run_records_... covers the observer's path
def test_a_failing_snapshot_never_fails_the_run(tmp_path, capsys, monkeypatch):
    import cnnlab.train.snapshots as snapshots

    def refuse(self, cycle):
        raise OSError("disk full")

    monkeypatch.setattr(snapshots.SnapshotObserver, "_save", refuse)
    result, store = _train(tmp_path, capsys, schedule=RESTARTS)
    record = json.loads((store.run_dir(result["run_id"]) / "snapshots" / "ensemble.json")
                        .read_text())
    assert record == {"note": "snapshot ensemble turned off: OSError: disk full"}
    assert read_ensemble(store, result["run_id"]) == record
    assert "test_snapshot_ensemble_accuracy" not in store.metrics(result["run_id"])


@pytest.mark.slow  # the default test_restarts_run_records_... covers the observer's path
def test_other_schedules_take_no_snapshots(tmp_path, capsys):
    result, store = _train(tmp_path, capsys, schedule={"name": "cosine"})
    assert not (store.run_dir(result["run_id"]) / "snapshots").exists()
