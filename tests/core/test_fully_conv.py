"""The lectures' FC-to-convolution conversion: same scores at the original size, a map beyond.

Through the real path: a run trained by `cnnlab train`, converted by `cnnlab
convert`, the file reloaded; VGG-16's and AlexNet's classifiers (random
weights, narrow, small inputs) converted in memory and verified.
"""

import json

import numpy as np
import pytest
from cli_support import run_cli, train_run
from graphs import chain

from cnnlab.build import build_model
from cnnlab.errors import ModelFileError
from cnnlab.modelio.fully_conv import find_head, fully_convolutional, map_rect, mosaic
from cnnlab.modelio.fully_conv_file import load_fully_conv, verify
from cnnlab.presetlib import load_preset


@pytest.fixture(scope="module")
def flatten_run(tmp_path_factory):
    """The default CNN with a Flatten head (instead of global pooling), trained one epoch."""
    from cnnlab.cli import main

    folder = tmp_path_factory.mktemp("fcn")
    spec = folder / "flat.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    gap = next(n for n in data["model"]["nodes"] if n["type"] == "GlobalAveragePooling2D")
    gap.update({"type": "Flatten", "params": {}})
    data["data"]["shapes"]["samples"] = 200
    data["training"]["epochs"] = 1
    spec.write_text(json.dumps(data))
    ws = folder / "ws"
    return folder, ws, train_run(spec, ws)


