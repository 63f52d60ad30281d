"""Acceptance matrix, device and data part: each device option that runs on a CPU and
each data source, trained once through ``cnnlab train``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matrix_lab import assert_one_line_error, cli


def device(**fields):
    """An edit of ``training.device``."""
    return lambda d: d["training"]["device"].update(fields)


def devices_of(run) -> dict:
    """What the run recorded about its device plan."""
    return run.metadata["devices"]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_with_that_policy(lab, policy):
    run = lab.train(lab.spec(device(mixed_precision=policy)))
    assert run.ok, run.describe()
    assert devices_of(run)["precision"] == policy
    assert run.model.get_layer("conv1").dtype_policy.name == policy
    assert run.model.layers[-1].compute_dtype == "float32"  # the classifier stays float32
    assert np.isfinite(run.result["metrics"]["loss"])


@pytest.mark.parametrize("jit, expected", [("on", True), ("off", False)])
def test_jit_compile_on_and_off(lab, jit, expected):
    run = lab.train(lab.spec(device(jit_compile=jit)))
    assert run.ok, run.describe()
    assert devices_of(run)["jit_compile"] is expected


def test_steps_per_execution(lab):
    run = lab.train(lab.spec(device(steps_per_execution=2), lambda d: d["training"].update(
        epochs=2)))
    assert run.ok, run.describe()
    assert devices_of(run)["steps_per_execution"] == 2
    assert len(run.metrics["loss"]) == 2


def test_mirrored_strategy_on_one_cpu_device_says_it_trains_on_one(lab):
    run = lab.train(lab.spec(device(distribute="mirrored")))
    assert run.ok, run.describe()
    plan = devices_of(run)
    assert plan["replicas"] == 1
    assert any("mirrored distribution needs two devices" in n for n in plan["notes"]), plan


CHILD = """
import sys
from cnnlab.train.devices import split_cpu
split_cpu(2)
from cnnlab.cli import main
sys.exit(main(["train", sys.argv[1], "--workspace", sys.argv[2], "--json"]))
"""


def test_mirrored_strategy_on_two_logical_cpus(lab, tmp_path):
    import subprocess
    import sys

    path = lab.write(lab.spec(device(distribute="mirrored")), "mirrored")
    ws = tmp_path / "ws"
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(ws)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished"
    meta = json.loads((ws / "runs" / result["run_id"] / "metadata.json").read_text())
    assert meta["devices"]["replicas"] == 2
    assert meta["devices"]["device"] == "2 x CPU (mirrored)"


def test_tensorboard_writes_event_files(lab):
    run = lab.train(lab.spec(device(tensorboard=True)))
    assert run.ok, run.describe()
    events = list((run.run_dir / "tensorboard").rglob("*tfevents*"))
    assert events and all(f.stat().st_size > 0 for f in events)


# -- data sources ----------------------------------------------------------------


def test_shapes_source(lab):
    run = lab.cached("base")
    meta = run.metadata["data"]
    assert sum(meta["sizes"].values()) == 96 and meta["image_shape"] == [16, 16, 3]
    assert meta["classes"] == lab.base["data"]["shapes"]["classes"]


def test_smaller_grayscale_npz_is_resized_and_coloured(lab, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "small.npz"
    np.savez(path, x_train=rng.integers(0, 256, (72, 8, 8, 1), dtype=np.uint8),
             y_train=np.arange(72) % 6, x_test=rng.integers(0, 256, (12, 8, 8, 1),
                                                            dtype=np.uint8),
             y_test=np.arange(12) % 6)

    def edit(d):
        d["data"].update(source="npz", path=str(path))

    run = lab.train(lab.spec(edit))
    assert run.ok, run.describe()
    meta = run.metadata["data"]
    assert meta["image_shape"] == [16, 16, 3]
    assert meta["sizes"]["test"] == 12  # the file's own test split
    notes = " ".join(meta["notes"]).lower()
    assert "8x8" in notes and "16x16" in notes, notes
    assert "channel" in notes or "grayscale" in notes or "rgb" in notes, notes


def _image_folder(root, bad: bool):
    import tensorflow as tf

    from cnnlab.data.shapes import generate_shapes

    classes = ["circle", "square", "star"]
    x, y = generate_shapes(classes, samples=60, image_size=20, channels=3, noise=0.05, seed=0)
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        folder = root / classes[int(label)]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.asarray(img)
        if pixels.dtype != np.uint8:
            pixels = np.clip(pixels * 255, 0, 255).astype(np.uint8)
        (folder / f"{i:03d}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    if bad:
        (root / "square" / "broken.png").write_bytes(b"not a png at all")
    return classes


def _folder_edit(root, bad_files):
    def edit(d):
        d["data"].update(source="folder", path=str(root), bad_files=bad_files)
        next(n for n in d["model"]["nodes"] if n["id"] == "output")["params"]["units"] = 3
    return edit


def test_folder_with_a_bad_file_skips_it_and_says_so(lab, tmp_path):
    root = tmp_path / "images"
    classes = _image_folder(root, bad=True)
    run = lab.train(lab.spec(_folder_edit(root, "skip")))
    assert run.ok, run.describe()
    meta = run.metadata["data"]
    assert meta["classes"] == classes and sum(meta["sizes"].values()) == 60
    notes = " ".join(meta["notes"])
    assert "broken.png" in notes and "skipped 1 bad file" in notes, notes
    assert "20x20" in notes  # resized to the model's 16x16


def test_folder_with_a_bad_file_stops_when_asked(lab, tmp_path):
    root = tmp_path / "images"
    _image_folder(root, bad=True)
    path = lab.write(lab.spec(_folder_edit(root, "stop")), "folder_stop")
    code, _, err = cli("train", path, "--workspace", lab.workspace, "--json")
    assert_one_line_error(code, err, "broken.png", "bad_files")


def test_keras_dataset_offline_names_the_file(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there: offline
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)

    def edit(d):
        d["data"].update(source="keras", keras_name="mnist")

    path = lab.write(lab.spec(edit), "keras_offline")
    code, _, err = cli("train", path, "--workspace", lab.workspace, "--json")
    assert_one_line_error(code, err, "mnist needs", str(tmp_path / "keras" / "datasets" /
                                                        "mnist.npz"))
