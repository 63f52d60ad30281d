"""One output rule for `cnnlab export` and `cnnlab import`: nothing replaced without --force."""

import contextlib
import io
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from cnnlab.cli import main  # noqa: E402


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def tiny_spec(classes=("circle", "square", "star")):
    """A two-block network on a small shapes dataset, one epoch."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 3]}},
             {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "activation": "relu"}},
             {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
             {"id": "output", "type": "Output", "params": {"units": len(classes)}}]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"schema_version": 1, "name": "outputs", "model": {"nodes": nodes, "edges": edges},
            "data": {"source": "shapes", "shapes": {"classes": list(classes), "samples": 60,
                                                    "image_size": 16}},
            "training": {"epochs": 1, "batch_size": 16}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real tiny run trained through the CLI: (folder, workspace, run id)."""
    folder = tmp_path_factory.mktemp("outputs")
    spec = folder / "spec.json"
    spec.write_text(json.dumps(tiny_spec()))
    ws = folder / "ws"
    return folder, ws, train_run(spec, ws)


def train_run(spec, ws):
    """Train ``spec`` with `cnnlab train --json`; return the run id it prints."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", str(spec), "--workspace", str(ws), "--json"]) == 0
    return json.loads(printed.getvalue().strip().splitlines()[-1])["run_id"]


def export(capsys, run, fmt, out, *extra):
    _, ws, run_id = run
    return run_cli(capsys, "export", run_id, "--format", fmt, "--out", out, "--workspace", ws,
                   *extra)


@pytest.mark.parametrize("fmt, name", [("keras", "m.keras"), ("h5", "m.h5"),
                                       ("python", "m.py")])
def test_an_existing_file_is_refused_without_force(capsys, tmp_path, run, fmt, name):
    target = tmp_path / name
    target.write_text("precious")
    code, _, err = export(capsys, run, fmt, target)
    assert code == 2 and "already exists; use --force" in err and len(err.splitlines()) == 1
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_an_existing_manifest_is_refused_and_force_replaces_both(capsys, tmp_path, run):
    target, manifest = tmp_path / "m.keras", tmp_path / "m.keras.manifest.json"
    manifest.write_text("precious")
    code, _, err = export(capsys, run, "keras", target)
    assert code == 2 and "manifest.json already exists" in err
    assert manifest.read_text() == "precious" and not target.exists()
    target.write_text("old")
    code, out, err = export(capsys, run, "keras", target, "--force")
    assert code == 0, err
    assert target.read_bytes()[:2] == b"PK"
    assert json.loads(manifest.read_text())["format"] == "keras"


def test_the_target_is_checked_before_anything_else(capsys, tmp_path):
    target = tmp_path / "m.keras"
    target.write_text("precious")
    code, _, err = run_cli(capsys, "export", "no-such-run", "--format", "keras", "--out",
                           target, "--workspace", tmp_path / "ws")
    assert code == 2 and "already exists" in err and target.read_text() == "precious"


@pytest.mark.parametrize("fmt, name, words", [
    ("python", "m.keras", "must end in .py"),
    ("keras", "m.h5", "must end in .keras"),
    ("savedmodel", "m.keras", "a SavedModel export is a folder"),
])
def test_a_wrong_suffix_is_an_error(capsys, tmp_path, run, fmt, name, words):
    code, _, err = export(capsys, run, fmt, tmp_path / name)
    assert code == 2 and words in err
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_folder_is_never_replaced(capsys, tmp_path, run):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"precious")
    code, _, err = export(capsys, run, "savedmodel", folder)
    assert code == 2 and "--force" in err
    code, _, err = export(capsys, run, "savedmodel", folder, "--force")
    assert code == 2 and "not a SavedModel exported by the lab" in err
    assert [p.name for p in folder.iterdir()] == ["holiday.jpg"]
    assert (folder / "holiday.jpg").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def test_a_file_where_the_savedmodel_folder_goes_is_refused(capsys, tmp_path, run):
    target = tmp_path / "served"
    target.write_text("precious")
    code, _, err = export(capsys, run, "savedmodel", target, "--force")
    assert code == 2 and "is not a folder" in err and target.read_text() == "precious"


def test_the_labs_savedmodel_is_replaced_only_with_force(capsys, tmp_path, run):
    folder = tmp_path / "served"
    code, _, err = export(capsys, run, "savedmodel", folder)
    assert code == 0, err
    assert json.loads((folder / "manifest.json").read_text())["format"] == "savedmodel"
    stamp = (folder / "manifest.json").read_text()
    code, _, err = export(capsys, run, "savedmodel", folder)
    assert code == 2 and "--force" in err and (folder / "manifest.json").read_text() == stamp
    code, _, err = export(capsys, run, "savedmodel", folder, "--force")
    assert code == 0, err
    assert (folder / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]


def test_import_refuses_an_existing_weights_file(capsys, tmp_path, run):
    model = tmp_path / "m.keras"
    assert export(capsys, run, "keras", model)[0] == 0
    weights = tmp_path / "new.weights.npz"
    weights.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "import", model, "--out", tmp_path / "new.json")
    assert code == 2 and "new.weights.npz already exists; use --force" in err
    assert weights.read_bytes() == b"precious" and not (tmp_path / "new.json").exists()
    code, _, err = run_cli(capsys, "import", model, "--out", tmp_path / "new.json", "--force")
    assert code == 0, err
    assert weights.read_bytes()[:2] == b"PK" and (tmp_path / "new.json").is_file()


def test_import_needs_a_json_name(capsys, tmp_path, run):
    model = tmp_path / "m.keras"
    assert export(capsys, run, "keras", model)[0] == 0
    code, _, err = run_cli(capsys, "import", model, "--out", tmp_path / "new.txt")
    assert code == 2 and ".json" in err and not (tmp_path / "new.txt").exists()


def test_a_dangling_link_counts_as_existing(capsys, tmp_path):
    link = tmp_path / "m.py"
    link.symlink_to(tmp_path / "elsewhere.py")
    code, _, err = run_cli(capsys, "export", "no-such-run", "--format", "python", "--out",
                           link, "--workspace", tmp_path / "ws")
    assert code == 2 and "already exists" in err
    assert link.is_symlink() and not (tmp_path / "elsewhere.py").exists()