def test_cli_converts_a_trained_run_and_verifies_it(flatten_run, capsys):
    import keras

    folder, ws, run_id = flatten_run
    out = folder / "fcn.keras"
    code, printed, err = run_cli(capsys, "convert", run_id, "--fully-convolutional", "--out",
                                 out, "--workspace", ws)
    assert code == 0, err
    assert "fc1: Dense 4096 -> 64 became 64 filters of 8x8x64" in printed
    manifest = json.loads((folder / "fcn.keras.manifest.json").read_text())
    assert manifest["verification"]["max_abs_diff"] <= 1e-4
    assert set(manifest["verification"]["layer_max_abs_diff"]) == {"fc1", "output"}
    assert manifest["model"]["input_shape"] == [None, None, 3]
    assert manifest["score_map"] == {"window": [32, 32], "stride": [4, 4],
                                     "checked_input": [64, 64, 3], "checked_output": [9, 9, 6]}
    assert manifest["class_names"][:2] == ["circle", "square"]
    fcn = load_fully_conv(out)
    original = keras.saving.load_model(str(ws / "runs" / run_id / "model.keras"), compile=False)
    x = np.random.default_rng(3).random((3, 32, 32, 3), dtype=np.float32)
    same = np.asarray(fcn(x))
    assert same.shape == (3, 1, 1, 6)
    assert np.max(np.abs(same[:, 0, 0] - np.asarray(original(x)))) <= 1e-4
    big = np.asarray(fcn(np.random.default_rng(4).random((1, 64, 64, 3), dtype=np.float32)))
    assert big.shape == (1, 9, 9, 6) and np.allclose(big.sum(-1), 1.0, atol=1e-5)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_cli_refuses_to_replace_without_force_and_explains_bad_requests(
        flatten_run, capsys):
    folder, ws, run_id = flatten_run
    out = folder / "kept.keras"
    out.write_bytes(b"precious")
    base = ["convert", run_id, "--out", out, "--workspace", ws]
    for args, words in (([*base, "--fully-convolutional"], "--force"),
                        (base, "--fully-convolutional"),
                        (["convert", run_id, "--fully-convolutional", "--out",
                          folder / "x.h5", "--workspace", ws], ".keras"),
                        (["convert", "nope", "--fully-convolutional", "--out",
                          folder / "y.keras", "--workspace", ws], "no run")):
        code, _, err = run_cli(capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and words in lines[0], err
    assert out.read_bytes() == b"precious"
    code, _, err = run_cli(capsys, *base, "--fully-convolutional", "--force")
    assert code == 0, err
    assert load_fully_conv(out).inputs[0].shape[1:] == (None, None, 3)


def test_cli_says_in_one_line_that_a_pooled_model_has_no_head(tmp_path, capsys):
    from cnnlab.cli import main

    spec = tmp_path / "gap.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    data["data"]["shapes"]["samples"] = 60
    data["training"]["epochs"] = 1
    spec.write_text(json.dumps(data))
    run_id = train_run(spec, tmp_path / "ws")
    capsys.readouterr()  # what training printed
    out = tmp_path / "none.keras"
    code, _, err = run_cli(capsys, "convert", run_id, "--fully-convolutional", "--out", out,
                           "--workspace", tmp_path / "ws")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "no Flatten" in lines[0] and "'gap'" in lines[0]
    assert not out.exists() and not (tmp_path / "none.keras.manifest.json").exists()


@pytest.mark.parametrize("preset, size, volume, big_map", [
    ("vgg16", 64, (2, 2, 64), 3),  # 64x64 -> pool5 2x2x64; 128x128 -> a 3x3 map
    ("alexnet", 131, (3, 3, 32), 5),  # 131x131 -> pool5 3x3x32; 262x262 -> 5x5
])
def test_preset_classifiers_keep_their_scores(preset, size, volume, big_map):
    model = build_model(load_preset(preset, input_shape=[size, size, 3], classes=10,
                                    width=0.125))
    fc = fully_convolutional(model)
    assert fc.head.volume == volume and fc.stride == (32, 32)
    assert [r.kernel for r in fc.rewrites] == [(*volume, 512), (1, 1, 512, 512),
                                               (1, 1, 512, 10)]
    check = verify(model, fc)
    assert check.max_abs_diff <= 1e-4 and max(check.layer_diffs.values()) <= 1e-4
    assert check.map_shape == (big_map, big_map, 10) == (*fc.map_size(2 * size, 2 * size), 10)
    assert [layer.name for layer in fc.model.layers if "flatten" in layer.name] == []


def test_a_wrongly_arranged_kernel_is_caught():
    """Reading the Dense kernel channels-first instead of Keras's order fails the check."""
    model = build_model(load_preset("vgg16", input_shape=[64, 64, 3], classes=10, width=0.125))
    fc = fully_convolutional(model)
    conv = fc.model.get_layer("fc1")
    kernel, bias = model.get_layer("fc1").get_weights()
    wrong = kernel.reshape(64, 2, 2, 512).transpose(1, 2, 0, 3)
    conv.set_weights([wrong, bias])
    with pytest.raises(ModelFileError, match="'fc1'"):
        verify(model, fc)


def _randomized(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([np.abs(w) + 0.5 if "variance" in v.name else
                           rng.normal(0, 0.5, w.shape).astype(np.float32)
                           for w, v in zip(layer.get_weights(), layer.weights, strict=True)])
    return model


def test_each_score_is_the_original_on_its_window():
    """With valid padding, cell (i, j) of the map is the model applied to the window at (2i, 2j)."""
    exp = chain((12, 12, 2), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("MaxPooling2D", {"pool_size": 2}), ("Flatten", {}),
                ("Dense", {"units": 8, "activation": "linear"}), ("BatchNormalization", {}),
                ("Activation", {"activation": "prelu"}), ("Dropout", {"rate": 0.5}),
                ("Output", {"units": 3, "activation": "linear"}))
    model = _randomized(build_model(exp))
    fc = fully_convolutional(model)
    assert fc.stride == (2, 2) and fc.head.volume == (5, 5, 4)
    image = np.random.default_rng(1).random((16, 18, 2), dtype=np.float32)
    scores = np.asarray(fc.model(image[None], training=False))[0]
    assert scores.shape == (3, 4, 3)
    windows = np.stack([image[2 * i:2 * i + 12, 2 * j:2 * j + 12]
                        for i in range(3) for j in range(4)])
    expected = np.asarray(model(windows, training=False)).reshape(3, 4, 3)
    assert np.max(np.abs(scores - expected)) <= 1e-4
    assert np.ptp(expected) > 1.0  # the scores differ from window to window


@pytest.mark.parametrize("blocks, words", [
    ([("Conv2D", {"filters": 2, "kernel_size": 3}), ("GlobalAveragePooling2D", {}),
      ("Output", {"units": 3})], "global pooling 'b1'"),
    ([("Flatten", {}), ("Reshape", {"target_shape": [-1]}), ("Output", {"units": 3})],
     "'b1' (Reshape)"),
    ([("Conv2D", {"filters": 2, "kernel_size": 3}), ("Flatten", {}),
      ("Activation", {"activation": "relu"})], "no Dense layer follows 'b1'"),
])
def test_models_without_a_flatten_dense_head_are_refused_in_one_line(blocks, words):
    with pytest.raises(ModelFileError) as caught:
        find_head(build_model(chain((8, 8, 1), *blocks)))
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_mosaic_and_map_placement():
    samples = np.arange(4 * 2 * 3 * 1, dtype=np.float32).reshape(4, 2, 3, 1)
    tiled = mosaic(samples, 2)
    assert tiled.shape == (4, 6, 1)
    assert np.array_equal(tiled[2:, 3:], samples[3]) and np.array_equal(tiled[:2, :3], samples[0])
    with pytest.raises(ModelFileError, match="needs 9 samples"):
        mosaic(samples, 3)
    model = build_model(chain((12, 12, 2), ("MaxPooling2D", {"pool_size": 2}), ("Flatten", {}),
                              ("Output", {"units": 3})))
    fc = fully_convolutional(model)
    assert map_rect(fc, 3, 4) == (5.0, 5.0, 8.0, 6.0)  # cell centres at the window centres
