"""The classic-network presets: exact to their papers, editable, buildable and trainable."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zipfile  # noqa: E402
from dataclasses import replace  # noqa: E402
from importlib import resources  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.analysis import analyze  # noqa: E402
from cnnlab.errors import SpecError  # noqa: E402
from cnnlab.presetlib import (  # noqa: E402
    PresetInfo,
    check_preset_fits,
    default_experiment,
    list_presets,
    load_preset,
    preset_info,
    read_preset,
)
from cnnlab.spec import dumps, experiment_from_dict  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# name -> (learned parameters, total with batch-norm moving statistics) at canonical size.
COUNTS = {
    "default": (60_870, 60_870),
    "mlp128": (101_770, 101_770),
    "lenet5": (61_706, 61_706),
    "alexnet": (62_378_344, 62_378_344),
    "vgg11": (132_863_336, 132_863_336),
    "vgg13": (133_047_848, 133_047_848),
    "vgg16": (138_357_544, 138_357_544),
    "vgg19": (143_667_240, 143_667_240),
    "googlenet": (6_998_552, 6_998_552),
    "resnet18": (11_689_512, 11_699_112),    # torchvision's counts are the learned ones
    "resnet34": (21_797_672, 21_814_696),
    "resnet50": (25_557_032, 25_610_152),
    "resnet101": (44_549_160, 44_654_504),
    "resnet152": (60_192_808, 60_344_232),
    "resnet20": (272_474, 274_042),          # option-B projection shortcuts
    "resnet56": (855_770, 860_026),
    "vgg_cifar": (550_570, 550_570),
    "allconv": (1_369_738, 1_369_738),
}
# He et al. 2016, Table 1: multiply-adds ("FLOPs") in units of 10^9.
RESNET_MACS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6,
               "resnet152": 11.3}
KERAS_FAST = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "googlenet", "resnet20",
              "vgg_cifar", "allconv", "mlp128", "default"]
KERAS_SLOW = sorted(set(COUNTS) - set(KERAS_FAST))
CIFAR_SIZED = ["resnet20", "vgg_cifar", "allconv", "default"]
WITH_MODULES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet20",
                "resnet56", "googlenet"]


def _make_presets_module():
    spec = importlib.util.spec_from_file_location("make_presets", ROOT / "tools" /
                                                  "make_presets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- files and API

def test_every_preset_is_listed_in_teaching_order():
    infos = list_presets()
    names = [p.name for p in infos]
    assert sorted(names) == sorted(COUNTS)
    assert names[:3] == ["default", "mlp128", "lenet5"]
    assert names.index("alexnet") < names.index("vgg16") < names.index("resnet50")
    assert all(isinstance(p, PresetInfo) for p in infos)


def test_files_are_package_data():
    root = resources.files("cnnlab.presets")
    found = {p.name for p in root.iterdir() if p.name.endswith(".json")}
    assert found == {f"{n}.json" for n in COUNTS}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_file_is_valid_and_self_describing(name):
    raw = json.loads((ROOT / "presets" / f"{name}.json").read_text(encoding="utf-8"))
    assert raw == read_preset(name)
    assert raw["name"] == name and raw["title"]
    assert raw["description"] and "\n" not in raw["description"]
    assert raw["adjustable"] == ["input_shape", "classes", "width"]
    exp = experiment_from_dict(raw["experiment"])
    (inp,) = [n for n in exp.model.nodes if n.type == "Input"]
    (out,) = [n for n in exp.model.nodes if n.type == "Output"]
    assert inp.params["shape"] == raw["input_shape"]
    assert out.params["units"] == raw["classes"]


def test_generated_files_are_up_to_date():
    make = _make_presets_module()
    generated = make.all_presets()
    assert set(generated) == set(COUNTS) - {"default"}
    for name, data in generated.items():
        text = (ROOT / "presets" / f"{name}.json").read_text(encoding="utf-8")
        assert make.render(data) == text, f"run tools/make_presets.py ({name} is stale)"


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_preset_loads_validates_and_round_trips(name):
    exp = load_preset(name)
    again = experiment_from_dict(exp.to_dict())
    assert again == exp
    assert dumps(experiment_from_dict(json.loads(dumps(exp)))) == dumps(exp)
    result = analyze(exp.model)
    assert result.ok, result.problems
    assert not result.problems
    info = preset_info(name)
    assert result.layer(result.output).output_shape == (info.classes,)
    assert check_preset_fits(exp) == []


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_are_exact(name):
    learned, total = COUNTS[name]
    info = preset_info(name)
    assert (info.trainable_params, info.params) == (learned, learned)
    totals = analyze(load_preset(name).model).totals
    assert (totals.trainable_params, totals.params + totals.state) == (learned, total)


@pytest.mark.parametrize("name", sorted(RESNET_MACS))
def test_resnet_multiply_adds_match_the_paper(name):
    macs = preset_info(name).macs / 1e9
    assert abs(macs - RESNET_MACS[name]) <= 0.10 * RESNET_MACS[name], macs


def test_vgg16_matches_the_lecture_table():
    result = analyze(load_preset("vgg16").model)
    conv1_1 = result.layer("conv1_1")
    assert (conv1_1.params, conv1_1.output_shape) == (1_792, (224, 224, 64))
    assert conv1_1.activations == 224 * 224 * 64
    expected = {"conv1_2": 36_928, "fc1": 102_764_544, "fc2": 16_781_312, "fc3": 4_097_000}
    assert {k: result.layer(k).params for k in expected} == expected
    assert result.layer("pool5").output_shape == (7, 7, 512)


def test_alexnet_matches_the_lecture_shapes():
    result = analyze(load_preset("alexnet").model)
    shapes = {k: result.layer(k).output_shape for k in ("conv1", "pool1", "norm1", "conv2",
                                                        "pool5")}
    assert shapes == {"conv1": (55, 55, 96), "pool1": (27, 27, 96), "norm1": (27, 27, 96),
                      "conv2": (27, 27, 256), "pool5": (6, 6, 256)}
    assert result.layer("conv1").params == 34_944


def test_resnet_and_googlenet_shapes_follow_the_papers():
    r50 = analyze(load_preset("resnet50").model)
    assert r50.layer("pool1").output_shape == (56, 56, 64)
    assert r50.layer("conv3_block1_add").output_shape == (28, 28, 512)
    assert r50.layer("conv5_block3_out").output_shape == (7, 7, 2048)
    r20 = analyze(load_preset("resnet20").model)
    assert r20.layer("stage3_block3_out").output_shape == (8, 8, 64)
    g = analyze(load_preset("googlenet").model)
    assert g.layer("inception_3a_concat").output_shape == (28, 28, 256)
    assert g.layer("inception_4e_concat").output_shape == (14, 14, 832)
    assert g.layer("inception_5b_concat").output_shape == (7, 7, 1024)


@pytest.mark.parametrize("name", WITH_MODULES)
def test_repeated_structures_are_modules(name):
    raw = read_preset(name)
    model = raw["experiment"]["model"]
    assert model["modules"]
    instances = [n for n in model["nodes"] if n["type"] in model["modules"]]
    assert len(instances) >= 8
    assert len(model["nodes"]) < 2 * len(instances) + 12


def test_resnet152_file_is_small():
    assert (ROOT / "presets" / "resnet152.json").stat().st_size < 40_000


def test_default_experiment_is_the_default_preset():
    assert default_experiment() == load_preset("default")
    raw = json.loads((ROOT / "presets" / "default.json").read_text(encoding="utf-8"))
    assert default_experiment() == experiment_from_dict(raw["experiment"])


def test_presetlib_does_not_import_tensorflow():
    code = ("import sys, cnnlab.presetlib as p; [i.params for i in p.list_presets()]; "
            "p.load_preset('resnet50', [64, 64, 3], 5, 0.5); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ------------------------------------------------------------------ re-deriving presets

def test_input_size_and_classes_rederive_the_head():
    exp = load_preset("vgg16", input_shape=[32, 32, 3], classes=10)
    result = analyze(exp.model)
    assert result.ok
    assert result.layer("pool5").output_shape == (1, 1, 512)
    assert result.layer("fc1").params == 512 * 4096 + 4096
    assert result.layer("fc3").output_shape == (10,)
    assert exp.data == load_preset("vgg16").data


def test_width_scales_filters_units_and_modules_but_not_the_output():
    r50 = analyze(load_preset("resnet50", width=0.5).model)
    assert r50.ok
    assert r50.layer("conv1").output_shape[-1] == 32
    assert r50.layer("conv2_block1_conv1").output_shape[-1] == 32
    assert r50.layer("conv5_block3_out").output_shape[-1] == 1024
    assert r50.layer("predictions").output_shape == (1000,)
    g = analyze(load_preset("googlenet", width=0.25).model)
    assert g.ok
    assert g.layer("inception_3a_concat").output_shape == (28, 28, 64)
    vgg = analyze(load_preset("vgg_cifar", width=2).model)
    assert vgg.layer("conv1_1").output_shape[-1] == 64
    assert vgg.layer("fc1").output_shape == (256,)
    assert vgg.layer("output").output_shape == (10,)
    tiny = analyze(load_preset("lenet5", width=0.01).model)
    assert tiny.ok and tiny.layer("c1").output_shape[-1] == 1


def test_too_small_input_still_loads_and_reports_problems():
    exp = load_preset("alexnet", input_shape=[32, 32, 3], classes=10)
    problems = check_preset_fits(exp)
    assert problems and "pool2" in problems[0]
    assert check_preset_fits(load_preset("resnet50", input_shape=[32, 32, 3])) == []


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(SpecError, match=r"unknown preset 'nope' \(known: default, mlp128"):
        load_preset("nope")
    with pytest.raises(SpecError, match="must be a string"):
        load_preset(["vgg16"])


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"width": -1.0}, {"width": float("nan")},
                                    {"classes": 0}, {"classes": 2.5},
                                    {"input_shape": [32, 32]}, {"input_shape": [0, 32, 3]}])
def test_bad_arguments_are_spec_errors(kwargs):
    with pytest.raises(SpecError):
        load_preset("lenet5", **kwargs)


# ----------------------------------------------------------------------------- Keras

def assert_matches_keras(exp):
    """Every block's output shape and parameter count equal the built Keras model's."""
    from cnnlab.build import block_output, build_model

    result = analyze(exp.model)
    model = build_model(exp)
    layers = {layer.name: layer for layer in model.layers}
    for info in result.layers:
        assert tuple(block_output(model, info.id).output.shape[1:]) == info.output_shape, \
            info.id
        owned = [layers[n] for n in (info.id, f"{info.id}_pad", f"{info.id}_bn",
                                     f"{info.id}_act") if n in layers]
        trainable = sum(int(np.prod(w.shape)) for lay in owned for w in lay.trainable_weights)
        assert sum(lay.count_params() for lay in owned) == info.params + info.state, info.id
        assert trainable == info.trainable_params, info.id
    assert model.count_params() == result.totals.params + result.totals.state
    return model


@pytest.mark.parametrize("name", KERAS_FAST)
def test_analysis_matches_keras(name):
    assert_matches_keras(load_preset(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", KERAS_SLOW)
def test_analysis_matches_keras_big(name):
    assert_matches_keras(load_preset(name))


@pytest.mark.parametrize("name,app", [("vgg16", "VGG16"), ("vgg19", "VGG19")])
def test_vgg_parameters_equal_keras_applications(name, app):
    import keras

    model = getattr(keras.applications, app)(weights=None)
    assert model.count_params() == COUNTS[name][1]


def test_resnet50_differs_from_keras_applications_only_by_conv_biases():
    """Keras's ResNet50 gives its convolutions biases (and strides its first 1x1 conv)."""
    import keras

    result = analyze(load_preset("resnet50").model)
    biases = sum(layer.output_shape[-1] for layer in result.layers if layer.type == "Conv2D")
    assert keras.applications.ResNet50(weights=None).count_params() == 25_636_712
    assert result.totals.params + result.totals.state + biases == 25_636_712


