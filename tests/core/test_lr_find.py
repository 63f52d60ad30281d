"""`cnnlab lr-find`: the ramp, the smoothing and the suggestion; a real range test.

The default tests check the arithmetic on a known curve and run `cnnlab
lr-find` in-process on a tiny shapes experiment (20 real training steps).
The slow test trains the default experiment (`cnnlab new`) with the suggested
rate of a 300-step test (in 100 steps its loss stays flat: no suggestion) and
with its own rate for the same epochs and compares the validation accuracy.
Measured (seeds 0, 1): suggested 0.00376 -> 0.968, 0.997; the default's
0.002 -> 0.972, 0.978 (0.0011, the flat 100-step curve's steepest noise,
gave 0.878 with seed 0).
"""

import json
import math

import pytest
from cli_support import run_cli

from cnnlab.plan import suggest_rate
from cnnlab.plan.lr_find import exploded, ramp, smooth


def tiny() -> dict:
    """Input 8x8x1, Conv2D(4, 3, relu), Flatten, Output(3) on 60 shapes images, batch 10."""
    nodes = [("input", "Input", {"shape": [8, 8, 1]}),
             ("conv", "Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
             ("flat", "Flatten", {}), ("output", "Output", {"units": 3})]
    return {"schema_version": 1, "name": "tiny",
            "model": {"nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
                      "edges": [{"src": a[0], "dst": b[0]} for a, b in zip(nodes, nodes[1:])]},
            "data": {"source": "shapes", "shapes": {"image_size": 8, "channels": 1,
                                                    "classes": ["circle", "square", "cross"],
                                                    "samples": 60}},
            "training": {"batch_size": 10}}


def test_ramp_is_exponential_from_1e_7_to_10():
    rates = ramp()
    assert len(rates) == 100 and rates[0] == pytest.approx(1e-7) and rates[-1] == pytest.approx(10)
    ratios = {round(b / a, 9) for a, b in zip(rates, rates[1:])}
    assert len(ratios) == 1  # one factor per step: evenly spaced in log


def test_suggestion_is_the_steepest_descent_of_the_smoothed_loss():
    rates = ramp()
    # A loss that falls fastest around 1e-3 (log10 = -3), then explodes past 1.
    losses = [2.0 - 1.5 / (1 + math.exp(-3 * (math.log10(r) + 3))) + (5 * r if r > 1 else 0)
              for r in rates]
    suggested = suggest_rate(rates, losses)
    assert 10**-3.6 < suggested < 10**-2.4  # the smoothing's lag is under a decade's half
    assert exploded([1.0, 0.5, 2.5]) and not exploded(smooth([1.0, 0.9, 0.8]))
    assert exploded([1.0, float("inf")])
    assert suggest_rate(rates[:5], losses[:5]) is None  # too few points to say


def test_lr_find_json_and_apply(tmp_path, capsys):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(tiny()))
    out_file = tmp_path / "tuned.json"
    code, out, err = run_cli(capsys, "lr-find", spec, "--json", "--steps", "20",
                             "--apply", "--out", out_file)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"suggested", "rates", "losses"}
    rates, losses = result["rates"], result["losses"]
    assert len(rates) == len(losses) and 1 < len(rates) <= 20
    assert rates[0] == pytest.approx(1e-7) and rates == sorted(rates)
    assert all(loss is None or loss > 0 for loss in losses)
    assert json.loads(spec.read_text()) == tiny()  # the experiment itself is untouched
    if result["suggested"] is None:
        assert not out_file.exists()
    else:
        written = json.loads(out_file.read_text())
        assert written["training"]["optimizer"]["learning_rate"] == result["suggested"]
    before = out_file.read_bytes() if out_file.exists() else None
    out_file.write_text("{}") if before is None else None
    code, out, err = run_cli(capsys, "lr-find", spec, "--apply", "--out", out_file)
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert out_file.read_bytes() == (before or b"{}")  # refused before the test ran
    code, _, err = run_cli(capsys, "lr-find", "default", "--apply")
    assert code == 2 and "--out" in err


@pytest.mark.slow  # the range test's CLI path: test_lr_find_json_and_apply
def test_suggestion_trains_the_default_experiment_as_well(tmp_path, capsys):
    """Mean final validation accuracy over seeds 0 and 1, 20 epochs each (about 10 min)."""
    from cli_support import train_run

    from cnnlab.runs.store import RunStore

    spec = tmp_path / "default.json"
    assert run_cli(capsys, "new", spec)[0] == 0
    tuned = tmp_path / "tuned.json"
    code, out, _ = run_cli(capsys, "lr-find", spec, "--json")
    assert code == 0 and json.loads(out)["suggested"] is None  # flat in 100 steps: no guess
    code, out, err = run_cli(capsys, "lr-find", spec, "--json", "--steps", "300", "--apply",
                             "--out", tuned)
    assert code == 0, err
    suggested = json.loads(out)["suggested"]
    ws = tmp_path / "ws"
    accuracy = {"default": [], "suggested": []}
    for seed in (0, 1):
        for name, path in (("default", spec), ("suggested", tuned)):
            d = json.loads(path.read_text())
            d["training"]["seed"] = seed
            seeded = tmp_path / f"{name}_{seed}.json"
            seeded.write_text(json.dumps(d))
            run_id = train_run(seeded, ws)
            accuracy[name].append(RunStore(ws).metrics(run_id)["val_accuracy"][-1])
    print(f"suggested {suggested:g} (default 0.002): val_accuracy per seed {accuracy}")
    assert sum(accuracy["suggested"]) >= sum(accuracy["default"])
