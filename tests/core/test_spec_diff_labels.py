"""Runs named by what changed (change_label, label_runs) and the Architecture summary."""

import copy
import json

from graphs import chain

from cnnlab.presetlib import load_preset
from cnnlab.spec.architecture import architecture_summary
from cnnlab.spec.diff import change_label, diff_specs, label_runs


def base_spec() -> dict:
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("Dropout", {"rate": 0.2}), ("GlobalAveragePooling2D", {}),
                ("Dense", {"units": 6}), name="Small CNN on shapes")
    return exp.run_dict()


def changed(spec: dict, edit) -> dict:
    out = copy.deepcopy(spec)
    edit(out)
    return out


def label(a: dict, b: dict, **kw) -> str:
    return change_label(diff_specs(a, b), **kw)


def test_recipe_changes_read_as_a_few_words():
    a = base_spec()

    def recipe(s):
        s["training"]["optimizer"]["learning_rate"] = 0.01
        s["training"]["epochs"] = 20
        s["training"]["augmentation"]["mixup"]["enabled"] = True

    assert label(a, changed(a, recipe)) == "epochs 20, lr 0.01, mixup on"
    sgd = changed(a, lambda s: s["training"]["optimizer"].update(name="sgd"))
    assert label(a, sgd) == "sgd"
    assert label(a, changed(a, lambda s: s["data"].update(source="npz"))) == "data npz"
    assert label(a, changed(a, lambda s: s["training"]["schedule"].update(alpha=0.1))) == (
        "schedule alpha 0.1")


def test_graph_changes_name_the_blocks():
    a = base_spec()

    def add_conv(s):
        s["model"]["nodes"].insert(2, {"id": "conv4", "type": "Conv2D",
                                       "params": {"filters": 8, "kernel_size": 3}})
        s["model"]["edges"] = [{"src": x["id"], "dst": y["id"]} for x, y in
                               zip(s["model"]["nodes"], s["model"]["nodes"][1:])]

    assert label(a, changed(a, add_conv)) == "+conv4"  # the new edges go without saying
    assert label(changed(a, add_conv), a) == "-conv4"
    rate = changed(a, lambda s: s["model"]["nodes"][2]["params"].update(rate=0.5))
    assert label(a, rate) == "b1 rate 0.5"
    retyped = changed(a, lambda s: s["model"]["nodes"][1].update(type="SeparableConv2D"))
    assert label(a, retyped) == "b0 SeparableConv2D"
    default = changed(a, lambda s: s["model"]["nodes"][2]["params"].pop("rate"))
    assert label(a, default) == "b1 rate default"


def test_long_labels_end_with_a_count_and_names_do_not_count():
    a = base_spec()

    def many(s):
        s["training"].update(epochs=3, batch_size=8, seed=4)
        s["training"]["optimizer"]["learning_rate"] = 0.1
        s["name"], s["description"] = "renamed", "other words"

    assert label(a, changed(a, many)) == "epochs 3, batch 8, seed 4, +1 more"
    assert label(a, changed(a, many), limit=5) == "epochs 3, batch 8, seed 4, lr 0.1"
    assert label(a, changed(a, lambda s: s.update(description="why"))) == "same spec"
    assert label(a, copy.deepcopy(a)) == "same spec"


def test_each_run_is_labelled_against_the_previous_run_of_its_experiment():
    a = base_spec()
    b = changed(a, lambda s: s["training"]["optimizer"].update(learning_rate=0.01))
    c = changed(b, lambda s: s["training"].update(epochs=20))
    other = changed(a, lambda s: s.update(name="VGG"))
    labels = label_runs([("r1", "Small CNN on shapes", a), ("r2", "Small CNN on shapes", b),
                         ("o1", "VGG", other), ("r3", "Small CNN on shapes", None),
                         ("r4", "Small CNN on shapes", c)])
    assert [labels[i].text for i in ("r1", "r2", "o1", "r3", "r4")] == [
        "Small CNN on shapes", "lr 0.01", "VGG", "Small CNN on shapes", "epochs 20"]
    assert labels["r1"].previous is None and labels["r2"].previous == "r1"
    assert labels["r4"].previous == "r2"  # the unreadable r3 is skipped, not compared
    assert labels["r4"].lines == ("training.epochs: 10 -> 20",)


def test_architecture_summary_counts_layers_inside_modules():
    assert architecture_summary(base_spec()) == "1 conv, 1 dense"
    resnet = load_preset("resnet18").run_dict()
    assert architecture_summary(resnet) == "20 conv, 1 dense, BN, residual"  # 17 + 3 shortcuts
    bn = changed(base_spec(), lambda s: s["training"]["regularization"].update(
        batchnorm="after_activation"))
    assert architecture_summary(bn) == "1 conv, 1 dense, BN"
    assert architecture_summary({}) == "-"
    loop = {"model": {"nodes": [{"id": "m", "type": "m"}],
                      "modules": {"m": {"nodes": [{"id": "x", "type": "m"},
                                                  {"id": "c", "type": "Conv2D"}]}}}}
    assert architecture_summary(json.loads(json.dumps(loop))) == "1 conv"  # no endless loop


def test_a_dataset_revision_diffs_as_the_ids_added_and_removed():
    a = changed(base_spec(), lambda s: s["data"].update(exclude=["cat/img000.png", "train[3]"]))
    b = changed(a, lambda s: s["data"].update(exclude=["train[3]", "cat/img040.png"]))
    lines = diff_specs(a, b).lines()
    assert any("data.exclude: +1 (cat/img040.png), -1 (cat/img000.png)" in line
               for line in lines), lines
    assert label(a, b) == "exclude +1 -1"
    older = changed(base_spec(), lambda s: (s["data"].pop("exclude", None),
                                             s["data"].pop("relabel", None)))
    assert diff_specs(older, base_spec()).lines() == []  # a run from before revisions
