"""Transfer learning set up from the experiment file alone: ``cnnlab new --base``, then
``validate`` and ``train``, for every strategy and both heads; inconsistent files refused.

Bases: a ``.keras`` file (whose weights the frozen layers must keep bit for bit), a
preset, and MobileNetV2 with random weights (ImageNet weights are offline).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_transfer_support import (  # noqa: E402
    SIZE,
    base_file,
    cli,
    load,
    shrink,
    train,
    weights_of,
)

from cnnlab.runs.store import RunStore  # noqa: E402

BASE_LAYERS = ("b0", "b1", "b3")  # conv, batch norm, conv of base_file()


def _new(capsys, spec, *args) -> str:
    code, out, err = cli(capsys, "new", spec, *args)
    assert code == 0, err
    return out


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The ``.keras`` base file and the model it holds."""
    import keras

    path = base_file(tmp_path_factory.mktemp("base"))
    return path, keras.models.load_model(path)


@pytest.mark.parametrize("head", ["softmax", "svm"])
def test_feature_extractor_keeps_the_file_base_bit_identical(capsys, tmp_path, base, head):
    path, original = base
    spec = tmp_path / "e.json"
    out = _new(capsys, spec, "--preset", "allconv", "--input", f"{SIZE},{SIZE},3",
               "--classes", "3", "--base", path, "--strategy", "feature_extractor",
               "--head", head)
    assert "base base.keras: 4 blocks" in out and f"head {head}" in out
    d = shrink(spec)
    assert [n["id"] for n in d["model"]["nodes"]] == ["input", "base_b0", "base_b1", "base_b2",
                                                      "base_b3", "avg_pool", "output"]
    assert d["training"]["transfer"]["base_source"] == "file"
    result = train(capsys, spec, tmp_path / "ws")
    model = load(result)
    for name in BASE_LAYERS:
        assert _same(weights_of(model, f"base_{name}"), weights_of(original, name)), name
    act = model.get_layer("output").get_config()["activation"]
    assert act == ("linear" if head == "svm" else "softmax")
    assert [la.name for la in model.layers if la.trainable_weights] == ["output"]
    assert result["metrics"]["accuracy"] is not None


def test_fine_tune_trains_the_base_later_and_keeps_its_batch_norm(capsys, tmp_path, base):
    path, original = base
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--preset", "allconv", "--input", f"{SIZE},{SIZE},3", "--classes", "3",
         "--base", path, "--strategy", "fine_tune")
    shrink(spec, head_epochs=1, lr_multiplier=1.0)
    model = load(train(capsys, spec, tmp_path / "ws"))
    assert not _same(weights_of(model, "base_b0"), weights_of(original, "b0"))
    assert not _same(weights_of(model, "base_b3"), weights_of(original, "b3"))
    assert _same(weights_of(model, "base_b1"), weights_of(original, "b1"))  # inference mode


def test_multipliers_with_svm_freeze_one_block(capsys, tmp_path, base):
    path, original = base
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--preset", "allconv", "--input", f"{SIZE},{SIZE},3", "--classes", "3",
         "--base", path, "--strategy", "multipliers", "--multiplier", "base_b0=0",
         "--multiplier", "base_b3=0.5", "--head", "svm")
    assert json.loads(spec.read_text())["training"]["transfer"]["layer_multipliers"] == \
        {"base_b0": 0.0, "base_b3": 0.5}
    shrink(spec)
    model = load(train(capsys, spec, tmp_path / "ws"))
    assert _same(weights_of(model, "base_b0"), weights_of(original, "b0"))
    assert not _same(weights_of(model, "base_b3"), weights_of(original, "b3"))
    assert model.get_layer("output").get_config()["activation"] == "linear"


def test_scratch_uses_the_structure_not_the_weights(capsys, tmp_path, base):
    path, original = base
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--preset", "allconv", "--input", f"{SIZE},{SIZE},3", "--classes", "3",
         "--base", path, "--strategy", "scratch", "--head", "svm")
    shrink(spec)
    result = train(capsys, spec, tmp_path / "ws")
    model = load(result)
    assert not _same(weights_of(model, "base_b0"), weights_of(original, "b0"))
    assert model.get_layer("base_b0").get_weights()[0].shape == \
        original.get_layer("b0").get_weights()[0].shape
    metadata = json.loads((RunStore(tmp_path / "ws").run_dir(result["run_id"]) /
                           "metadata.json").read_text())
    assert metadata["transfer"] == []  # nothing copied


def test_preset_base_feature_extractor(capsys, tmp_path):
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--input", "32,32,3", "--base", "lenet5", "--strategy",
         "feature_extractor")
    d = shrink(spec)
    assert d["training"]["transfer"]["base_source"] == "preset"
    model = load(train(capsys, spec, tmp_path / "ws"))
    base_layers = [la for la in model.layers if la.name.startswith("base_")]
    assert base_layers and all(not la.trainable for la in base_layers)
    assert model.get_layer("fc1").trainable


