"""Branching a run (issue 17, steer and branch): `cnnlab train SPEC --fork RUN@EPOCH`.

A parent trains 4 epochs (stopped, so it can be resumed); a branch after
epoch 3 with a ten times lower rate must start from exactly the parent's
epoch-3 weights and optimizer state, continue its epoch numbering, leave the
parent's files and index rows as they were, and resume like any run; so must
the parent.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from cli_support import run_cli  # noqa: E402
from core.test_trainer_support import Recorder, tiny_spec  # noqa: E402

from cnnlab.runs.records import tree_order  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.spec import experiment_from_dict  # noqa: E402
from cnnlab.train.checkpoints import Checkpoints  # noqa: E402
from cnnlab.train.events import Control, EpochEnded  # noqa: E402
from cnnlab.train.fork import branch_spec, parse_fork  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

TINY = {"samples": 60, "size": 12, "width": 4, "batch": 16, "lr": 0.01}


def keras_arrays(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ``.keras`` file's layer weights and optimizer variables, in their saved order."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        data = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(data, "r") as h5:
        layers = []
        for name in sorted(h5["layers"]):
            group = h5["layers"][name]["vars"]
            layers += [np.array(group[str(i)]) for i in range(len(group))]
        opt = h5["optimizer"]["vars"] if "optimizer" in h5 else {}
        optimizer = [np.array(opt[str(i)]) for i in range(len(opt))]
    return layers, optimizer


def folder_hashes(folder: Path) -> dict[str, str]:
    """Every file under a folder (the claim lock aside) with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "claim.lock"}


def parent_rows(store: RunStore, run_id: str) -> tuple:
    record = store.get(run_id)
    return (record.status, record.epochs_done, record.best_val_accuracy,
            json.dumps(store.metrics(run_id)), json.dumps(store.spec(run_id)))


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """A parent stopped after 4 of 5 epochs, and a branch after its epoch 3 (lr / 10)
    created and stopped before its first batch: what it starts from is its model.keras."""
    ws = tmp_path_factory.mktemp("fork")
    control = Control()
    stop_after_4 = Recorder(control)
    stop_after_4.on_batch = None
    parent_exp = experiment_from_dict(tiny_spec(epochs=5, **TINY))

    def sink(event):
        stop_after_4(event)
        if isinstance(event, EpochEnded) and event.epoch == 3:
            control.stop()

    parent = run(parent_exp, sink, control, workspace=ws)
    assert parent.status == "stopped" and parent.epochs_done == 4
    store = RunStore(ws)
    before = folder_hashes(store.run_dir(parent.run_id)), parent_rows(store, parent.run_id)
    child_spec = branch_spec(store.spec(parent.run_id), fork_epoch=3, learning_rate=0.001)
    assert child_spec["training"]["epochs"] == 5
    (ws / "child.json").write_text(json.dumps(child_spec), encoding="utf-8")
    halted = Control()
    halted.stop()  # stops once the branch is set up, before its first batch
    child = run(experiment_from_dict(child_spec), Recorder(halted), halted, workspace=ws,
                fork=f"{parent.run_id}@3")
    assert child.status == "stopped", child.message
    return ws, parent.run_id, child.run_id, before


def test_branch_starts_from_exactly_the_parents_epoch_3_state(family):
    ws, parent_id, child_id, before = family
    store = RunStore(ws)
    kept = Checkpoints(store.checkpoint_dir(parent_id))
    assert kept.kept_epochs() == [1, 2, 3, 4]
    parent_w, parent_opt = keras_arrays(kept.epoch_path(3))
    child_w, child_opt = keras_arrays(store.model_path(child_id))
    assert len(child_w) == len(parent_w) == 6
    assert all(np.array_equal(a, b) for a, b in zip(child_w, parent_w, strict=True))
    # Adam: iteration, learning_rate, then a momentum and a velocity per variable.
    assert len(child_opt) == len(parent_opt) == 2 + 2 * 6
    assert int(child_opt[0]) == int(parent_opt[0]) == 3 * 3  # batch counter: 3 epochs x 3
    assert all(np.array_equal(a, b) for a, b in zip(child_opt[2:], parent_opt[2:], strict=True))
    assert any(np.abs(v).sum() > 0 for v in child_opt[2:])  # the moments are not zeros
    assert math.isclose(float(child_opt[1]), 0.001, rel_tol=1e-6)  # its own, lower rate
    assert math.isclose(float(parent_opt[1]), 0.01, rel_tol=1e-6)
    assert not np.array_equal(keras_arrays(kept.epoch_path(4))[0][0], parent_w[0])
    assert (folder_hashes(store.run_dir(parent_id)), parent_rows(store, parent_id)) == before


