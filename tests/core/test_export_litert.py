"""`cnnlab export --format litert`: built-in LiteRT ops only, checked in ai-edge-litert."""

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


# custom and svm: slow (CI budget); the ONNX tests export both in the default run
@pytest.mark.parametrize("case", ["default", *(pytest.param(c, marks=pytest.mark.slow)
                                               for c in ("custom", "svm"))])
def test_a_trained_run_exports_to_litert_that_runs_without_tensorflow(capsys, tmp_path,
                                                                      tmp_path_factory, case):
    run = trained(tmp_path_factory, case)
    out = tmp_path / "out" / "m.tflite"
    manifest = check_export(capsys, run, "litert", out)
    assert "ai-edge-litert" in manifest["versions"]
    assert "LiteRT interpreter" in manifest["verification"]["how"]
    assert "ai_edge_litert.interpreter.Interpreter" in manifest["load"]
    if case == "custom":
        assert manifest["custom_layers"] == ["cnnlab>LocalResponseNormalization",
                                             "cnnlab>Maxout"]
    if case == "svm":  # linear class margins, not probabilities
        assert manifest["spec"]["training"]["transfer"]["head"] == "svm"
    assert standalone_diff(tmp_path, run, "litert", out) <= 1e-5


def test_a_missing_litert_extra_is_one_line_and_nothing_is_written(capsys, tmp_path,
                                                                   tmp_path_factory,
                                                                   monkeypatch):
    run = trained(tmp_path_factory, "default")
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # Python's "not importable"
    code, out, err = export(capsys, run, "litert", tmp_path / "m.tflite")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "cnnlab: error: the LiteRT export needs the litert extra (ai_edge_litert not "
        'installed): pip install "cnnlab[litert]"']
    with pytest.raises(CnnlabError, match=r'pip install "cnnlab\[litert\]"'):
        export_model(odd_model(), "litert", tmp_path / "m.tflite")
    assert list(tmp_path.iterdir()) == []


def test_a_layer_litert_cannot_carry_is_named_and_nothing_is_written(capfd, tmp_path):
    out = tmp_path / "m.tflite"
    with pytest.raises(ModelFileError) as caught:
        export_model(odd_model(), "litert", out)
    assert str(caught.value) == ("LiteRT cannot carry layer 'odd' (InverseErf): TensorFlow "
                                 "operation Erfinv has no LiteRT built-in; nothing was written")
    assert list(tmp_path.iterdir()) == []
    assert "Erfinv" not in capfd.readouterr().err  # the converter's dump is not shown


@pytest.mark.slow
def test_a_resnet_preset_run_exports_to_litert(capsys, tmp_path, tmp_path_factory):
    run = trained(tmp_path_factory, "resnet")
    out = tmp_path / "m.tflite"
    manifest = check_export(capsys, run, "litert", out)
    assert manifest["model"]["output_shape"] == [3]
    assert "stage3_block3" in {node["id"] for node in manifest["spec"]["model"]["nodes"]}
    assert standalone_diff(tmp_path, run, "litert", out) <= 1e-5
