"""The acceptance matrix for `cnnlab plan` and `cnnlab lr-find` on the tiny base experiment.

Each recipe option that changes the memory estimate is planned through
`cnnlab plan --no-time --json` (the data are loaded; nothing trains) and
compared with the base; one range test runs on the base with augmentation
inside the model.
"""

import json

import pytest
from matrix_lab import Lab, cli


def plan(lab: Lab, d: dict) -> dict:
    code, out, err = cli("plan", lab.write(d, "plan"), "--no-time", "--json")
    assert code == 0, err
    return json.loads(out)["memory"]


def optimizer(**values):
    return lambda d: d["training"]["optimizer"].update(values)


@pytest.mark.parametrize(("edit", "ratio"), [
    (optimizer(name="sgd", momentum=0.0), 0.0), (optimizer(name="sgd", momentum=0.9), 0.5),
    (optimizer(name="rmsprop", momentum=0.0), 0.5),
    (lambda d: d["training"].update(gradient_accumulation_steps=2), 1.5)])
def test_optimizer_slots_in_the_plan(lab, edit, ratio):
    base, changed = plan(lab, lab.spec()), plan(lab, lab.spec(edit))
    assert changed["optimizer"] == ratio * base["optimizer"]  # adam's two slots are 1.0
    assert changed["weights"] == base["weights"] and changed["data"] == base["data"]


def test_precision_and_batch_size_in_the_plan(lab):
    base = plan(lab, lab.spec())
    mixed = plan(lab, lab.spec(lambda d: d["training"]["device"].update(
        mixed_precision="mixed_float16")))
    double = plan(lab, lab.spec(lambda d: d["training"].update(batch_size=32)))
    assert mixed["activations"] == base["activations"] // 2
    assert mixed["weights"] == base["weights"]
    assert double["activations"] == 2 * base["activations"]


@pytest.mark.slow  # the CLI path: tests/core/test_lr_find.py::test_lr_find_json_and_apply
def test_lr_find_with_augmentation_in_the_model(lab):
    d = lab.spec(lambda d: d["training"]["augmentation"].update(
        placement="model", layers=[{"type": "RandomFlip", "params": {"mode": "horizontal"}}]))
    code, out, err = cli("lr-find", lab.write(d, "lr"), "--steps", "20", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["rates"]) == len(result["losses"]) >= 2