# ----------------------------------------------------------------------------- training

def shapes_data(classes, samples, size, channels):
    """Images and labels of the shapes dataset (or random blobs if it is missing)."""
    try:
        from cnnlab.data.shapes import SHAPE_CLASSES, generate_shapes
    except ImportError:
        rng = np.random.default_rng(0)
        y = rng.integers(0, classes, samples).astype(np.int32)
        x = rng.integers(0, 256, (samples, size, size, channels)).astype(np.uint8)
        x[np.arange(samples), :, y % size] = 255  # a learnable stripe per class
        return x, y
    names = list(SHAPE_CLASSES[:classes])
    return generate_shapes(names, samples, image_size=size, channels=channels, seed=0)


def compile_for_test(exp):
    from cnnlab.build import build_model

    model = build_model(exp)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def test_vgg16_rederived_for_cifar_trains_a_step():
    exp = load_preset("vgg16", input_shape=[32, 32, 3], classes=10)
    model = compile_for_test(exp)
    x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    y = np.arange(8) % 10
    loss = model.train_on_batch(x, y, return_dict=True)["loss"]
    assert np.isfinite(loss)
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("name", [
    # ResNet-20 takes 14 s; vgg_cifar, allconv and default train here, and
    # test_analysis_matches_keras builds ResNet-20 in Keras in the default run.
    pytest.param(n, marks=pytest.mark.slow) if n == "resnet20" else n for n in CIFAR_SIZED])
