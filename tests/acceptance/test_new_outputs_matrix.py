"""Acceptance matrix, the outputs issue 18 added, through ``cnnlab``: ONNX and LiteRT
exports reloaded in their runtimes, the HTML report, and the FC-to-convolution
conversion (done on a Flatten head, refused in one line on a global-pooling head)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest
from matrix_checks import predict
from matrix_lab import assert_one_line_error, cli


def _runtime(fmt: str, path):
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {session.get_inputs()[0].name: x})[0]
    from ai_edge_litert.interpreter import Interpreter

    def run(x):
        it = Interpreter(model_path=str(path))
        (arg,) = it.get_input_details()
        it.resize_tensor_input(arg["index"], list(x.shape))
        it.allocate_tensors()
        it.set_tensor(arg["index"], x)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])
    return run


@pytest.mark.parametrize("fmt, name", [("onnx", "m.onnx"), ("litert", "m.tflite")])
def test_runtime_exports_reload_and_predict_the_same(lab, fmt, name, tmp_path):
    run = lab.cached("base")
    out = tmp_path / name
    code, stdout, err = cli("export", run.result["run_id"], "--format", fmt, "--out", out,
                            "--workspace", lab.workspace)
    assert code == 0, err
    assert "verified" in stdout and (tmp_path / f"{name}.manifest.json").is_file()
    x = np.asarray(run.val_arrays()[0][:8], dtype=np.float32)
    got = np.asarray(_runtime(fmt, out)(x), dtype=np.float64)
    assert np.max(np.abs(got - predict(run.model, x))) < 1e-5


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_report_names_the_run_and_never_replaces_a_file_without_force(lab, tmp_path):
    run = lab.cached("base")
    run_id, out = run.result["run_id"], tmp_path / "report.html"
    code, _, err = cli("report", run_id, "--out", out, "--workspace", lab.workspace)
    assert code == 0, err
    page = _Text()
    page.feed(out.read_text(encoding="utf-8"))
    text = " ".join(page.text)
    assert run_id in text and "script" not in page.tags
    for name in run.spec["data"]["shapes"]["classes"]:
        assert name in text, name
    before = out.read_bytes()
    code, _, err = cli("report", run_id, "--out", out, "--workspace", lab.workspace)
    assert_one_line_error(code, err, "--force")
    assert out.read_bytes() == before


def _flatten_head(d: dict) -> None:
    gap = next(n for n in d["model"]["nodes"] if n["type"] == "GlobalAveragePooling2D")
    gap.update({"type": "Flatten", "params": {}})


def test_fully_convolutional_conversion_through_cnnlab(lab, tmp_path):
    pooled = lab.cached("base").result["run_id"]
    code, _, err = cli("convert", pooled, "--fully-convolutional", "--out",
                       tmp_path / "no.keras", "--workspace", lab.workspace)
    assert_one_line_error(code, err, "Flatten")
    assert not (tmp_path / "no.keras").exists()
    run = lab.cached("flatten", _flatten_head)
    out = tmp_path / "fcn.keras"
    code, _, err = cli("convert", run.result["run_id"], "--fully-convolutional", "--out", out,
                       "--workspace", lab.workspace)
    assert code == 0, err
    manifest = json.loads((tmp_path / "fcn.keras.manifest.json").read_text())
    assert out.is_file() and manifest
    import keras

    import cnnlab.layers  # noqa: F401

    fcn = keras.models.load_model(out, compile=False)
    x = np.asarray(run.val_arrays()[0][:4], dtype=np.float32)
    same = np.asarray(fcn.predict(x, verbose=0)).reshape(len(x), -1)
    assert np.max(np.abs(same - predict(run.model, x))) < 1e-4
    big = np.concatenate([x, x], axis=1)  # twice as tall: a column of score windows
    assert np.asarray(fcn.predict(np.concatenate([big, big], axis=2), verbose=0)).ndim == 4
