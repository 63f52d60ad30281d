"""The Python export trains on the lab's data path: resized, channel-converted, normalised.

A 16x16 grayscale npz run of a 32x32x3 network, and an image folder named by
a relative path: the exported script runs for one epoch in a separate process
(the export's own check, and here once more as a user would run it).
"""

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from cli_support import run_cli, train_run  # noqa: E402


def experiment(data, units=3, shape=(32, 32, 3)):
    nodes = [{"id": "input", "type": "Input", "params": {"shape": list(shape)}},
             {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "activation": "relu"}},
             {"id": "pool", "type": "MaxPooling2D", "params": {"pool_size": 2}},
             {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
             {"id": "output", "type": "Output", "params": {"units": units}}]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"schema_version": 1, "name": "data path", "model": {"nodes": nodes, "edges": edges},
            "data": data, "training": {"epochs": 1, "batch_size": 16}}


def gray_npz(path, n=60, size=16):
    """Grayscale uint8 images (N, 16, 16) without a channel axis, three classes."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = np.clip(60 * y[:, None, None] + rng.integers(0, 60, (n, size, size)), 0, 255)
    np.savez(path, x_train=x.astype(np.uint8), y_train=y, x_test=x[:12].astype(np.uint8),
             y_test=y[:12])


@pytest.fixture(scope="module")
def npz_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("npz")
    gray_npz(folder / "gray16.npz")
    spec = experiment({"source": "npz", "path": str(folder / "gray16.npz"),
                       "normalization": "standardize"})
    (folder / "spec.json").write_text(json.dumps(spec))
    return folder, train_run(folder / "spec.json", folder / "ws")


def test_a_16px_grayscale_npz_run_exports_a_script_that_trains(capsys, npz_run):
    folder, run_id = npz_run
    script = folder / "train16.py"
    code, out, err = run_cli(capsys, "export", run_id, "--format", "python", "--out", script,
                             "--workspace", folder / "ws")
    assert code == 0, err
    assert "verified" in out
    how = json.loads((folder / "train16.py.manifest.json").read_text())["verification"]["how"]
    assert "trained for 1 epoch on 32 samples" in how
    run = subprocess.run([sys.executable, "-I", str(script), "--epochs", "1", "--max-samples",
                          "20", "--out", str(folder / "mine")], capture_output=True, text=True,
                         timeout=300, cwd=folder)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "expected shape" not in run.stderr
    import keras

    trained = keras.saving.load_model(folder / "mine" / "model.keras")
    assert tuple(trained.input_shape[1:]) == (32, 32, 3)


def test_an_export_whose_script_cannot_train_is_refused(capsys, npz_run, tmp_path):
    folder, run_id = npz_run
    data = folder / "gray16.npz"
    moved = tmp_path / "elsewhere.npz"
    data.rename(moved)
    try:
        code, _, err = run_cli(capsys, "export", run_id, "--format", "python", "--out",
                               tmp_path / "s.py", "--workspace", folder / "ws")
    finally:
        moved.rename(data)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "the script fails" in err and "npz file not found" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # CI budget (12 s); the grayscale npz test exports a script that trains on
# resized data in the default run
def test_a_folder_run_with_a_relative_path_exports_a_script_that_trains(
        capsys, tmp_path, monkeypatch):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    for k, name in enumerate(("dark", "mid", "light")):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(8):
            image = np.clip(80 * k + rng.integers(0, 40, (20, 24, 3)), 0, 255)
            (tmp_path / "images" / name / f"{i}.png").write_bytes(
                tf.io.encode_png(image.astype(np.uint8)).numpy())
    monkeypatch.chdir(tmp_path)
    spec = experiment({"source": "folder", "path": "images"}, shape=(16, 16, 1))
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    run_id = train_run(tmp_path / "spec.json", tmp_path / "ws")
    code, out, err = run_cli(capsys, "export", run_id, "--format", "python", "--out",
                             "folder.py", "--workspace", "ws")
    assert code == 0, err
    manifest = json.loads((tmp_path / "folder.py.manifest.json").read_text())
    assert manifest["class_names"] == ["dark", "light", "mid"]
    assert "trained for 1 epoch" in manifest["verification"]["how"]