def test_cifar_sized_presets_train_an_epoch_on_shapes(name):
    info = preset_info(name)
    classes = min(info.classes, 6)
    exp = load_preset(name, classes=classes)
    exp = replace(exp, training=replace(exp.training, seed=1))
    x, y = shapes_data(classes, 256, info.input_shape[0], info.input_shape[2])
    model = compile_for_test(exp)
    history = model.fit(x.astype(np.float32) / 255.0, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# ------------------------------------------------------------------------ packaging

@pytest.mark.slow
def test_presets_ship_in_the_wheel(tmp_path):
    src = tmp_path / "src"  # a copy, so the build leaves no build/ folder in the checkout
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "*.pyc")
    for part in ("cnnlab", "presets", "ui"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, src / part, ignore=skip)
    for part in ("pyproject.toml", "README.md"):
        if (ROOT / part).exists():
            shutil.copy(ROOT / part, src / part)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), "-q"], check=True)
    (wheel,) = (tmp_path / "dist").glob("cnnlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"cnnlab/presets/{n}.json" for n in COUNTS} <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (f"import cnnlab, cnnlab.presetlib as p; assert cnnlab.__file__.startswith("
            f"{str(site)!r}); assert p.preset_info('resnet50').trainable_params == 25557032")
    env = {**os.environ, "PYTHONPATH": str(site)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)


@pytest.mark.parametrize("name, classes, shapes", [("resnet20", 10, 10), ("lenet5", 10, 10),
                                                   ("vgg16", 6, 6), ("default", 6, 6)])
def test_match_data_makes_network_and_dataset_agree(name, classes, shapes):
    from cnnlab.presetlib import match_data

    exp, _ = match_data(load_preset(name))
    (out,) = [n for n in exp.model.nodes if n.type == "Output"]
    assert out.params["units"] == classes
    assert len(exp.data.shapes.classes) == shapes
