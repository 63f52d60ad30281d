"""`cnnlab plan`: the memory estimate's arithmetic, the JSON of a real plan, its warnings.

The default tests count a tiny model by hand and run `cnnlab plan` in-process
on a tiny shapes experiment (real data, real training steps). The slow test
measures the real peak memory of training three models of different sizes in
subprocesses and holds the estimate to 25 % of it.
"""

import json
import subprocess
import sys
import textwrap

import pytest
from cli_support import run_cli

from cnnlab.plan import estimate_memory, max_batch_size, optimizer_slots
from cnnlab.plan.memory import loaded_data_bytes, spec_data_bytes
from cnnlab.spec import experiment_from_dict

KEYS = {"memory", "max_batch_size", "step_seconds", "epoch_seconds", "run_seconds",
        "samples_per_second", "device", "warnings"}
MEMORY_KEYS = {"weights", "gradients", "optimizer", "activations", "data", "total",
               "available"}


def tiny(size=8, batch=10, optimizer=None, samples=60, filters=4, **device) -> dict:
    """Input size x size x 1, Conv2D(filters, 3, same, relu), Flatten, Output(3)."""
    return {
        "schema_version": 1, "name": "tiny",
        "model": {"nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [size, size, 1]}},
            {"id": "conv", "type": "Conv2D", "params": {"filters": filters, "kernel_size": 3,
                                                        "padding": "same",
                                                        "activation": "relu"}},
            {"id": "flat", "type": "Flatten", "params": {}},
            {"id": "output", "type": "Output", "params": {"units": 3,
                                                          "activation": "softmax"}}],
            "edges": [{"src": "input", "dst": "conv"}, {"src": "conv", "dst": "flat"},
                      {"src": "flat", "dst": "output"}]},
        "data": {"source": "shapes", "shapes": {"image_size": size, "channels": 1,
                                                "classes": ["circle", "square", "cross"],
                                                "samples": samples}},
        "training": {"epochs": 2, "batch_size": batch, "optimizer": optimizer or {},
                     "device": device},
    }


def test_estimate_matches_a_hand_count():
    exp = experiment_from_dict(tiny())
    params = (3 * 3 * 1 * 4 + 4) + (8 * 8 * 4 * 3 + 3)  # conv 40, output 771
    kept = 8 * 8 + 2 * (8 * 8 * 4) + 0 + 2 * 3  # input, conv out + grad, flatten view, out
    est = estimate_memory(exp, data_bytes=1000, available=10**6)
    assert (est.weights, est.gradients, est.optimizer) == (params * 4, params * 4,
                                                           2 * params * 4)  # adam: 2 slots
    assert est.activations == kept * 10 * 4
    assert est.total == est.weights + est.gradients + est.optimizer + est.activations + 1000
    fixed = 4 * params * 4 + 1000
    assert max_batch_size(exp, 1000, 10**6) == (10**6 - fixed) // (kept * 4)
    assert max_batch_size(exp, 1000, fixed) == 0 and max_batch_size(exp, 1000, None) is None
    mixed = experiment_from_dict(tiny(mixed_precision="mixed_float16"))
    assert estimate_memory(mixed, 0).activations == est.activations // 2
    assert estimate_memory(mixed, 0).weights == est.weights  # float32 master weights


@pytest.mark.parametrize(("optimizer", "accumulation", "slots"), [
    ({"name": "adam"}, 1, 2), ({"name": "adamw"}, 1, 2), ({"name": "sgd", "momentum": 0.0}, 1, 0),
    ({"name": "sgd", "momentum": 0.9}, 1, 1), ({"name": "rmsprop", "momentum": 0.0}, 1, 1),
    ({"name": "rmsprop", "momentum": 0.9}, 1, 2), ({"name": "adagrad"}, 1, 1),
    ({"name": "adam"}, 4, 3)])
def test_optimizer_slots(optimizer, accumulation, slots):
    d = tiny(optimizer=optimizer)
    d["training"]["gradient_accumulation_steps"] = accumulation
    exp = experiment_from_dict(d)
    assert optimizer_slots(exp.training.optimizer, accumulation) == slots


@pytest.mark.parametrize("max_samples", [None, 20])
def test_data_size_from_the_spec_is_the_loaded_size(max_samples):
    from cnnlab.data import load_data

    d = tiny()
    d["data"]["max_samples"] = max_samples
    exp = experiment_from_dict(d)
    data = load_data(exp.data, (8, 8, 1), 0)
    assert spec_data_bytes(exp) == pytest.approx(loaded_data_bytes(data), rel=0.05)