@pytest.mark.slow  # ~75 s in CI; application × fine_tune × svm trains in the acceptance matrix
def test_application_base_with_random_weights_fine_tuned_with_svm(capsys, tmp_path):
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--base", "MobileNetV2", "--weights", "random", "--cut-at",
         "block_1_project_BN", "--strategy", "fine_tune", "--head", "svm")
    d = shrink(spec, samples=64, head_epochs=1)
    ids = [n["id"] for n in d["model"]["nodes"]]
    assert "base_block_1_project_BN" in ids and not any(i.startswith("base_block_2") for i in ids)
    result = train(capsys, spec, tmp_path / "ws")
    assert result["epochs_done"] == 2
    assert load(result).get_layer("output").get_config()["activation"] == "linear"


def test_application_base_with_a_local_weights_file_stays_bit_identical(capsys, tmp_path):
    from cnnlab.modelio.bases import load_base

    app = load_base("MobileNetV2", (32, 32, 3), weights="random")
    weights = tmp_path / "mobilenet.weights.h5"
    app.save_weights(weights)
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--base", "MobileNetV2", "--weights-file", weights, "--cut-at",
         "block_1_project_BN")
    d = shrink(spec, samples=64, epochs=1)
    assert d["training"]["transfer"]["weights"] == "file"
    model = load(train(capsys, spec, tmp_path / "ws"))
    for name in ("Conv1", "bn_Conv1", "block_1_depthwise", "block_1_project_BN"):
        assert _same(weights_of(model, f"base_{name}"), weights_of(app, name)), name


# -- refused: inconsistent files and bad requests ------------------------------------------

def _edited(capsys, tmp_path, **transfer):
    spec = tmp_path / "e.json"
    _new(capsys, spec)
    shrink(spec, **transfer)
    return spec


@pytest.mark.parametrize("transfer, path, words", [
    ({"base": "MobileNetV2", "strategy": "feature_extractor"}, "training.transfer.base",
     "cnnlab new OUT.json --base MobileNetV2"),
    ({"base": "lenet5", "base_source": "preset", "strategy": "scratch"},
     "training.transfer.base", "Insert base in Recipe > Transfer"),
    ({"strategy": "fine_tune"}, "training.transfer.strategy", "needs a base in the model"),
    ({"strategy": "feature_extractor"}, "training.transfer.strategy", "--base NAME"),
    ({"layer_multipliers": {"nope": 0.0}, "strategy": "multipliers"},
     "training.transfer.layer_multipliers.nope", "no block with id"),
])
def test_inconsistent_files_are_refused_by_validate_and_train(capsys, tmp_path, transfer,
                                                              path, words):
    spec = _edited(capsys, tmp_path, **transfer)
    code, out, err = cli(capsys, "validate", spec)
    assert code == 2 and out == ""
    assert err.startswith(path + ":") and words in err and len(err.strip().splitlines()) == 1
    code, out, err = cli(capsys, "train", spec, "--workspace", tmp_path / "ws")
    assert code == 2 and path in err and words in err and "Traceback" not in err
    assert RunStore(tmp_path / "ws").list_runs() == []


def test_strategy_none_with_a_base_is_refused(capsys, tmp_path, base):
    spec = tmp_path / "e.json"
    _new(capsys, spec, "--preset", "allconv", "--input", f"{SIZE},{SIZE},3", "--classes", "3",
         "--base", base[0])
    shrink(spec, strategy="none")
    code, _, err = cli(capsys, "validate", spec)
    assert code == 2 and "strategy none ignores the base" in err


def test_svm_head_with_a_cross_entropy_loss_is_refused(capsys, tmp_path):
    spec = _edited(capsys, tmp_path, head="svm")
    d = json.loads(spec.read_text())
    d["training"]["loss"] = "sparse_categorical_crossentropy"
    spec.write_text(json.dumps(d))
    code, _, err = cli(capsys, "validate", spec)
    assert code == 2 and err.startswith("training.loss:") and "squared hinge" in err


def test_new_refuses_what_would_not_train_and_writes_nothing(capsys, tmp_path):
    spec = tmp_path / "e.json"
    for args, words in [(["--strategy", "fine_tune"], "needs a base in the model"),
                        (["--cut-at", "block_1_add"], "--cut-at needs --base"),
                        (["--base", "NoSuchNet"], "is no model file, Keras application"),
                        (["--base", "MobileNetV2", "--weights", "random", "--cut-at", "x9"],
                         "has no layer 'x9'"),
                        (["--multiplier", "conv1"], "--multiplier must look like"),
                        (["--base", "MobileNetV2", "--weights-file", "nope.h5"],
                         "nope.h5: no such file"),
                        (["--base", "lenet5", "--weights", "imagenet"],
                         "a preset base starts from random weights")]:
        code, _, err = cli(capsys, "new", spec, *args)
        assert code == 2 and words in err and "Traceback" not in err, (args, err)
        assert not spec.exists()


def test_imagenet_weights_offline_name_the_file(capsys, tmp_path, monkeypatch):
    from cnnlab.modelio import bases

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(bases, "can_reach", lambda *a, **k: False)
    spec = tmp_path / "e.json"
    code, _, err = cli(capsys, "new", spec, "--base", "MobileNetV2", "--weights", "imagenet")
    want = bases.weights_file("MobileNetV2", (32, 32, 3))
    assert code == 2 and want.name in err and str(want.parent) in err
    assert "weights 'random'" in err and not spec.exists()
