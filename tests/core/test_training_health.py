"""Training-health warnings (issue 17): dead ReLU units, vanishing and exploding gradients,
steps too large and a loss that does not move, checked after every epoch on a fixed batch."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402

import pytest  # noqa: E402
from cli_support import run_cli  # noqa: E402
from core.test_trainer_support import Recorder, tiny_experiment, tiny_spec  # noqa: E402

from cnnlab.train import health  # noqa: E402
from cnnlab.train.events import EpochEnded, HealthWarning, TrainingHealth  # noqa: E402
from cnnlab.train.health_rules import (  # noqa: E402
    DEAD_FRACTION,
    EXPLODING_RATIO,
    LARGE_UPDATE_RATIO,
    STALL_EPOCHS,
    judge,
)
from cnnlab.train.health_store import (  # noqa: E402
    append_report,
    health_path,
    keep_epochs_before,
    read_health,
    read_warnings,
    report_dict,
)
from cnnlab.train.trainer import run  # noqa: E402

TINY = {"samples": 48, "size": 8, "batch": 16, "width": 4}


@pytest.fixture(autouse=True)
def health_on(monkeypatch):
    """The check is on here, whatever the rest of the suite chooses."""
    monkeypatch.setenv(health.ENV_SWITCH, "1")


def _cli_train(capsys, tmp_path, spec: dict, *extra):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    code, out, err = run_cli(capsys, "train", path, "--workspace", tmp_path / "ws", *extra)
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]), [json.loads(x)["health"] for x in lines[:-1]], err


def test_a_run_whose_relus_die_warns_through_cnnlab_train(tmp_path, capsys):
    # Adam at a rate of 1.0 pushes conv1's units below zero in the first epoch.
    spec = tiny_spec(epochs=1, lr=1.0, **TINY)
    code, result, warned, err = _cli_train(capsys, tmp_path, spec, "--json")
    assert code == 0 and result["status"] == "finished"
    dead = next(w for w in warned if w["kind"] == "dead" and w["layer"] == "conv1")
    assert dead["epoch"] == 1 and dead["value"] >= DEAD_FRACTION
    assert "leaky ReLU" in dead["try"] and "He initialisation" in dead["try"]
    assert "health (epoch 1): conv1: " in err and "ReLU units output zero" in err
    assert {(w["layer"], w["kind"]) for w in warned} >= {("conv1", "dead"),
                                                        ("conv1", "large_updates")}
    (record,) = read_health(result["run_dir"])  # the run folder keeps what was said
    assert record["epoch"] == 0 and set(record["layers"]) == {"conv1", "conv2", "output"}
    assert record["layers"]["conv1"]["dead"] >= DEAD_FRACTION
    assert [(w["layer"], w["kind"]) for w in record["warnings"]] == [
        (w["layer"], w["kind"]) for w in warned]


def test_a_healthy_run_sends_reports_without_warnings_to_the_sink(tmp_path):
    sink = Recorder()
    out = run(tiny_experiment(epochs=2, **TINY), sink, workspace=tmp_path)
    assert out.status == "finished"
    reports = sink.of(TrainingHealth)
    assert [r.epoch for r in reports] == [0, 1]
    assert all(r.warnings == () for r in reports)
    for r in reports:  # before the epoch is recorded, so a view shows both together
        assert sink.events.index(r) < sink.events.index(sink.of(EpochEnded)[r.epoch])
        for name in ("conv1", "conv2", "output"):
            numbers = r.layers[name]
            assert numbers["grad_norm"] > 0 and numbers["weight_norm"] > 0
            assert 0 < numbers["update_ratio"] < LARGE_UPDATE_RATIO
        assert r.layers["conv1"]["dead"] < DEAD_FRACTION and "dead" not in r.layers["output"]
    assert read_health(out.run_dir) == [json.loads(json.dumps(report_dict(r))) for r in reports]


def test_the_check_can_be_switched_off_for_the_benchmark(monkeypatch):
    monkeypatch.setenv(health.ENV_SWITCH, "0")
    assert not health.enabled() and health.callbacks(None, None) == []
    monkeypatch.setenv(health.ENV_SWITCH, "1")
    assert health.enabled()


def _layer(grad, weight=1.0, update=1e-3, dead=None):
    numbers = {"grad_norm": grad, "weight_norm": weight, "update_ratio": update}
    return numbers if dead is None else {**numbers, "dead": dead}


def test_the_rules_name_each_problem_once_and_what_to_try():
    layers = {"d0": _layer(1e-7), "d1": _layer(2 * EXPLODING_RATIO), "d2": _layer(0.1),
              "d3": _layer(0.1, update=2 * LARGE_UPDATE_RATIO), "d4": _layer(0.0, dead=0.9)}
    found = judge(4, layers, [2.0, 1.9, 1.8], seen={("d1", "exploding")})
    kinds = [(w.layer, w.kind, w.new) for w in found]
    assert kinds == [("d0", "vanishing", True), ("d1", "exploding", False),
                     ("d3", "large_updates", True), ("d4", "dead", True)]  # dead, not vanishing
    assert all(w.epoch == 4 and w.message.startswith(w.layer) and w.remedy for w in found)
    assert "batch-norm" in found[0].remedy and "lower learning rate" in found[1].remedy
    assert judge(0, {"d": _layer(math.nan)}, [1.0])[0].kind == "exploding"


def test_a_loss_that_does_not_move_is_a_run_warning_after_three_epochs():
    flat = [1.7918, 1.7915, 1.7912]
    assert judge(1, {}, flat[:STALL_EPOCHS - 1]) == []
    (w,) = judge(2, {}, flat)
    assert (w.layer, w.kind) == ("", "stalled") and "0.03%" in w.message
    assert judge(2, {}, [1.79, 1.5, 1.2]) == []  # learning
    assert judge(2, {}, [0.0101, 0.0100, 0.0100]) == []  # already fitted


def test_a_resumed_run_keeps_the_records_its_checkpoint_holds(tmp_path):
    warning = HealthWarning(0, "conv1", "dead", "conv1: dead", "try ELU", 0.8)
    for epoch in range(3):
        append_report(tmp_path, TrainingHealth(epoch, {"conv1": {"dead": 0.8}}, (warning,), 1.0))
    with open(health_path(tmp_path), "a", encoding="utf-8") as f:
        f.write('{"epoch": 3, "loss": 0.')  # a kill in the middle of a line
    assert [r["epoch"] for r in read_health(tmp_path)] == [0, 1, 2]
    kept = keep_epochs_before(tmp_path, 2)
    assert [r["epoch"] for r in kept] == [0, 1] == [r["epoch"] for r in read_health(tmp_path)]
    assert health_path(tmp_path).read_text().count("\n") == 2  # the torn line is gone too
    assert kept[0]["warnings"][0]["remedy"] == "try ELU"
    assert read_warnings(tmp_path) == [warning, dataclasses.replace(warning, epoch=1)]


@pytest.mark.slow  # the CLI path is test_a_run_whose_relus_die_warns_through_cnnlab_train
def test_a_deep_sigmoid_stack_warns_of_vanishing_gradients(tmp_path, capsys):
    spec = tiny_spec(epochs=1, **TINY)
    nodes = [spec["model"]["nodes"][0], {"id": "flat", "type": "Flatten", "params": {}}]
    nodes += [{"id": f"d{i}", "type": "Dense", "params": {"units": 16, "activation": "sigmoid"}}
              for i in range(8)]
    nodes.append(spec["model"]["nodes"][-1])
    spec["model"] = {"nodes": nodes, "edges": [{"src": a["id"], "dst": b["id"]}
                                               for a, b in zip(nodes, nodes[1:])]}
    code, _, warned, err = _cli_train(capsys, tmp_path, spec, "--json")
    assert code == 0
    vanishing = [w["layer"] for w in warned if w["kind"] == "vanishing"]
    assert vanishing and vanishing[0] == "d0" and "output" not in vanishing
    assert "d7" not in vanishing and "ReLU" in err


@pytest.mark.slow  # the records' resume rule is test_a_resumed_run_keeps_the_records_its_...
def test_a_resumed_run_continues_its_records_and_does_not_repeat_a_warning(tmp_path):
    exp = tiny_experiment(epochs=2, lr=1.0, **TINY)
    first = Recorder()
    out = run(exp, first, workspace=tmp_path)
    assert out.status == "finished"
    assert any(w.new and w.kind == "dead" for w in first.of(TrainingHealth)[0].warnings)
    again = Recorder()
    assert run(None, again, workspace=tmp_path, resume=out.run_id, epochs=3).status == "finished"
    (report,) = again.of(TrainingHealth)
    assert report.epoch == 2 and report.warnings
    told = {(w.layer, w.kind) for r in first.of(TrainingHealth) for w in r.warnings}
    assert all(not w.new for w in report.warnings if (w.layer, w.kind) in told)
    assert [r["epoch"] for r in read_health(out.run_dir)] == [0, 1, 2]


def test_the_compiled_check_measures_what_the_eager_one_does():
    """The first EAGER_CHECKS epochs are checked eagerly, later ones compiled: same numbers."""
    import keras
    import numpy as np

    from cnnlab.train.health_probe import EAGER_CHECKS, HealthProbe

    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(),
                            keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((32, 8, 8, 1), dtype=np.float32)
    y = np.arange(32) % 3
    probe = HealthProbe(net, keras.losses.SparseCategoricalCrossentropy(), x, y)
    seen = [probe.measure() for _ in range(EAGER_CHECKS + 1)]  # the last one is compiled
    eager, compiled = seen[0], seen[-1]
    assert eager.keys() == compiled.keys() and "dead" in eager[net.layers[0].name]
    for name, numbers in eager.items():
        for key, value in numbers.items():
            assert math.isclose(value, compiled[name][key], rel_tol=1e-5, abs_tol=1e-7), (name, key)
