"""Hostile experiment files: every bad input is one line naming its path, exit 2.

Each case is a real file in ``tmp_path`` checked through ``cnnlab validate``;
the cases that used to pass ``validate`` and then fail in ``train`` also go
through ``cnnlab train`` and must give the same message there.
"""

import copy
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from cnnlab.cli import main  # noqa: E402
from cnnlab.presetlib import load_preset  # noqa: E402

BASE = load_preset("default").to_dict()
BASE["data"]["shapes"]["samples"] = 60  # train refuses before it trains; keep the data small


def _base() -> dict:
    return copy.deepcopy(BASE)


def _text(data: dict) -> str:
    return json.dumps(data, allow_nan=True)


def _chain(blocks: list[dict], input_shape=(32, 32, 3)) -> dict:
    data = _base()
    nodes = [{"id": "input", "type": "Input", "params": {"shape": list(input_shape)}}] + blocks
    data["model"] = {"nodes": nodes, "modules": {},
                     "edges": [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]}
    return data


def _with_module(module: dict, extra_nodes=(), extra_edges=()) -> dict:
    data = _base()
    data["model"]["modules"] = {"blk": module}
    data["model"]["nodes"][1] = {"id": "conv1", "type": "blk", "params": {}}
    data["model"]["nodes"].extend(extra_nodes)
    data["model"]["edges"].extend(extra_edges)
    return data


def _set(path: tuple, value, *more) -> str:
    """The default experiment with ``value`` at ``path`` (and further path, value pairs)."""
    data = _base()
    pairs = [(path, value)] + list(zip(more[::2], more[1::2]))
    for where, what in pairs:
        obj = data
        for key in where[:-1]:
            obj = obj.setdefault(key, {}) if isinstance(key, str) else obj[key]
        obj[where[-1]] = what
    return _text(data)


def _fan_out(levels: int = 8, width: int = 10) -> str:
    """Modules nested ``levels`` deep with ``width`` instances each: width^levels blocks."""
    mods = {"m0": {"params": {}, "nodes": [{"id": "r", "type": "Activation", "params": {}}],
                   "edges": [{"src": "@in", "dst": "r"}], "output": "r"}}
    for level in range(1, levels + 1):
        mods[f"m{level}"] = {
            "params": {}, "output": f"i{width - 1}",
            "nodes": [{"id": f"i{k}", "type": f"m{level - 1}", "params": {}}
                      for k in range(width)],
            "edges": [{"src": "@in", "dst": "i0"}]
            + [{"src": f"i{k}", "dst": f"i{k + 1}"} for k in range(width - 1)]}
    data = _base()
    data["model"]["modules"] = mods
    data["model"]["nodes"][1] = {"id": "conv1", "type": f"m{levels}", "params": {}}
    return _text(data)


