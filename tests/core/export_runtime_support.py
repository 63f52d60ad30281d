"""Tiny runs trained through `cnnlab train` for the ONNX and LiteRT export tests.

Each run is trained once per test session (the ONNX and LiteRT tests share them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cli_support import run_cli, train_run  # noqa: E402

from cnnlab.cli import main  # noqa: E402

CLASSES = ["circle", "square", "star"]
_RUNS: dict[str, tuple[Path, str]] = {}


def shrink(spec: dict, samples: int = 60, size: int | None = None) -> dict:
    """A spec trained for one epoch on a few shapes images (of ``size`` pixels)."""
    shapes = spec["data"].setdefault("shapes", {})
    shapes.update(samples=samples, classes=CLASSES)
    if size:
        shapes["image_size"] = size
    spec["data"]["source"] = "shapes"
    spec["training"].update(epochs=1, batch_size=16)
    return spec


def custom_layers_spec() -> dict:
    """Conv, LRN, batch norm, pooling, dropout, then Maxout: the lab's own layers, trained."""
    blocks = [("conv", "Conv2D", {"filters": 4, "padding": 1, "activation": "relu"}),
              ("lrn", "LocalResponseNormalization", {}), ("bn", "BatchNormalization", {}),
              ("pool", "MaxPooling2D", {"pool_size": 2}), ("drop", "Dropout", {"rate": 0.3}),
              ("flat", "Flatten", {}), ("maxout", "Maxout", {"units": 6, "pieces": 2}),
              ("output", "Output", {"units": len(CLASSES)})]
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [12, 12, 3]}}]
    nodes += [{"id": i, "type": t, "params": p} for i, t, p in blocks]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return shrink({"schema_version": 1, "name": "lab layers",
                   "model": {"nodes": nodes, "edges": edges}, "data": {},
                   "training": {}}, size=12)


def resnet_spec() -> dict:
    """ResNet-20 at a quarter of its width on 16x16 images, three classes."""
    from cnnlab.presetlib import load_preset

    spec = load_preset("resnet20", input_shape=[16, 16, 3], classes=3, width=0.25).to_dict()
    spec["data"] = {}
    return shrink(spec, size=16)


def new_spec(folder: Path, *args: str) -> dict:
    """What `cnnlab new OUT ARGS` writes (the default CNN unless ARGS say otherwise)."""
    path = folder / "new.json"
    assert main(["new", str(path), "--force", "--classes", str(len(CLASSES)), *args]) == 0
    return shrink(json.loads(path.read_text()), size=16)


SPECS = {"default": lambda folder: new_spec(folder),
         "svm": lambda folder: new_spec(folder, "--head", "svm"),
         "custom": lambda folder: custom_layers_spec(),
         "resnet": lambda folder: resnet_spec()}


def trained(tmp_path_factory, name: str) -> tuple[Path, str]:
    """(workspace, run id) of the run ``name`` (see SPECS), trained on first use."""
    if name not in _RUNS:
        folder = tmp_path_factory.mktemp(f"runtime-{name}")
        spec = folder / f"{name}.json"
        spec.write_text(json.dumps(SPECS[name](folder)))
        _RUNS[name] = (folder / "ws", train_run(spec, folder / "ws"))
    return _RUNS[name]


def export(capsys, run: tuple[Path, str], fmt: str, out: Path, *extra) -> tuple[int, str, str]:
    """`cnnlab export RUN --format FMT --out OUT --workspace WS EXTRA...`."""
    ws, run_id = run
    return run_cli(capsys, "export", run_id, "--format", fmt, "--out", out,
                   "--workspace", ws, *extra)


def check_export(capsys, run, fmt: str, out: Path) -> dict:
    """Export through the CLI and check the file, the manifest and the printed line."""
    code, printed, err = export(capsys, run, fmt, out)
    assert code == 0, err
    manifest = json.loads(Path(f"{out}.manifest.json").read_text())
    check = manifest["verification"]
    assert out.is_file() and manifest["format"] == fmt and manifest["artifact"] == out.name
    assert check["samples"] >= 3 and check["max_abs_diff"] <= 1e-5
    assert f"as {fmt} to {out}" in printed and "verified on" in printed
    assert manifest["load"].startswith("standalone")
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name, f"{out.name}.manifest.json"]
    return manifest


STANDALONE = """
import sys
import numpy as np
fmt, path, x, y = sys.argv[1], sys.argv[2], np.load(sys.argv[3]), np.load(sys.argv[4])
if fmt == "onnx":
    import onnxruntime
    s = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = s.run(None, {s.get_inputs()[0].name: x})[0]
else:
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path)
    (arg,) = it.get_input_details()
    it.resize_tensor_input(arg["index"], list(x.shape))
    it.allocate_tensors()
    it.set_tensor(arg["index"], x)
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
assert not {"tensorflow", "keras", "cnnlab"} & set(sys.modules), "not standalone"
print(float(np.max(np.abs(got - y))))
"""


def standalone_diff(tmp_path: Path, run: tuple[Path, str], fmt: str, out: Path) -> float:
    """Run the export in a fresh `python -I` with only its runtime (no TensorFlow, Keras or lab).

    Compares with the run's Keras model on inputs other than the verification's.
    """
    import subprocess
    import sys

    import numpy as np

    from cnnlab.modelio.loader import load_model_file
    from cnnlab.runs.store import RunStore

    model, _ = load_model_file(RunStore(run[0]).run_dir(run[1]) / "model.keras")
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = np.random.default_rng(11).random((3, *shape), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.asarray(model(x, training=False)))
    done = subprocess.run([sys.executable, "-I", "-c", STANDALONE, fmt, str(out),
                           str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return float(done.stdout.strip().splitlines()[-1])


def odd_model():
    """A real Keras model with a layer no runtime format carries (inverse erf has no op)."""
    import keras

    class InverseErf(keras.layers.Layer):
        def call(self, x):
            return keras.ops.erfinv(keras.ops.clip(x, -0.9, 0.9))

    inputs = keras.Input((6,), name="input")
    outputs = InverseErf(name="odd")(keras.layers.Dense(4, name="fc")(inputs))
    return keras.Model(inputs, outputs)
