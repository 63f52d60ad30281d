"""The built-in lecture studies (issue 15): `cnnlab study new --lecture NAME`, `study run`
and `study show` on tiny data, each producing its lecture's table; bad input refused."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import pytest  # noqa: E402
from core.test_trainer_support import tiny_spec  # noqa: E402
from core.test_transfer_support import base_file, cli  # noqa: E402

from cnnlab.errors import CnnlabError  # noqa: E402
from cnnlab.studies.lecture import apply_changes, lecture_table, lecture_variants  # noqa: E402
from cnnlab.studies.lecture_variants import VARIANT_NAMES  # noqa: E402

SIZE = 8


def _tiny(path, samples=48, epochs=2, **training):
    """A tiny CNN experiment file on 8x8 shapes (3 classes)."""
    spec = tiny_spec(samples=samples, size=SIZE, epochs=epochs, batch=16, width=4,
                     **training)
    path.write_text(json.dumps(spec))
    return path


def _transfer_experiment(tmp_path, capsys, epochs=1):
    """`cnnlab new --base base.keras` (a tiny conv/BN/pool/conv file base), made tiny."""
    base = base_file(tmp_path, size=SIZE)
    spec = tmp_path / "transfer.json"
    code, _, err = cli(capsys, "new", spec, "--preset", "allconv", "--input",
                       f"{SIZE},{SIZE},3", "--classes", "3", "--base", base)
    assert code == 0, err
    d = json.loads(spec.read_text())
    d["data"]["shapes"].update(samples=40)
    d["data"].update(validation_split=0.0, test_split=0.3)  # no validation pass: cheaper
    d["training"].update(epochs=epochs, batch_size=16)
    spec.write_text(json.dumps(d))
    return spec


def _study(capsys, tmp_path, experiment, lecture, *args) -> tuple[dict, str]:
    """new --lecture, run, show --json and show: the summary and the printed table."""
    study = tmp_path / f"{lecture}.study.json"
    code, out, err = cli(capsys, "study", "new", study, "--experiment", experiment,
                         "--lecture", lecture, *args)
    assert code == 0, err
    assert f"{len(VARIANT_NAMES[lecture])} trials" in out
    code, _, err = cli(capsys, "study", "run", study)  # runs in CNNLAB_HOME, as show reads
    assert code == 0, err
    code, out, err = cli(capsys, "study", "show", study, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert sorted(t["params"]["variant"] for t in summary["trials"]) == sorted(
        VARIANT_NAMES[lecture])
    assert all(t["state"] == "COMPLETE" and t["run_id"] for t in summary["trials"])
    code, out, err = cli(capsys, "study", "show", study)
    assert code == 0, err
    return summary, out


def test_transfer_study_fills_the_rule_of_thumb_table(tmp_path, capsys):
    summary, shown = _study(capsys, tmp_path, _transfer_experiment(tmp_path, capsys),
                            "transfer", "--objective", "test_accuracy")
    assert "Transfer strategies on this data (test accuracy):" in shown
    assert "The lectures' rule of thumb, with this data's numbers:" in shown
    table = shown[shown.index("Transfer strategies"):].splitlines()
    rows = {line.split()[0]: line.split()[1] for line in table[2:7]}
    assert set(rows) == set(VARIANT_NAMES["transfer"])
    assert all(0.0 <= float(v) <= 1.0 for v in rows.values()), rows
    assert any(line.strip().startswith("little data") for line in table)
    assert f"cut_earlier {rows['cut_earlier']}" in shown  # the measured number in its cell
    assert "Best here:" in shown
    # The same table from the summary alone, reading the runs' test results.
    assert lecture_table(summary)[:7] == table[:7]


def test_transfer_variants_train_what_they_say(tmp_path, capsys):
    spec = _transfer_experiment(tmp_path, capsys, epochs=2)
    experiment = json.loads(spec.read_text())
    variants = lecture_variants("transfer", experiment)
    assert list(variants) == list(VARIANT_NAMES["transfer"])
    cut = variants["cut_earlier"]
    ids = [n["id"] for n in cut["model"]["nodes"]]
    assert "base_b3" not in ids and "base_b2" not in ids and "base_b1" in ids  # before the pool
    assert cut["training.transfer.cut_at"] == "b1"
    assert variants["fine_tune"]["training.transfer.lr_multiplier"] < 1
    assert variants["fine_tune"]["training.transfer.head_epochs"] == 1  # 2 epochs: 1 each
    assert variants["svm_head"]["training.transfer.head"] == "svm"
    applied = apply_changes(experiment, variants["scratch"])
    assert applied["training"]["transfer"]["strategy"] == "scratch"


def test_bad_lecture_input_is_one_line(tmp_path, capsys):
    spec = _tiny(tmp_path / "e.json")
    code, out, err = cli(capsys, "study", "new", tmp_path / "s.json", "--experiment", spec,
                         "--lecture", "transfer")
    assert code == 2 and err.count("\n") == 1 and "needs a pretrained base" in err
    code, out, err = cli(capsys, "study", "new", tmp_path / "s.json", "--experiment", spec,
                         "--lecture", "dropout")
    assert code == 2 and "unknown lecture study 'dropout'" in err and err.count("\n") == 1
    assert not (tmp_path / "s.json").exists()
    mlp = json.loads(spec.read_text())
    mlp["model"]["nodes"] = [n for n in mlp["model"]["nodes"] if n["type"] in ("Input", "Output")]
    mlp["model"]["nodes"].insert(1, {"id": "flat", "type": "Flatten", "params": {}})
    mlp["model"]["edges"] = [{"src": "input", "dst": "flat"}, {"src": "flat", "dst": "output"}]
    with pytest.raises(CnnlabError, match="batchnorm study needs a network with convolutions"):
        lecture_variants("batchnorm", mlp)


def test_variants_of_every_lecture_fit_the_experiment(tmp_path):
    experiment = json.loads(_tiny(tmp_path / "e.json", epochs=6).read_text())
    regs = lecture_variants("regularizers", experiment)
    assert list(regs) == list(VARIANT_NAMES["regularizers"])
    mlp = regs["mlp128/dropout"]["model"]
    assert [n["type"] for n in mlp["nodes"]] == ["Input", "Flatten", "Dense", "Output",
                                                 "Dropout"]
    assert mlp["nodes"][0]["params"]["shape"] == [SIZE, SIZE, 3]
    assert regs["cnn/l2"]["training.regularization.kernel_l2"] > 0
    assert regs["cnn/none"]["training.regularization.max_norm"] is None
    sparse = regs["mlp128/kl_sparsity"]["model"]["nodes"][2]["params"]
    assert sparse["sparsity_rho"] == 0.05 and sparse["units"] == 128
    schedules = lecture_variants("schedules", experiment)
    assert schedules["cosine_restarts"]["training.schedule.first_decay_epochs"] == 3.0
    assert schedules["step"]["training.schedule.boundaries"] == [3.0, 4.5]


def test_batchnorm_study_prints_the_caffenet_table(tmp_path, capsys):
    _, shown = _study(capsys, tmp_path, _tiny(tmp_path / "e.json"), "batchnorm")
    table = shown[shown.index("BN -- before or after ReLU?"):].splitlines()
    assert table[1].split() == ["Name", "Accuracy", "LogLoss", "Comments"]
    assert [line.split()[0] for line in table[2:5]] == ["None", "Before", "After"]
    assert "As in paper" in table[3]
    assert all(0 <= float(line.split()[1]) <= 1 for line in table[2:5])
    assert sum("best here" in line for line in table[2:5]) == 1


def test_regularizers_study_compares_two_networks(tmp_path, capsys):
    _, shown = _study(capsys, tmp_path, _tiny(tmp_path / "e.json", epochs=1), "regularizers")
    table = shown[shown.index("Regularizers ("):].splitlines()
    assert table[1].split() == ["regularizer", "MLP-128", "small", "CNN"]
    assert [line[2:18].strip() for line in table[2:8]] == [
        "none", "L2", "KL sparsity", "max-norm", "Gaussian noise", "dropout"]
    assert table[8].split()[0] == "best"


def test_schedules_study_measures_the_snapshot_ensemble(tmp_path, capsys):
    _, shown = _study(capsys, tmp_path, _tiny(tmp_path / "e.json", epochs=2), "schedules")
    table = shown[shown.index("Learning-rate schedules ("):].splitlines()
    assert [line.split()[0] for line in table[2:6]] == list(VARIANT_NAMES["schedules"])
    assert "2 snapshots: ensemble" in table[7] and "vs the single final model" in table[7]


def test_an_earlier_cut_never_lands_inside_a_residual_branch():
    def conv(i, filters=4):
        return {"id": i, "type": "Conv2D", "params": {"filters": filters, "padding": "same"}}

    nodes = [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 3]}},
             conv("base_c1"), {"id": "base_pool", "type": "MaxPooling2D", "params": {}},
             conv("base_c2"), conv("base_c3"), {"id": "base_add", "type": "Add", "params": {}},
             {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
             {"id": "output", "type": "Output", "params": {"units": 3}}]
    pairs = [("input", "base_c1"), ("base_c1", "base_pool"), ("base_pool", "base_c2"),
             ("base_c2", "base_c3"), ("base_pool", "base_add"), ("base_c3", "base_add"),
             ("base_add", "gap"), ("gap", "output")]
    edges = [{"src": a, "dst": b} for a, b in pairs]
    edges[5]["port"] = 1
    experiment = {"name": "residual", "model": {"nodes": nodes, "edges": edges},
                  "data": {"shapes": {"image_size": 16, "classes": ["circle", "square",
                                                                    "cross"]}},
                  "training": {"transfer": {"strategy": "feature_extractor", "base": "r.keras",
                                            "base_source": "file", "weights": "file",
                                            "weights_path": "r.keras"}}}
    cut = lecture_variants("transfer", experiment)["cut_earlier"]
    # base_c2 and base_c3 sit inside the skip (base_pool -> base_add); base_pool keeps
    # the current cut's 8x8, so the cut is the last block before the downsampling.
    assert cut["training.transfer.cut_at"] == "c1"
    assert [n["id"] for n in cut["model"]["nodes"]] == ["input", "base_c1", "gap", "output"]
    assert {"src": "base_c1", "dst": "gap"} in cut["model"]["edges"]
