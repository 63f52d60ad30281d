"""Experiment spec: strict loading with path-naming errors, round-trips, migrations."""

import copy
import json

import pytest

from cnnlab.analysis import analyze
from cnnlab.errors import SpecError
from cnnlab.spec import dumps, experiment_from_dict, load_experiment, save_experiment

BASE = {
    "name": "t",
    "model": {
        "nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [32, 32, 3]}},
            {"id": "conv1", "type": "Conv2D", "params": {"filters": 8, "kernel_size": 3}},
            {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
            {"id": "out", "type": "Output", "params": {"units": 6}},
        ],
        "edges": [{"src": "input", "dst": "conv1"}, {"src": "conv1", "dst": "gap"},
                  {"src": "gap", "dst": "out"}],
    },
}


def mutate(path, value=None, delete=False):
    d = copy.deepcopy(BASE)
    target = d
    keys = path.split("/")
    for k in keys[:-1]:
        target = target[int(k)] if isinstance(target, list) else target.setdefault(k, {})
    last = keys[-1]
    if delete:
        del target[int(last) if isinstance(target, list) else last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return d


# (mutation, expected path in the message, a word the message must contain)
MALFORMED = [
    (mutate("extra", 1), "extra", "unknown key"),
    (mutate("model/nodes/1/params/kernel_size", "3"), "model.nodes[1].params.kernel_size",
     "integer"),
    (mutate("model/nodes/1/params/kernel_size", 0), "model.nodes[1].params.kernel_size", ">= 1"),
    (mutate("model/nodes/1/params/kernel_size", [3, 3, 3]), "model.nodes[1].params.kernel_size",
     "pair"),
    (mutate("model/nodes/1/params/filters", -4), "model.nodes[1].params.filters", ">= 1"),
    (mutate("model/nodes/1/params/filters", True), "model.nodes[1].params.filters", "integer"),
    (mutate("model/nodes/1/params/padding", "full"), "model.nodes[1].params.padding", "valid"),
    (mutate("model/nodes/1/params/activation", "relu7"), "model.nodes[1].params.activation",
     "one of"),
    (mutate("model/nodes/1/params/kernal_size", 3), "model.nodes[1].params.kernal_size",
     "no parameter"),
    (mutate("model/nodes/1/type", "Conv3D"), "model.nodes[1].type", "unknown block type"),
    (mutate("model/nodes/1/id", "1conv"), "model.nodes[1].id", "id must start"),
    (mutate("model/nodes/1/id", "input"), "model.nodes[1].id", "duplicate"),
    (mutate("model/nodes/1/color", "red"), "model.nodes[1].color", "unknown key"),
    (mutate("model/nodes/1", "conv"), "model.nodes[1]", "object"),
    (mutate("model/nodes", []), "model.nodes", "non-empty"),
    (mutate("model/edges/0/dst", "nowhere"), "model.edges[0].dst", "no block"),
    (mutate("model/edges/0/port", -1), "model.edges[0].port", "port"),
    (mutate("model/edges/0/weight", 1), "model.edges[0].weight", "unknown key"),
    (mutate("model/edges", {"a": 1}), "model.edges", "list"),
    (mutate("model", None, delete=True), "model", "no model"),
    (mutate("model/layers", []), "model.layers", "unknown key"),
    (mutate("model/nodes/0/params/shape", [32, 0, 3]), "model.nodes[0].params.shape[1]",
     ">= 1"),
    (mutate("model/nodes/0/params/shape", "32x32"), "model.nodes[0].params.shape", "list"),
    (mutate("data/source", "web"), "data.source", "one of"),
    (mutate("data/source", "npz"), "data.path", "needs a path"),
    (mutate("data/validation_split", 1.5), "data.validation_split", "<= 0.9"),
    (mutate("data/shapes/classes", ["circle"]), "data.shapes.classes", "at least two"),
    (mutate("training/epochs", 0), "training.epochs", ">= 1"),
    (mutate("training/epochs", 2.5), "training.epochs", "integer"),
    (mutate("training/optimizer/name", "lion"), "training.optimizer.name", "one of"),
    (mutate("training/optimizer/learning_rate", "fast"), "training.optimizer.learning_rate",
     "number"),
    (mutate("training/schedule/boundaries", [5, 2]), "training.schedule.boundaries",
     "increasing"),
    (mutate("training/augmentation/layers", [{"type": "RandomWarp"}]),
     "training.augmentation.layers[0].type", "unknown augmentation"),
    (mutate("training/augmentation/layers", [{"type": "RandomFlip", "params": {"mode": "x"}}]),
     "training.augmentation.layers[0].params.mode", "one of"),
    (mutate("training/transfer/layer_multipliers", {"nope": 0.1}),
     "training.transfer.layer_multipliers.nope", "no block"),
    (mutate("training/metrics", ["f1"]), "training.metrics", "accuracy"),
    (mutate("training/regularization/batchnorm", "sometimes"),
     "training.regularization.batchnorm", "one of"),
    (mutate("schema_version", 99), "schema_version", "newer"),
    (mutate("schema_version", "1"), "schema_version", "version number"),
    (mutate("ui", [1]), "ui", "object"),
]


def test_there_are_at_least_30_malformed_cases():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("raw, path, word", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_spec_names_its_path(raw, path, word):
    with pytest.raises(SpecError) as err:
        experiment_from_dict(raw)
    assert err.value.path == path
    assert word in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("raw, path, word", MALFORMED[::4], ids=[m[1] for m in MALFORMED[::4]])
def test_cli_validate_prints_one_line_and_exits_2(raw, path, word, tmp_path, capsys):
    from cnnlab.cli import main

    f = tmp_path / "bad.json"
    f.write_text(json.dumps(raw))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and path in err[0] and "Traceback" not in err[0]


def test_round_trip_is_exact(tmp_path):
    exp = experiment_from_dict(BASE)
    text = dumps(exp)
    again = experiment_from_dict(json.loads(text))
    assert again == exp
    assert dumps(again) == text
    save_experiment(exp, tmp_path / "e.json")
    assert (tmp_path / "e.json").read_text() == text
    assert load_experiment(tmp_path / "e.json") == exp


def test_only_model_is_required_and_defaults_are_documented():
    exp = experiment_from_dict({"model": BASE["model"]})
    assert exp.data.source == "shapes"
    assert exp.training.optimizer.name == "adam"
    assert exp.training.epochs >= 1


def test_version_0_sequential_files_are_migrated():
    old = {"schema_version": 0, "model": {"layers": [
        {"name": "input", "type": "Input", "params": {"shape": [8, 8, 1]}},
        {"name": "flat", "type": "Flatten"},
        {"name": "out", "type": "Output", "params": {"units": 2}}]}}
    exp = experiment_from_dict(old)
    assert [e.src for e in exp.model.edges] == ["input", "flat"]
    assert analyze(exp.model).ok


def test_modules_expand_with_prefixed_ids():
    d = copy.deepcopy(BASE)
    d["model"]["modules"] = {"pair": {
        "params": {"f": 4},
        "nodes": [{"id": "a", "type": "Conv2D", "params": {"filters": "$f", "padding": "same"}},
                  {"id": "b", "type": "Conv2D", "params": {"filters": "$f", "padding": "same"}},
                  {"id": "add", "type": "Add"}],
        "edges": [{"src": "@in", "dst": "a"}, {"src": "a", "dst": "b"}, {"src": "@in",
                                                                         "dst": "add"},
                  {"src": "b", "dst": "add"}],
        "output": "add"}}
    d["model"]["nodes"].insert(2, {"id": "block1", "type": "pair", "params": {"f": 8}})
    d["model"]["edges"] = [{"src": "input", "dst": "conv1"}, {"src": "conv1", "dst": "block1"},
                           {"src": "block1", "dst": "gap"}, {"src": "gap", "dst": "out"}]
    exp = experiment_from_dict(d)
    result = analyze(exp.model)
    assert result.ok, result.problems
    assert result.layer("block1_add").output_shape == (30, 30, 8)
    assert result.layer("block1_a").params == 3 * 3 * 8 * 8 + 8
    assert {n.group for n in exp.model.expand().nodes if n.id.startswith("block1_")} == {"block1"}
    bad = copy.deepcopy(d)
    bad["model"]["nodes"][2]["params"] = {"f": "wide"}
    with pytest.raises(SpecError) as err:
        experiment_from_dict(bad)
    assert err.value.path.startswith("model.nodes[2].params")


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_experiment(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": ')
    with pytest.raises(SpecError, match="not valid JSON"):
        load_experiment(broken)