def _dense_module(instances: int) -> str:
    """A module of 100 blocks with all 9,900 connections among them, used ``instances`` times."""
    ids = [f"n{k}" for k in range(100)]
    module = {"params": {}, "output": "n99",
              "nodes": [{"id": i, "type": "Activation", "params": {}} for i in ids],
              "edges": [{"src": "@in", "dst": "n0"}]
              + [{"src": a, "dst": b} for a in ids for b in ids if a != b]}
    data = _chain([{"id": f"blk{k}", "type": "blk", "params": {}} for k in range(instances)]
                  + [{"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
                     {"id": "output", "type": "Output", "params": {"units": 6}}])
    data["model"]["modules"] = {"blk": module}
    return _text(data)


CONV = {"id": "c", "type": "Conv2D", "params": {"filters": 32, "padding": "same"}}
OPAQUE_LAYER = {"module": "keras.layers", "class_name": "MaxPooling2D",
                "config": {"pool_size": 2}}
BIG_DIGITS = _text(_base()).replace('"filters": 32', '"filters": ' + "9" * 5000)

# name -> (file text, what the one stderr line must contain)
CASES = {
    "5000-digit integer": (BIG_DIGITS, "5,000 digits"),
    "200000 nested brackets": ("[" * 200_000 + "]" * 200_000, "nest too deeply"),
    "200000 nested objects in ui": (
        _text(_base())[:-1] + ', "ui": ' + '{"a":' * 200_000 + "1" + "}" * 200_001,
        "nest too deeply"),
    "100 nested lists in ui": (_set(("ui", "x"), json.loads("[" * 100 + "]" * 100)),
                               "nests deeper than 64 levels"),
    "NaN learning rate": (_set(("training", "optimizer", "learning_rate"), float("nan")),
                          "training.optimizer.learning_rate: NaN"),
    "boundaries [Infinity]": (_set(("training", "schedule", "boundaries"), [float("inf")]),
                              "training.schedule.boundaries[0]: Infinity"),
    "type is a list": (_set(("model", "nodes", 1, "type"), ["Conv2D"]), "model.nodes[1].type"),
    "src is a list": (_set(("model", "edges", 0, "src"), ["input"]), "model.edges[0].src"),
    "dst is an object": (_set(("model", "edges", 0, "dst"), {"id": "conv1"}),
                         "model.edges[0].dst"),
    "port is huge": (_set(("model", "edges", 0, "port"), 10**18), "model.edges[0].port"),
    "augmentation type is a list": (
        _set(("training", "augmentation", "layers"), [{"type": ["RandomFlip"], "params": {}}]),
        "training.augmentation.layers[0].type"),
    "module edge to @in": (_text(_with_module({
        "params": {}, "nodes": [CONV], "output": "c",
        "edges": [{"src": "@in", "dst": "c"}, {"src": "c", "dst": "@in"}]})),
        "model.modules.blk.edges[1].dst"),
    "module inner type unknown": (_text(_with_module({
        "params": {}, "nodes": [{"id": "c", "type": "NoSuch", "params": {}}], "output": "c",
        "edges": [{"src": "@in", "dst": "c"}]})), "model.modules.blk.nodes[0].type"),
    "duplicate inner ids": (_text(_with_module({
        "params": {}, "nodes": [CONV, {"id": "c", "type": "Activation", "params": {}}],
        "output": "c", "edges": [{"src": "@in", "dst": "c"}]})),
        "model.modules.blk.nodes[1].id: duplicate id 'c'"),
    "flattened ids collide": (_text(_with_module(
        {"params": {}, "nodes": [CONV], "output": "c", "edges": [{"src": "@in", "dst": "c"}]},
        [{"id": "conv1_c", "type": "Activation", "params": {}}],
        [{"src": "output", "dst": "conv1_c"}])), "two blocks get the id 'conv1_c'"),
    "modules use each other": (_text(_with_module({
        "params": {}, "nodes": [{"id": "inner", "type": "blk", "params": {}}], "output": "inner",
        "edges": [{"src": "@in", "dst": "inner"}]})), "model.modules.blk: modules use each "
                                                      "other in a cycle (blk -> blk)"),
    "module fan-out 10^8": (_fan_out(), "model.nodes[1]: module m8 (instance conv1) expands "
                                        "to 100,000,000 blocks"),
    "modules nested 9 deep": (_fan_out(9, 1), "model.modules.m9: module m9 nests modules 9 "
                                              "levels deep; at most 8"),
    "9,900 connections x 102 instances": (_dense_module(102), "model.nodes: the model "
                                          "expands to 1,009,904 connections (module blk"),
    "Opaque input_shapes not a list": (_set(("model", "nodes", 2), {
        "id": "pool1", "type": "Opaque", "params": {
            "layer": OPAQUE_LAYER, "input_shapes": 5, "output_shape": [16, 16, 32]}}),
        "model.nodes[2].params.input_shapes"),
    "Opaque input_shapes with text": (_set(("model", "nodes", 2), {
        "id": "pool1", "type": "Opaque", "params": {
            "layer": OPAQUE_LAYER, "input_shapes": [[None, "a"]], "output_shape": [16, 16, 32]}}),
        "model.nodes[2].params.input_shapes[0]"),
    "explicit padding 10**9": (_set(("model", "nodes", 1, "params", "padding"), 10**9),
                               "model.nodes[1].params.padding: padding must be <= 512"),
    "training.seed 10**30": (_set(("training", "seed"), 10**30), "training.seed"),
    "shapes seed 10**12": (_set(("data", "shapes", "seed"), 10**12), "data.shapes.seed"),
    "warmup_epochs 1e308": (_set(("training", "schedule", "warmup_epochs"), 1e308),
                            "training.schedule.warmup_epochs: warmup_epochs must be <="),
    "layer multiplier 1e9": (_set(("training", "transfer", "layer_multipliers"),
                                  {"conv1": 1e9}), "training.transfer.layer_multipliers"),
    "5000-block chain": (_text(_chain(
        [{"id": f"a{i}", "type": "Activation", "params": {}} for i in range(5000)]
        + [{"id": "gap", "type": "Flatten", "params": {}},
           {"id": "output", "type": "Output", "params": {"units": 6}}])),
        "a799: the longest path reaches 801 Keras layers"),
    "Dense 10**6 units after 10**6 units": (_text(_chain(
        [{"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
         {"id": "dense0", "type": "Dense", "params": {"units": 10**6}},
         {"id": "dense1", "type": "Dense", "params": {"units": 10**6}},
         {"id": "output", "type": "Output", "params": {"units": 6}}])),
        "dense1: 1,000,001,000,000 parameters need ~16,000 GB; this machine has"),
    "a 100000x100000x1000 input": (_text(_chain(
        [{"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
         {"id": "output", "type": "Output", "params": {"units": 6}}],
        (100_000, 100_000, 1000))),
        "input: its 100000x100000x1000 output needs ~40,000 GB for one image"),
    "a 10,000-character key": (_set(("training", "k" * 10_000), 1),
                               "training.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: unknown key"),
    "a 10,000-character id": (_set(("model", "nodes", 1, "id"), "c" * 10_000),
                              "model.nodes[1].id: id must start with a letter"),
    "a 100,000-entry kernel_size": (_set(("model", "nodes", 1, "params", "kernel_size"),
                                         [3] * 100_000), "model.nodes[1].params.kernel_size"),
    "clipnorm and clipvalue": (_set(("training", "optimizer", "clipvalue"), 0.5,
                                    ("training", "optimizer", "clipnorm"), 1.0),
                               "training.optimizer.clipvalue: set clipnorm or clipvalue"),
    "not JSON": ('{"model": ', "not valid JSON"),
    "not an object": ("[1, 2]", "an experiment file must hold a JSON object"),
}
# The inputs ``validate`` used to accept and ``train`` then failed on (or crashed with).
TRAIN_CASES = ("explicit padding 10**9", "training.seed 10**30", "warmup_epochs 1e308",
               "boundaries [Infinity]", "5000-block chain", "Dense 10**6 units after 10**6 units",
               "clipnorm and clipvalue")


def _one_line(capsys, args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert len(lines[0]) < 400, "one readable line, not a dump of the input"
    return code, lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_with_one_line_naming_the_path(capsys, tmp_path, case):
    text, words = CASES[case]
    spec = tmp_path / "e.json"
    spec.write_text(text)
    code, line = _one_line(capsys, ["validate", spec])
    assert code == 2
    assert words in line


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_train_refuses_what_validate_refuses_with_the_same_message(capsys, tmp_path, case):
    text, words = CASES[case]
    spec = tmp_path / "e.json"
    spec.write_text(text)
    _, checked = _one_line(capsys, ["validate", spec])
    code, line = _one_line(capsys, ["train", spec, "--workspace", tmp_path / "ws"])
    assert code == 2
    assert line.startswith("cnnlab: error: ") and checked in line and words in line
    assert not list((tmp_path / "ws").glob("runs/*")), "no run folder for a refused spec"


def test_a_folder_or_an_oversized_file_is_refused(capsys, tmp_path):
    code, line = _one_line(capsys, ["validate", tmp_path])
    assert code == 2 and "not a regular file" in line
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(65 * 2**20)  # sparse: nothing is read before the size check
    code, line = _one_line(capsys, ["validate", big])
    assert code == 2 and "more than an experiment file may hold" in line


def test_a_valid_file_still_passes(capsys, tmp_path):
    spec = tmp_path / "e.json"
    spec.write_text(_text(_base()))
    assert main(["validate", str(spec)]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_shapes_past_tensorflow_limits_stop_the_analysis_there(capsys, tmp_path):
    up = {"filters": 1, "kernel_size": 1, "strides": 512, "padding": "same"}
    spec = tmp_path / "e.json"
    spec.write_text(_text(_chain(
        [{"id": f"up{i}", "type": "Conv2DTranspose", "params": up} for i in range(3)]
        + [{"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
           {"id": "output", "type": "Output", "params": {"units": 6}}], (16, 16, 1))))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 2, err
    assert lines[0].startswith("up2: its output 2147483648x2147483648x1 is too large")
    assert lines[1].startswith("up1: its 4194304x4194304x1 output needs ~70,000 GB")
