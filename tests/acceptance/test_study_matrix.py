"""Acceptance: a study through `cnnlab study new / run / show`, as a user runs it.

A grid over three learning rates with pruning, on the matrix's tiny experiment
(8x8 images), stopped during its second trial and run again: the stopped
trial is retried and resumes its own run, the hopeless learning rate is
pruned after its first epoch, every trial is an ordinary run tagged with its
study, `show --json` has exactly the issue's shape; bad input is one line.
"""

import json

import pytest
from matrix_lab import Lab, assert_one_line_error, cli

from cnnlab.runs.store import RunStore
from cnnlab.studies import TrialEpoch, load_study, run_study
from cnnlab.train.events import Control

LR = "training.optimizer.learning_rate"
SHAPE = {"study", "direction", "best", "trials", "importance"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return Lab(tmp_path_factory.mktemp("study"))


def stop_at_first_epoch_of(number, control):
    """A study sink that stops the study after the first epoch of trial ``number``."""
    def sink(event):
        if isinstance(event, TrialEpoch) and event.number == number and event.epoch == 0:
            control.stop()
    return sink


def test_study_new_run_stop_resume_show_through_the_cli(lab):
    d = lab.spec()
    d["data"]["shapes"].update(image_size=8, samples=48)
    d["model"]["nodes"][0]["params"]["shape"] = [8, 8, 3]
    exp = lab.write(d, "study_base")
    study = lab.root / "lr.json"
    # Seed 3 puts the grid in the order 0.005, 0.01, 3.0: two startup trials for the
    # median pruner, then the learning rate that blows up.
    code, out, err = cli("study", "new", study, "--experiment", exp, "--param",
                         f"{LR}=choice(0.01,0.005,3.0)", "--sampler", "grid", "--prune",
                         "--objective", "val_loss", "--epochs", 2, "--seed", 3)
    assert code == 0 and "3 trials" in out, err
    # Stopped (as Ctrl-C stops it) during trial 1: that trial is queued again.
    control = Control()
    first = run_study(load_study(study), workspace=lab.workspace, control=control,
                      sink=stop_at_first_epoch_of(1, control))
    assert first["interrupted"] and first["finished"] == 1, first
    stopped = first["trials"][1]
    assert stopped["state"] == "FAIL" and RunStore(lab.workspace).get(
        stopped["run_id"]).epochs_done == 1

    code, out, err = cli("study", "run", study, "--workspace", lab.workspace, "--json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("trial ")]
    assert len(lines) == 2 and "[3/3]" in lines[-1], err  # one progress line per trial
    assert json.loads(out.strip().splitlines()[-1])["finished"] == 3

    code, out, err = cli("study", "show", study, "--workspace", lab.workspace, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert set(shown) == SHAPE and shown["direction"] == "minimize"
    assert all(set(t) == {"number", "state", "params", "value", "run_id"}
               for t in shown["trials"])
    states = [(t["params"][LR], t["state"]) for t in shown["trials"]]
    assert states == [(0.005, "COMPLETE"), (0.01, "FAIL"), (0.01, "COMPLETE"),
                      (3.0, "PRUNED")], shown
    # The retry resumed the stopped trial's run: the same run, trained to its end, once.
    assert shown["trials"][2]["run_id"] == stopped["run_id"]
    store = RunStore(lab.workspace)
    assert store.get(stopped["run_id"]).epochs_done == 2
    assert store.get(shown["trials"][3]["run_id"]).epochs_done == 1  # pruned after epoch 1
    assert set(shown["best"]) == {"trial", "run_id", "value", "params"}
    assert shown["best"]["params"][LR] != 3.0
    assert set(shown["importance"]) == {LR}  # two complete trials: fANOVA has its say
    for trial in shown["trials"]:  # each trial is an ordinary run, tagged in metadata.json
        meta = json.loads((store.get(trial["run_id"]).run_dir / "metadata.json").read_text())
        assert meta["tags"]["study"] == "lr" and meta["tags"]["study_file"] == str(study)
    code, text, err = cli("study", "show", study, "--workspace", lab.workspace)
    assert code == 0 and "best: trial" in text and "pruned" in text, err
    code, out, _ = cli("study", "run", study, "--workspace", lab.workspace, "--json")
    assert code == 0 and json.loads(out)["ran"] == []  # the budget is spent


def test_study_bad_input_is_one_line(lab):
    exp = lab.write(lab.spec(), "bad_base")
    for param, word in ((f"{LR}x=uniform(0.1,0.2)", "no 'learning_ratex'"),
                        (f"{LR}=uniform(0.2)", "two bounds"),
                        ("training.regularization.batchnorm=choice(none,sideways)",
                         "sideways")):
        code, _, err = cli("study", "new", lab.root / "bad.json", "--experiment", exp,
                           "--param", param)
        assert_one_line_error(code, err, word)
    code, _, err = cli("study", "run", lab.root / "missing.json")
    assert_one_line_error(code, err, "missing.json")
    code, _, err = cli("study", "run", exp, "--storage", "ftp://x")
    assert_one_line_error(code, err)