def test_branch_resumes_continuing_the_parents_epochs(family, capsys):
    ws, parent_id, child_id, before = family
    code, out, err = run_cli(capsys, "train", "--resume", child_id, "--workspace", ws, "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["epochs_done"] == 5
    store = RunStore(ws)
    losses = store.metrics(child_id)["loss"]
    assert [math.isnan(v) for v in losses] == [True, True, True, False, False]
    assert all(math.isclose(v, 0.001, rel_tol=1e-6) for v in store.metrics(child_id)["lr"][3:])
    code, out, _ = run_cli(capsys, "runs", "show", child_id, "--workspace", ws, "--json")
    shown = json.loads(out)
    assert (shown["parent"], shown["fork_epoch"]) == (parent_id, 3)
    assert "training.optimizer.learning_rate: 0.01 -> 0.001" in shown["metadata"]["fork"]["steer"]
    assert (folder_hashes(store.run_dir(parent_id)), parent_rows(store, parent_id)) == before
    code, out, _ = run_cli(capsys, "runs", "list", "--workspace", ws)
    lines = out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(parent_id))
    assert lines[row + 1].startswith(f"  {child_id}") and f"branch @3 of {parent_id}" in out
    code, out, _ = run_cli(capsys, "runs", "list", "--workspace", ws, "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows[child_id]["parent"] == parent_id and rows[parent_id]["parent"] is None


def test_parent_resumes_after_being_branched(family, capsys):
    ws, parent_id, child_id, _ = family
    code, out, err = run_cli(capsys, "train", "--resume", parent_id, "--workspace", ws, "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["epochs_done"] == 5
    assert Checkpoints(RunStore(ws).checkpoint_dir(parent_id)).kept_epochs() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("fork, edit, words", [
    ("nosuchrun@2", {}, "no run 'nosuchrun'"),
    ("{parent}@9", {}, "no checkpoint after epoch 9; it can be branched after epoch 1, 2, 3"),
    ("{parent}@3", {"epochs": 3}, "the branch would train nothing"),
    ("{parent}@3", {"optimizer": {"name": "sgd", "learning_rate": 0.01}}, "trained with adam"),
    ("{parent}@x", {}, "--fork takes RUN or RUN@EPOCH"),
])
def test_a_bad_branch_is_one_line_and_creates_no_run(family, capsys, fork, edit, words):
    ws, parent_id, _, _ = family
    spec = tiny_spec(epochs=5, **TINY)
    spec["training"].update(edit)
    path = ws / "bad.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    runs = {r.id for r in RunStore(ws).list_runs()}
    code, out, err = run_cli(capsys, "train", path, "--workspace", ws,
                             "--fork", fork.format(parent=parent_id))
    assert code == 2 and words in err and err.count("\n") == 1, err
    assert err.startswith("cnnlab: error: ") and "Traceback" not in err
    assert {r.id for r in RunStore(ws).list_runs()} == runs


def test_a_branch_with_another_network_is_refused(family, capsys):
    """Covers the weight check (it needs the networks built, so about a second)."""
    ws, parent_id, _, _ = family
    path = ws / "wider.json"
    path.write_text(json.dumps(tiny_spec(epochs=5, **{**TINY, "width": 8})), encoding="utf-8")
    runs = {r.id for r in RunStore(ws).list_runs()}
    code, _, err = run_cli(capsys, "train", path, "--workspace", ws, "--fork", f"{parent_id}@3")
    assert code == 2 and "network differs from run" in err and "block conv1" in err, err
    assert {r.id for r in RunStore(ws).list_runs()} == runs


def test_epoch_checkpoints_are_thinned_oldest_first_past_the_budget(tmp_path):
    ckpt = Checkpoints(tmp_path, budget_bytes=2500)
    for epochs_done in range(1, 6):
        ckpt.last_path.write_bytes(bytes(1000))  # replaced as model.save replaces it
        (tmp_path / "state.json").write_text(json.dumps({"epochs_done": epochs_done,
                                                          "iterations": 3 * epochs_done,
                                                          "steps_per_epoch": 3}))
        ckpt._keep_epoch(epochs_done)
    assert ckpt.kept_epochs() == [4, 5]
    assert ckpt.epoch_state(5).iterations == 15 and ckpt.epoch_state(3) is None
    big = Checkpoints(tmp_path / "big", budget_bytes=10)
    big.folder.mkdir()
    big.last_path.write_bytes(bytes(100))
    (big.folder / "state.json").write_text(json.dumps({"epochs_done": 1, "iterations": 1,
                                                        "steps_per_epoch": 1}))
    big._keep_epoch(1)
    assert big.kept_epochs() == [1]  # the newest epoch is always kept


def test_steer_spec_and_tree_order():
    parent = tiny_spec(epochs=4, base="base_", transfer={"strategy": "fine_tune",
                                                        "unfreeze": 1, "head_epochs": 1})
    child = branch_spec(parent, fork_epoch=4, schedule="cosine", unfreeze_more=1,
                        augmentation=True, more_epochs=3)
    t = child["training"]
    assert t["epochs"] == 7 and t["schedule"]["name"] == "cosine"
    assert t["transfer"]["unfreeze"] == 2 and t["augmentation"]["layers"]
    off = branch_spec(child, fork_epoch=4, augmentation=False)["training"]["augmentation"]
    assert off["layers"] == []
    assert branch_spec(parent, fork_epoch=4)["training"]["epochs"] == 5  # one past the fork
    experiment_from_dict(child)  # a valid experiment
    assert parse_fork("20261202-000643-7a7f@3") == ("20261202-000643-7a7f", 3)

    class Rec:
        def __init__(self, rid, parent=None):
            self.id, self.parent = rid, parent

    recs = [Rec("c2", "c1"), Rec("b", "a"), Rec("a"), Rec("c1", "a"), Rec("x", "gone"),
            Rec("loop1", "loop2"), Rec("loop2", "loop1")]
    order = [(r.id, depth) for r, depth in tree_order(recs)]
    assert order[:5] == [("a", 0), ("b", 1), ("c1", 1), ("c2", 2), ("x", 0)]
    assert sorted(order[5:]) == [("loop1", 0), ("loop2", 0)]


def test_a_branch_trains_to_the_end_through_cnnlab_train(family, capsys):
    """The user's path: `cnnlab train CHILD --fork RUN@3 --json`, then `runs show --json`."""
    ws, parent_id, _, _ = family
    code, out, err = run_cli(capsys, "train", ws / "child.json", "--workspace", ws,
                             "--fork", f"{parent_id}@3", "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["epochs_done"] == 5
    code, out, err = run_cli(capsys, "runs", "show", result["run_id"], "--workspace", ws,
                             "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["parent"] == parent_id and shown["fork_epoch"] == 3
