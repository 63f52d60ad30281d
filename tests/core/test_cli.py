"""The `cnnlab` command end to end: presets, summary, new, train, runs, inspect, export, import."""

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from cnnlab.cli import main  # noqa: E402


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_presets_lists_every_preset_with_its_parameters(capsys):
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0
    assert "resnet50" in out and "25,557,032" in out and "138,357,544" in out


def test_summary_prints_the_lecture_table(capsys):
    code, out, _ = run_cli(capsys, "summary", "vgg16")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("conv1_1"))
    assert "224x224x64" in row and "1,792" in row and "3,211,264" in row


def test_summary_json_reports_resnet50_parameters(capsys):
    code, out, _ = run_cli(capsys, "summary", "resnet50", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["totals"]["params"] == 25_557_032
    assert set(data["layers"][0]) >= {"id", "type", "output_shape", "params", "trainable_params",
                                      "macs", "activations", "receptive_field"}


@pytest.mark.parametrize("args, words", [
    (["summary", "vgg16", "--input", "224,x,3"], "--input"),
    (["summary", "vgg16", "--classes", "0"], "--classes"),
    (["summary", "nosuchnet"], "unknown preset"),
    (["summary", "missing.json"], "no such file"),
    (["train", "missing.json"], "no such file"),
    (["runs", "show", "nope"], "no run"),
    (["export", "nope", "--format", "keras", "--out", "x.keras"], "no run"),
    (["import", "missing.keras", "--out", "x.json"], "missing.keras"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in err


def test_summary_of_a_broken_graph_names_the_block(capsys, tmp_path):
    spec = tmp_path / "e.json"
    assert run_cli(capsys, "new", spec)[0] == 0
    data = json.loads(spec.read_text())
    data["model"]["nodes"][1]["params"]["kernel_size"] = 40
    data["model"]["nodes"][1]["params"]["padding"] = "valid"
    spec.write_text(json.dumps(data))
    code, _, err = run_cli(capsys, "validate", spec)
    assert code == 2 and err.startswith("conv1: a 40x40 kernel does not fit")


def test_new_refuses_to_overwrite(capsys, tmp_path):
    spec = tmp_path / "e.json"
    spec.write_text("precious")
    code, _, err = run_cli(capsys, "new", spec)
    assert code == 2 and "--force" in err
    assert spec.read_text() == "precious"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A real run of a small default experiment, trained through the CLI."""
    folder = tmp_path_factory.mktemp("cli")
    spec = folder / "small.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    data["data"]["shapes"]["samples"] = 300
    data["training"]["epochs"] = 2
    spec.write_text(json.dumps(data))
    return folder, spec


def test_train_runs_inspect_export_import(trained_run, capsys):
    folder, spec = trained_run
    ws = folder / "ws"
    code, out, _ = run_cli(capsys, "train", spec, "--workspace", ws, "--json")
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["epochs_done"] == 2
    assert set(result["metrics"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    run_id = result["run_id"]

    code, out, _ = run_cli(capsys, "runs", "--workspace", ws, "--json")
    (row,) = json.loads(out)
    assert row["id"] == run_id and row["status"] == "finished" and row["epochs_planned"] == 2

    for method in ("filters", "feature-maps", "saliency", "gradcam", "guided-backprop",
                   "confusion"):
        png = folder / f"{method}.png"
        args = ["inspect", run_id, "--method", method, "--out", png, "--workspace", ws]
        if method == "feature-maps":
            args += ["--layer", "conv2"]
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    exported = folder / "model.keras"
    code, out, err = run_cli(capsys, "export", run_id, "--format", "keras", "--out", exported,
                             "--workspace", ws)
    assert code == 0, err
    assert exported.is_file() and "verified" in out

    imported = folder / "imported.json"
    code, out, err = run_cli(capsys, "import", exported, "--out", imported)
    assert code == 0, err
    assert run_cli(capsys, "validate", imported)[:2] == (0, "ok\n")


@pytest.mark.slow
def test_resnet20_preset_trains_from_the_command_line(capsys, tmp_path):
    spec = tmp_path / "x.json"
    assert run_cli(capsys, "new", "--preset", "resnet20", spec)[0] == 0
    code, out, _ = run_cli(capsys, "train", spec, "--epochs", "1", "--workspace",
                           tmp_path / "ws", "--json")
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1])["status"] == "finished"


def _crash(args):
    raise RuntimeError("boom\nsecond line")


def _one_error_line(capsys, *args):
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return code, lines[0]


def test_an_unexpected_error_is_one_line_naming_a_log_in_the_workspace(capsys, tmp_path,
                                                                         monkeypatch):
    # A bug stands in for one: the real validate command, made to raise.
    import cnnlab.cli.validate

    monkeypatch.setattr(cnnlab.cli.validate, "run", _crash)
    code, line = _one_error_line(capsys, "validate", tmp_path / "e.json")
    assert code == 1 and "a bug in the lab" in line and "RuntimeError: boom" in line
    log = Path(line.rsplit("the traceback is in ", 1)[1])
    assert log.parent == Path(os.environ["CNNLAB_HOME"]).resolve() / "logs"
    assert log.name.startswith("error-") and log.suffix == ".log"
    text = log.read_text()
    assert "Traceback" in text and "second line" in text and "cnnlab validate" in text


def test_the_log_goes_to_workspace_or_the_temp_dir(capsys, tmp_path, monkeypatch):
    import cnnlab.cli.runs

    monkeypatch.setattr(cnnlab.cli.runs, "run", _crash)
    code, line = _one_error_line(capsys, "runs", "list", "--workspace", tmp_path / "ws")
    assert code == 1 and f"{(tmp_path / 'ws').resolve()}/logs/error-" in line
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    code, line = _one_error_line(capsys, "runs", "list", "--workspace", blocked)
    log = Path(line.rsplit("the traceback is in ", 1)[1])
    assert code == 1 and log.parent == Path(tempfile.gettempdir()) / "cnnlab-logs"
    assert "RuntimeError" in log.read_text()
    log.unlink()
    assert blocked.read_text() == "not a folder"


def test_summary_warns_when_the_batch_does_not_fit_in_memory(capsys, tmp_path):
    spec = tmp_path / "e.json"
    assert run_cli(capsys, "new", spec, "--input", "512,512,3")[0] == 0
    data = json.loads(spec.read_text())
    data["training"]["batch_size"] = 65_536  # ~4 TB of activations per batch
    spec.write_text(json.dumps(data))
    code, out, err = run_cli(capsys, "summary", spec)
    assert code == 0 and "total" in out
    assert err.startswith("cnnlab: warning: ") and "at 65536 image(s) per batch" in err


def test_a_command_in_a_fresh_process_prints_no_tensorflow_start_up_lines(trained_run, tmp_path):
    """TensorFlow's C++ start-up lines (oneDNN, cuInit, absl) never reach the terminal."""
    import re
    import subprocess
    import sys

    _folder, spec = trained_run
    done = subprocess.run(
        [sys.executable, "-m", "cnnlab.cli", "train", str(spec), "--epochs", "1",
         "--workspace", str(tmp_path / "ws")],
        capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr
    noise = [line for line in done.stderr.splitlines()
             if re.search(r"^[EWI]\d{4} |oneDNN|cuInit|absl::InitializeLog", line)]
    assert noise == [] and "finished after" in done.stderr


def test_validate_and_train_refuse_an_output_that_does_not_fit_the_data(capsys, tmp_path):
    spec = tmp_path / "e.json"
    assert run_cli(capsys, "new", spec)[0] == 0
    data = json.loads(spec.read_text())
    data["model"]["nodes"][-1]["params"]["units"] = 10  # shapes has 6 classes
    spec.write_text(json.dumps(data))
    expected = "output: it has 10 units but the data has 6 classes; set units to 6"
    code, _, err = run_cli(capsys, "validate", spec)
    assert code == 2 and err.strip() == expected
    code, _, err = run_cli(capsys, "train", spec, "--workspace", tmp_path / "ws")
    assert code == 2 and err.strip() == f"cnnlab: error: {expected}"
