"""A run trained through `cnnlab train` shows its test metrics and reproducibility in
`runs list`, `runs show` and metadata.json (issue 12, defect 5)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import pytest  # noqa: E402
from core.test_trainer_support import tiny_spec  # noqa: E402

from cnnlab.cli import main  # noqa: E402


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    spec = tiny_spec(samples=100, epochs=1, deterministic=True, metrics=["accuracy", "top5"])
    spec["data"]["test_split"] = 0.2
    (folder / "spec.json").write_text(json.dumps(spec))
    ws = folder / "ws"
    code = main(["train", str(folder / "spec.json"), "--workspace", str(ws), "--json"])
    assert code == 0
    return ws


def test_runs_list_and_show_carry_the_test_metrics(trained, capsys):
    (row,) = json.loads(_cli(capsys, "runs", "--workspace", trained, "--json"))
    assert 0.0 <= row["test_accuracy"] <= 1.0 and row["test_loss"] > 0
    assert row["test_top5"] == 1.0  # three classes: the true one is always in the top 5
    assert row["deterministic"] is True
    table = _cli(capsys, "runs", "--workspace", trained).splitlines()
    assert "test acc" in table[0] and "repro" in table[0]
    assert f"{row['test_accuracy']:.4f}" in table[1] and " yes " in table[1]

    shown = _cli(capsys, "runs", "show", row["id"], "--workspace", trained).splitlines()
    assert (f"test: loss {row['test_loss']:.4f}  accuracy {row['test_accuracy']:.4f}  "
            "top-5 1.0000") in shown
    assert "reproducible: yes (training.deterministic)" in shown
    data = json.loads(_cli(capsys, "runs", "show", row["id"], "--workspace", trained, "--json"))
    assert data["test_accuracy"] == row["test_accuracy"] and data["deterministic"] is True

    meta = json.loads((trained / "runs" / row["id"] / "metadata.json").read_text())
    assert meta["test"] == {"loss": row["test_loss"], "accuracy": row["test_accuracy"],
                            "top5": 1.0}
    assert meta["deterministic"] is True
