"""Acceptance matrix, dataset revisions and per-sample records (issue 16): data.exclude and
data.relabel through ``cnnlab train`` (sizes, notes, the run's spec, the runs diff, the
records), every option of ``cnnlab runs samples``, and the one-line refusals."""

from __future__ import annotations

import json

import pytest
from matrix_lab import assert_one_line_error, cli


def _base_ids(lab):
    """The base experiment's training ids and labels, as its run saw them."""
    from cnnlab.data import load_data
    from cnnlab.spec import experiment_from_dict

    exp = experiment_from_dict(lab.spec())
    data = load_data(exp.data, (16, 16, 3), exp.training.seed)
    return data.ids("train"), data.labels("train"), data.class_names


@pytest.fixture(scope="module")
def revised(lab):
    """The base run and a run of the same experiment with 3 samples out and 1 relabelled."""
    ids, labels, names = _base_ids(lab)
    target = names[(int(labels[3]) + 1) % len(names)]

    def revise(d):
        d["data"].update(exclude=ids[:3], relabel={ids[3]: target})

    run = lab.train(lab.spec(revise))
    assert run.ok, run.describe()
    return lab.cached("base"), run, ids, target


def test_exclude_and_relabel_through_cnnlab_train(lab, revised):
    base, run, ids, target = revised
    before, after = base.metadata["data"], run.metadata["data"]
    assert after["sizes"] == {**before["sizes"], "train": before["sizes"]["train"] - 3}
    assert "excluded 3 samples, relabelled 1 (data.exclude, data.relabel)" in after["notes"]
    saved = json.loads((run.run_dir / "spec.json").read_text())["data"]
    assert saved["exclude"] == ids[:3] and saved["relabel"] == {ids[3]: target}
    code, out, err = cli("runs", "diff", base.result["run_id"], run.result["run_id"],
                         "--workspace", lab.workspace)
    assert code == 0, err
    exclude_line = next(line for line in out.splitlines() if line.startswith("data.exclude:"))
    assert all(sample in exclude_line for sample in ids[:3]), out
    assert f"data.relabel.{ids[3]}: (unset) -> {target}" in out, out
    code, out, err = cli("runs", "samples", run.result["run_id"], "--split", "train", "--json",
                         "--workspace", lab.workspace)
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)["samples"]}
    assert not set(ids[:3]) & set(rows) and rows[ids[3]]["true"] == target
    assert len(rows) == after["sizes"]["train"]  # a small training split is recorded whole


@pytest.mark.parametrize("sort", ["loss", "wrong-confident", "ambiguous", "forgotten"])
def test_runs_samples_sorts_and_filters(lab, revised, sort):
    from cnnlab.runs import read_samples

    run = revised[1]
    table = read_samples(run.run_dir)
    name = table.class_names[1]
    code, out, err = cli("runs", "samples", run.result["run_id"], "--sort", sort, "--class",
                         name, "--predicted", table.class_names[0], "--split", "val",
                         "--limit", "3", "--json", "--workspace", lab.workspace)
    assert code == 0, err
    listed = [r["id"] for r in json.loads(out)["samples"]]
    expected = table.rows(sort, true_class=name, predicted_class=table.class_names[0],
                          split="val", limit=3)
    assert listed == [r.id for r in expected]
    code, out, err = cli("runs", "samples", run.result["run_id"], "--sort", sort, "--limit",
                         "5", "--workspace", lab.workspace)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert f"sorted by {sort}" in lines[0] and len(lines) == 2 + 5
    assert [line.split()[0] for line in lines[2:]] == [r.id for r in table.rows(sort, limit=5)]
    if sort == "loss":
        losses = [r.loss for r in table.rows(sort)]
        assert losses == sorted(losses, reverse=True)


@pytest.mark.parametrize(("revision", "words"), [
    ({"exclude": ["train[999]"]}, ("data.exclude names train[999], which is not a sample",)),
    ({"relabel": {"train[0]": "zebra"}}, ("data.relabel gives train[0] the class 'zebra'",
                                          "which is not a class")),
    ({"exclude": "train[0]"}, ("data.exclude", "must be a list of sample ids")),
])
def test_a_bad_revision_is_one_line_and_no_run(lab, revision, words):
    runs_before = set((lab.workspace / "runs").glob("*"))
    run = lab.train(lab.spec(lambda d: d["data"].update(revision)))
    assert_one_line_error(run.code, run.stderr, *words)
    assert set((lab.workspace / "runs").glob("*")) == runs_before


def test_runs_samples_refusals(lab, revised):
    run_id = revised[1].result["run_id"]
    for args, words in ((("--class", "zebra"), ("no class 'zebra'",)),
                        (("--limit", "0"), ("--limit must be at least 1",))):
        code, _, err = cli("runs", "samples", run_id, *args, "--workspace", lab.workspace)
        assert_one_line_error(code, err, *words)
