"""Acceptance: a study through `cnnlab study new / run / show`, as a user runs it.

A grid over three learning rates with pruning, on the matrix's tiny experiment
(8x8 images): every trial is an ordinary run in the store, tagged with its
study and trial; the hopeless learning rate is pruned after its first epoch;
`show --json` has exactly the issue's shape; bad input is one line, exit 2.
"""

import json

import pytest
from matrix_lab import Lab, assert_one_line_error, cli

from cnnlab.runs.store import RunStore

LR = "training.optimizer.learning_rate"
SHAPE = {"study", "direction", "best", "trials", "importance"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return Lab(tmp_path_factory.mktemp("study"))


def test_study_new_run_show_through_the_cli(lab):
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
    code, out, err = cli("study", "run", study, "--workspace", lab.workspace, "--json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("trial ")]
    assert len(lines) == 3 and "[3/3]" in lines[-1], err  # one progress line per trial
    run = json.loads(out.strip().splitlines()[-1])
    assert run["finished"] == 3 and not run["interrupted"]
    code, out, err = cli("study", "show", study, "--workspace", lab.workspace, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert set(shown) == SHAPE and shown["direction"] == "minimize"
    assert [set(t) for t in shown["trials"]] == [{"number", "state", "params", "value",
                                                  "run_id"}] * 3
    states = {t["params"][LR]: t["state"] for t in shown["trials"]}
    assert states == {0.005: "COMPLETE", 0.01: "COMPLETE", 3.0: "PRUNED"}, shown
    assert set(shown["best"]) == {"trial", "run_id", "value", "params"}
    assert set(shown["importance"]) == {LR}  # two complete trials: fANOVA has its say
    store = RunStore(lab.workspace)
    for trial in shown["trials"]:  # each trial is an ordinary run, tagged in metadata.json
        meta = json.loads((store.get(trial["run_id"]).run_dir / "metadata.json").read_text())
        assert meta["tags"] == {"study": "lr", "trial": trial["number"],
                                "study_file": str(study)}
    code, text, err = cli("study", "show", study, "--workspace", lab.workspace)
    assert code == 0 and "best: trial" in text and "pruned" in text, err


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