def test_plan_json_measures_real_steps(tmp_path, capsys):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(tiny()))
    code, out, err = run_cli(capsys, "plan", spec, "--json", "--steps", "10")
    assert code == 0, err
    plan = json.loads(out)
    assert set(plan) == KEYS and set(plan["memory"]) == MEMORY_KEYS
    memory = plan["memory"]
    assert memory["total"] == sum(memory[k] for k in MEMORY_KEYS - {"total", "available"})
    assert memory["available"] > memory["total"] and plan["max_batch_size"] > 10
    assert plan["device"] == "CPU" and plan["warnings"] == []
    assert plan["step_seconds"] > 0
    assert plan["epoch_seconds"] == pytest.approx(plan["step_seconds"] * 5)  # 48 images / 10
    assert plan["run_seconds"] == pytest.approx(plan["epoch_seconds"] * 2)
    assert plan["samples_per_second"] == pytest.approx(10 / plan["step_seconds"])


def test_plan_says_what_would_fit(tmp_path, capsys):
    d = tiny(size=64, batch=65_536, filters=64, samples=12)
    spec = tmp_path / "huge.json"
    spec.write_text(json.dumps(d))
    code, out, err = run_cli(capsys, "plan", spec, "--json")  # no steps: it cannot fit
    assert code == 0, err
    plan = json.loads(out)
    assert plan["memory"]["total"] > plan["memory"]["available"]
    assert plan["step_seconds"] is None
    (warning,) = plan["warnings"]
    assert "will not fit" in warning and f"batch size {plan['max_batch_size']} " in warning
    assert "input 32x32" in warning  # mixed precision alone would not fit: not offered
    code, out, err = run_cli(capsys, "plan", spec, "--no-time")
    assert code == 0 and "will not fit" in out and "largest batch size" in out


def test_plan_refuses_bad_input_in_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.json"
    for args in ((missing,), ("default", "--steps", "5")):
        code, out, err = run_cli(capsys, "plan", *args)
        assert code == 2 and out == "" and "Traceback" not in err
        assert err.startswith("cnnlab: error:") and len(err.strip().splitlines()) == 1


MEASURE = textwrap.dedent("""
    import json, resource, sys
    from cnnlab.tfquiet import import_tensorflow, quiet_environment
    quiet_environment(); import_tensorflow()
    import tensorflow as tf
    tf.constant(1.0) + 1  # TensorFlow's runtime is up: the baseline
    def rss():
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmRSS"))
    base = rss()
    from cnnlab.plan.memory import estimate_memory, loaded_data_bytes
    from cnnlab.plan.prepared import prepared_training
    from cnnlab.spec import load_experiment
    exp = load_experiment(sys.argv[1])
    with prepared_training(exp) as ready:
        ready.model.fit(ready.sets.train.repeat(), epochs=1, steps_per_epoch=4, verbose=0,
                        shuffle=False)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        estimate = estimate_memory(exp, loaded_data_bytes(ready.data)).total
    print(json.dumps({"measured": peak - base, "estimate": estimate}))
""")


@pytest.mark.slow  # the arithmetic: test_estimate_matches_a_hand_count
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize(("size", "filters", "batch", "samples"), [
    (64, 1.0, 256, 1000), (96, 1.0, 128, 600), (64, 2.0, 96, 800)])
def test_estimate_within_25_percent_of_the_measured_peak(tmp_path, size, filters, batch,
                                                         samples):
    """Peak RSS of training (ru_maxrss) minus the RSS once TensorFlow's runtime is up."""
    spec = tmp_path / "base.json"
    assert run_cli_quiet("new", spec) == 0
    d = json.loads(spec.read_text())
    d["data"]["shapes"].update(image_size=size, samples=samples)
    for node in d["model"]["nodes"]:
        if node["type"] == "Input":
            node["params"]["shape"] = [size, size, 3]
        if "filters" in node["params"]:
            node["params"]["filters"] = int(node["params"]["filters"] * filters)
    d["training"]["batch_size"] = batch
    spec.write_text(json.dumps(d))
    done = subprocess.run([sys.executable, "-c", MEASURE, str(spec)], capture_output=True,
                          text=True, timeout=600, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    error = result["estimate"] / result["measured"] - 1
    print(f"{size}px x{filters} filters batch {batch}: estimate {result['estimate']:,} "
          f"measured {result['measured']:,} error {error:+.1%}")
    assert abs(error) <= 0.25


def run_cli_quiet(*args) -> int:
    """``cnnlab ARGS`` in this process, its output dropped."""
    import contextlib
    import io

    from cnnlab.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in args])
