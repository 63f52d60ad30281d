"""Acceptance matrix for steer and branch (issue 17): every steer the dialog offers, through
`cnnlab train [SPEC] --fork RUN@EPOCH`, continues the parent and leaves it untouched.

Slow (a parent and a branch trained per case, ~8 s each in CI): the default tests
tests/core/test_fork.py (exact start state, resume, refusals) and tests/ui/test_steer.py
(the dialog's spec for each steer) cover the same code path.
"""

import hashlib
import json
import math

import numpy as np
import pytest
from cli_support import run_cli
from core.test_trainer_support import tiny_spec

from cnnlab.runs.store import RunStore
from cnnlab.train.fork import branch_spec

TINY = {"samples": 60, "size": 12, "width": 4, "batch": 16}
FINE_TUNE = {"base": "base_", "transfer": {"strategy": "fine_tune", "unfreeze": 1,
                                           "head_epochs": 1, "lr_multiplier": 1.0}}


def hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "claim.lock"}


def train(capsys, ws, *args):
    code, out, err = run_cli(capsys, "train", *args, "--workspace", ws, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def kernel(model_path, layer):
    import keras

    model = keras.models.load_model(model_path, compile=False)
    return np.asarray(model.get_layer(layer).get_weights()[0])


STEERS = {
    "schedule": ({}, {"schedule": "cosine", "more_epochs": 1}, "training.schedule.name"),
    "augmentation on, in the model": (
        {}, {"augmentation": True, "more_epochs": 1}, "training.augmentation.layers"),
    "augmentation off": (
        {"augmentation": {"layers": [{"type": "RandomFlip", "params": {"mode": "horizontal"}}]}},
        {"augmentation": False, "more_epochs": 1}, "training.augmentation.layers"),
    "unfreeze one more base layer": (
        FINE_TUNE, {"unfreeze_more": 1, "more_epochs": 1}, "training.transfer.unfreeze: 1 -> 2"),
}


@pytest.mark.slow
@pytest.mark.parametrize("steer", list(STEERS))
def test_each_steer_branches_from_the_parent(capsys, tmp_path, steer):
    parent_edit, change, named = STEERS[steer]
    edit = dict(parent_edit)
    base = edit.pop("base", "")
    spec = tiny_spec(epochs=3, base=base, **TINY, **edit)
    (tmp_path / "p.json").write_text(json.dumps(spec))
    parent = train(capsys, tmp_path / "ws", tmp_path / "p.json")
    store = RunStore(tmp_path / "ws")
    before = hashes(store.run_dir(parent["run_id"]))
    child_spec = branch_spec(store.spec(parent["run_id"]), fork_epoch=2, **change)
    if steer.endswith("in the model"):
        child_spec["training"]["augmentation"]["placement"] = "model"
    (tmp_path / "c.json").write_text(json.dumps(child_spec))
    child = train(capsys, tmp_path / "ws", tmp_path / "c.json", "--fork",
                  f"{parent['run_id']}@2")
    assert child["epochs_done"] == 4
    losses = store.metrics(child["run_id"])["loss"]
    assert [math.isnan(v) for v in losses] == [True, True, False, False]
    record = store.get(child["run_id"])
    assert (record.parent, record.fork_epoch) == (parent["run_id"], 2)
    assert any(named in line for line in record.metadata["fork"]["steer"]), record.metadata
    assert hashes(store.run_dir(parent["run_id"])) == before
    if steer.startswith("unfreeze"):  # conv1 trains in the branch only
        start = store.checkpoint_dir(parent["run_id"]) / "epochs" / "epoch-0002.keras"
        assert np.array_equal(kernel(parent["model_path"], "base_conv1"),
                              kernel(start, "base_conv1"))
        assert not np.array_equal(kernel(child["model_path"], "base_conv1"),
                                  kernel(start, "base_conv1"))


@pytest.mark.slow
def test_more_epochs_without_a_spec_uses_the_parents(capsys, tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(tiny_spec(epochs=2, **TINY)))
    parent = train(capsys, tmp_path / "ws", tmp_path / "p.json")
    child = train(capsys, tmp_path / "ws", "--fork", parent["run_id"], "--epochs", "3")
    record = RunStore(tmp_path / "ws").get(child["run_id"])
    assert (child["epochs_done"], record.fork_epoch) == (3, 2)
    assert record.metadata["fork"]["steer"] == ["training.epochs: 2 -> 3"]
