"""Acceptance matrix, transfer part: each strategy x head x base source through
``cnnlab train``, with the frozen layers' weights checked bit for bit.

The base goes into the experiment with :func:`cnnlab.modelio.insert_base`
(what the window's Insert base does); a reference run of the same experiment
at learning rate 0 holds the weights every run starts from.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from matrix_checks import (
    close,
    cross_entropy,
    inbound,
    predict,
    squared_hinge,
    weight_penalty,
)
from matrix_lab import assert_one_line_error, changed, cli, identical

PREFIX = "base_"
# source -> (base, cut_at, image size)
SOURCES = {"application": ("MobileNetV2", "expanded_conv_project_BN", 32),
           "preset": ("lenet5", "s2", 16),
           "file": (None, "conv2", 16)}  # None: the base run's model.keras
BEYOND_CUT = {"application": "block_1_expand", "preset": "c3", "file": "conv3"}
STRATEGIES = {
    "scratch": {},
    "feature_extractor": {},
    "fine_tune": {"head_epochs": 1, "unfreeze": 1, "lr_multiplier": 0.5},
    "multipliers": {},
}


def transfer_spec(lab, source: str, strategy: str, head: str = "softmax",
                  learning_rate: float = 0.002) -> dict:
    """The tiny experiment with the base of ``source`` inserted and the recipe set."""
    from cnnlab.modelio.splice import insert_base
    from cnnlab.spec.load import experiment_from_dict

    name, cut_at, size = SOURCES[source]
    if name is None:
        name = lab.cached("base").result["model_path"]
    exp = experiment_from_dict(lab.spec(size=size))
    d = insert_base(exp, name, source, cut_at=cut_at, weights="random", prefix=PREFIX).to_dict()
    t = d["training"]["transfer"]
    t.update(strategy=strategy, head=head, **STRATEGIES[strategy])
    if strategy == "multipliers":
        t["layer_multipliers"] = {first_weighted(d): 0.0}
    d["training"]["epochs"] = 2 if strategy == "fine_tune" else 1
    d["training"]["optimizer"]["learning_rate"] = learning_rate
    return d


def first_weighted(d: dict) -> str:
    """The first base block with weights (a convolution)."""
    return next(n["id"] for n in d["model"]["nodes"] if n["id"].startswith(PREFIX)
                and n["type"] in ("Conv2D", "DepthwiseConv2D", "Dense"))


def base_layers(run) -> list:
    """The saved model's base layers that hold weights, in order."""
    return [la for la in run.model.layers if la.name.startswith(PREFIX) and la.weights]


def top_weighted(run) -> str:
    """The top base layer with weights that is not batch-norm (what unfreeze=1 trains)."""
    return [la.name for la in base_layers(run)
            if type(la).__name__ != "BatchNormalization"][-1]


def reference(lab, source: str):
    """The run at learning rate 0: the weights every run of ``source`` starts from."""
    def build(d):
        d.clear()
        d.update(transfer_spec(lab, source, "feature_extractor", learning_rate=0.0))
    return lab.cached(f"ref-{source}", build)


def check_cut(run, source: str) -> None:
    """The base ends at cut_at, which feeds the head; nothing after it was kept."""
    cut_at = SOURCES[source][1]
    names = [la.name for la in run.model.layers]
    assert inbound(run.model, "gap") == [PREFIX + cut_at]
    assert PREFIX + BEYOND_CUT[source] not in names
    assert not {"conv1", "conv2", "conv3"} & set(names)  # the old feature extractor is gone


def check_head(run, head: str) -> None:
    """softmax: cross-entropy; svm: linear scores, L2 on them, squared hinge."""
    out = run.model.layers[-1]
    x, y = run.val_arrays()
    scores = predict(run.model, x)
    penalty = weight_penalty(run.model)
    logged = run.result["metrics"]["val_loss"]
    if head == "softmax":
        assert out.get_config()["activation"] == "softmax"
        assert close(logged, cross_entropy(scores, y) + penalty, rel=1e-4)
        return
    assert out.get_config()["activation"] == "linear"
    l2 = run.spec["training"]["transfer"]["svm_l2"]
    assert out.kernel_regularizer is not None
    assert np.isclose(out.kernel_regularizer.get_config()["l2"], l2)
    assert close(logged, squared_hinge(scores, y) + penalty, rel=1e-4)


def check_strategy(run, ref, strategy: str) -> None:
    """Which base layers moved, and which stayed bit-identical."""
    now, start = run.weights(), ref.weights()
    names = [la.name for la in base_layers(run)]
    assert names, "the base has no layers with weights"
    assert changed(now["fc1"], start["fc1"])  # the head always trains
    if strategy == "feature_extractor":
        frozen = names
    elif strategy == "fine_tune":
        top = top_weighted(run)
        assert changed(now[top], start[top]), top
        frozen = [n for n in names if n != top]
    elif strategy == "multipliers":
        frozen = [first_weighted(run.spec)]
    else:  # scratch: the base trains like the head
        frozen = []
        top = top_weighted(run)
        assert changed(now[top], start[top]), top
    for name in frozen:
        assert identical(now[name], start[name]), f"{name} moved"


@pytest.mark.parametrize("head", ["softmax", "svm"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("source", list(SOURCES))
def test_transfer_strategy_head_and_source(lab, source, strategy, head):
    run = lab.train(transfer_spec(lab, source, strategy, head))
    assert run.ok, run.describe()
    assert run.result["epochs_done"] == run.spec["training"]["epochs"]
    check_cut(run, source)
    check_strategy(run, reference(lab, source), strategy)
    check_head(run, head)


def test_a_model_file_base_brings_its_weights_bit_identical(lab):
    ref = reference(lab, "file")
    source = lab.cached("base").weights()
    start = ref.weights()
    for name in ("conv1", "conv2"):
        assert identical(start[PREFIX + name], source[name]), name


def test_a_bad_cut_point_is_one_clear_line(lab, tmp_path):
    d = transfer_spec(lab, "preset", "feature_extractor")
    d["model"]["nodes"] = [n for n in d["model"]["nodes"] if n["id"] != "base_c1"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(d))
    code, _, err = cli("train", path, "--workspace", lab.workspace, "--json")
    assert_one_line_error(code, err)


def test_headless_transfer_setup_trains(lab, tmp_path):
    spec = tmp_path / "t.json"
    code, _, err = cli("new", spec, "--input", "32,32,3", "--classes", "6", "--base",
                       "MobileNetV2", "--weights", "random", "--strategy", "fine_tune",
                       "--cut-at", "expanded_conv_project_BN", "--head", "svm")
    assert code == 0, err
    d = json.loads(spec.read_text())
    t = d["training"]["transfer"]
    assert (t["base"], t["strategy"], t["head"], t["cut_at"]) == (
        "MobileNetV2", "fine_tune", "svm", "expanded_conv_project_BN")
    d["data"]["shapes"].update(samples=96, image_size=32)
    d["training"].update(epochs=2, batch_size=16)
    t.update(head_epochs=1, unfreeze=1)
    run = lab.train(d)
    assert run.ok, run.describe()
    check_head(run, "svm")
