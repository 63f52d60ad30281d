"""Running studies in this process: real tiny trials through the trainer, Optuna's storage.

Each trial is an ordinary run (8x8 shapes, 48 samples, 4 filters), so a few
trials cost a few seconds. The worker processes, a killed worker and
PostgreSQL are in test_studies_workers.py (slow).
"""

import json

import pytest

from cnnlab.cli import main
from cnnlab.runs.store import RunStore
from cnnlab.studies import TrialEnded, TrialEpoch, load_study, new_study, run_study, study_summary
from cnnlab.train.events import Control

LR = "training.optimizer.learning_rate"


def tiny_experiment(tmp_path, epochs=1):
    """The default experiment, shrunk to 48 images of 8x8 and a 4-filter network."""
    path = tmp_path / "exp.json"
    assert main(["new", str(path)]) == 0
    d = json.loads(path.read_text())
    d["data"]["shapes"].update(image_size=8, samples=48)
    for node in d["model"]["nodes"]:
        p = node["params"]
        if node["type"] == "Input":
            p["shape"] = [8, 8, 3]
        if "filters" in p:
            p["filters"] = 4
        if "units" in p and node["id"] == "fc1":
            p["units"] = 8
    d["training"].update(epochs=epochs, batch_size=16)
    return d


@pytest.mark.slow  # the grid sampler's default test: tests/acceptance/test_study_matrix.py
def test_seeded_samplers_repeat_their_choices_and_tag_each_run(tmp_path):
    exp = tiny_experiment(tmp_path)
    picked = {}
    for sampler in ("random", "tpe"):
        study = new_study(tmp_path / f"{sampler}.json", exp, [f"{LR}=loguniform(1e-3,1e-1)"],
                          trials=1, sampler=sampler, seed=7)
        summary = run_study(study, workspace=tmp_path / "ws")
        assert summary["finished"] == 1 and not summary["interrupted"], summary
        trial = summary["trials"][0]
        assert trial["state"] == "COMPLETE" and 0 <= trial["value"] <= 1
        picked[sampler] = trial["params"][LR]
        record = RunStore(tmp_path / "ws").get(trial["run_id"])
        tags = record.metadata["tags"]
        assert tags == {"study": sampler, "trial": 0, "study_file": str(study.path)}
    # Optuna's seeded samplers: the same seed draws the same first value (TPE starts random).
    assert picked["random"] == picked["tpe"]
    assert 1e-3 <= picked["random"] <= 1e-1


@pytest.mark.slow  # the same study through the CLI: tests/acceptance/test_study_matrix.py
def test_grid_study_with_pruning_prunes_the_hopeless_trial(tmp_path):
    exp = tiny_experiment(tmp_path, epochs=2)
    # Two sane learning rates first (the pruner's two startup trials; seed 3 makes the grid's
    # order 2nd, 1st, 3rd), then one that blows up: after its first epoch its val_loss is
    # far above the median, so it is stopped there.
    study = new_study(tmp_path / "prune.json", exp, [f"{LR}=choice(0.01,0.005,3.0)"],
                      sampler="grid", prune=True, objective="val_loss", seed=3)
    events = []
    summary = run_study(study, workspace=tmp_path / "ws", sink=events.append)
    states = {t["params"][LR]: t["state"] for t in summary["trials"]}
    assert summary["finished"] == 3, summary
    ended = [e for e in events if isinstance(e, TrialEnded)]
    assert [e.number for e in ended] == [0, 1, 2]
    epochs = [e for e in events if isinstance(e, TrialEpoch)]
    assert epochs and all(e.epochs == 2 for e in epochs)
    pruned = [t for t in summary["trials"] if t["state"] == "PRUNED"]
    assert pruned, states
    record = RunStore(tmp_path / "ws").get(pruned[0]["run_id"])
    assert record.epochs_done == 1 and record.status == "stopped"
    assert [t["params"][LR] for t in summary["trials"]] == [0.005, 0.01, 3.0]
    assert pruned[0]["params"][LR] == 3.0
    assert summary["best"]["params"][LR] != 3.0


@pytest.mark.slow  # with a CLI run: tests/acceptance/test_study_matrix.py (default)
def test_a_stopped_study_resumes_its_trial_and_counts_it_once(tmp_path):
    exp = tiny_experiment(tmp_path, epochs=2)
    study = new_study(tmp_path / "resume.json", exp, [f"{LR}=choice(0.05)"], sampler="grid")
    ws = tmp_path / "ws"
    control = Control()

    def stop_after_first_epoch(event):
        if isinstance(event, TrialEpoch) and event.epoch == 0:
            control.stop()

    first = run_study(study, workspace=ws, sink=stop_after_first_epoch, control=control)
    assert first["interrupted"] and first["finished"] == 0, first
    stopped = first["trials"][0]
    assert stopped["state"] == "FAIL" and stopped["run_id"]
    record = RunStore(ws).get(stopped["run_id"])
    assert (record.status, record.epochs_done) == ("stopped", 1)

    second = run_study(load_study(study.path), workspace=ws)
    assert second["finished"] == 1 and not second["interrupted"], second
    retried = [t for t in second["trials"] if t["state"] == "COMPLETE"]
    assert len(retried) == 1 and retried[0]["run_id"] == stopped["run_id"]  # resumed, same run
    assert retried[0]["params"] == stopped["params"]
    resumed = RunStore(ws).get(stopped["run_id"])
    assert (resumed.status, resumed.epochs_done) == ("finished", 2)
    assert len(RunStore(ws).list_runs()) == 1  # no second run: the trial ran once
    third = run_study(load_study(study.path), workspace=ws)
    assert third["ran"] == [] and third["finished"] == 1  # the budget is spent


def test_show_prints_the_issue_shape(tmp_path, capsys):
    tiny_experiment(tmp_path)  # writes exp.json
    out = tmp_path / "show.json"
    assert main(["study", "new", str(out), "--experiment", str(tmp_path / "exp.json"),
                 "--param", f"{LR}=choice(0.05)", "--sampler", "grid"]) == 0
    capsys.readouterr()
    ws = tmp_path / "ws"
    assert main(["study", "show", str(out), "--workspace", str(ws), "--json"]) == 0
    empty = json.loads(capsys.readouterr().out)
    assert empty["trials"] == [] and empty["best"] is None
    summary = study_summary(load_study(out), workspace=ws)
    assert "no trials" in summary["importance_note"]
