"""`cnnlab export --format onnx`: converted by Keras, checked in onnxruntime, standalone."""

import json
import sys

import pytest
from core.export_runtime_support import (
    check_export,
    export,
    odd_model,
    standalone_diff,
    trained,
)

from cnnlab.errors import CnnlabError, ModelFileError
from cnnlab.modelio.export import export_model


@pytest.mark.parametrize("case", ["default", "custom", "svm"])
def test_a_trained_run_exports_to_onnx_that_runs_without_keras(capsys, tmp_path,
                                                               tmp_path_factory, case):
    run = trained(tmp_path_factory, case)
    out = tmp_path / "out" / "m.onnx"
    manifest = check_export(capsys, run, "onnx", out)
    assert {"tf2onnx", "onnx", "onnxruntime"} <= set(manifest["versions"])
    assert "onnxruntime.InferenceSession" in manifest["verification"]["how"]
    assert "onnxruntime.InferenceSession(path)" in manifest["load"]
    if case == "custom":
        assert manifest["custom_layers"] == ["cnnlab>LocalResponseNormalization",
                                             "cnnlab>Maxout"]
        assert "lab layers converted to plain operations" in manifest["load"]
    if case == "svm":  # linear class margins, not probabilities
        assert manifest["spec"]["training"]["transfer"]["head"] == "svm"
    assert standalone_diff(tmp_path, run, "onnx", out) <= 1e-5


def test_an_existing_onnx_file_is_replaced_only_with_force(capsys, tmp_path, tmp_path_factory):
    run = trained(tmp_path_factory, "default")
    out = tmp_path / "m.onnx"
    out.write_bytes(b"earlier export")
    code, _, err = export(capsys, run, "onnx", out)
    assert code == 2 and "already exists" in err and out.read_bytes() == b"earlier export"
    code, _, err = export(capsys, run, "onnx", tmp_path / "m.tflite")
    assert code == 2 and "must end in .onnx" in err
    code, _, err = export(capsys, run, "onnx", out, "--force")
    assert code == 0, err
    assert out.read_bytes() != b"earlier export"
    assert json.loads((tmp_path / "m.onnx.manifest.json").read_text())["format"] == "onnx"


def test_a_missing_onnx_extra_is_one_line_and_nothing_is_written(capsys, tmp_path,
                                                                 tmp_path_factory, monkeypatch):
    run = trained(tmp_path_factory, "default")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # how Python marks "not importable"
    code, out, err = export(capsys, run, "onnx", tmp_path / "m.onnx")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        'cnnlab: error: the ONNX export needs the onnx extra (onnxruntime not installed): '
        'pip install "cnnlab[onnx]"']
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CnnlabError, match=r'pip install "cnnlab\[onnx\]"'):
        export_model(odd_model(), "onnx", tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_layer_onnx_cannot_carry_is_named_and_nothing_is_written(tmp_path):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"earlier export")
    with pytest.raises(ModelFileError) as caught:
        export_model(odd_model(), "onnx", out, force=True)
    assert str(caught.value) == ("ONNX cannot carry layer 'odd' (InverseErf): TensorFlow "
                                 "operation Erfinv has no ONNX built-in; nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    assert out.read_bytes() == b"earlier export"


@pytest.mark.slow
def test_a_resnet_preset_run_exports_to_onnx(capsys, tmp_path, tmp_path_factory):
    run = trained(tmp_path_factory, "resnet")
    out = tmp_path / "m.onnx"
    manifest = check_export(capsys, run, "onnx", out)
    assert manifest["model"]["output_shape"] == [3]
    assert "stage3_block3" in {node["id"] for node in manifest["spec"]["model"]["nodes"]}
    assert standalone_diff(tmp_path, run, "onnx", out) <= 1e-5
