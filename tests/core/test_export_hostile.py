"""Hostile names never run: experiment names, descriptions, class folders, paths, model files.

Every payload writes an absolute MARK path (built with chr(47), so it fits in
a folder name). The exports run their scripts in a subprocess, so a payload
that broke out of its literal anywhere, in the lab or in the check process,
would create MARK.
"""

import ast
import io
import json
import os
import tokenize

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from cli_support import run_cli, train_run  # noqa: E402


def payload(mark):
    """Python code that creates ``mark``, with no slash in it."""
    return f"open(chr(47).join({str(mark).split('/')!r}), 'w').write('x')"


STYLES = {
    "doc": '{stem}"""\n{code}\n"""',
    "single": "{stem}'''\n{code}\n'''",
    "comment": "{stem}'\n{code}\n#\\",
    "brace": "{stem}{{{code}}}\"\\",
}


def hostile(mark, stem, styles=tuple(STYLES)):
    """A string that breaks out of \"\"\", ''', quotes, comments or f-string braces.

    One style keeps it short enough for a folder name (255 bytes).
    """
    code = payload(mark)
    return "".join(STYLES[s].format(stem=stem if i == 0 else "", code=code)
                   for i, s in enumerate(styles))


def tiny_model(units, size=16):
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [size, size, 3]}},
             {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "activation": "relu"}},
             {"id": "gap", "type": "GlobalAveragePooling2D", "params": {}},
             {"id": "output", "type": "Output", "params": {"units": units}}]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"nodes": nodes, "edges": edges}


def write_images(root, classes, n=6, size=12):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(n):
            image = np.clip(40 * k + rng.integers(0, 30, (size, size, 3)), 0, 255)
            (root / name / f"{i}.png").write_bytes(tf.io.encode_png(image.astype(np.uint8))
                                                   .numpy())


def assert_only_literals(text, mark):
    """The script parses, calls no open()/chr(), and holds MARK in no comment or docstring."""
    tree = ast.parse(text)
    calls = {getattr(n.func, "id", None) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not calls & {"open", "chr", "exec", "eval", "__import__"}
    assert "MARK" not in (ast.get_docstring(tree) or "")
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.COMMENT]
    assert not [c for c in comments if "MARK" in c or "chr(47)" in c]
    assert text.isascii()
    return {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A folder run whose name, description, class folders and data path are all hostile."""
    base = tmp_path_factory.mktemp("hostile")
    mark = base / "MARK"
    classes = sorted(hostile(mark, stem, (style,))
                     for stem, style in (("a", "doc"), ("b", "single"), ("c", "comment")))
    root = base / hostile(mark, "data", ("brace",))
    write_images(root, classes)
    spec = {"schema_version": 1, "name": hostile(mark, "Shapes"),
            "description": hostile(mark, "about"), "model": tiny_model(3),
            "data": {"source": "folder", "path": str(root)},
            "training": {"epochs": 1, "batch_size": 8}}
    (base / "spec.json").write_text(json.dumps(spec))
    ws = base / "ws"
    run_id = train_run(base / "spec.json", ws)
    assert not mark.exists()
    return base, ws, run_id, spec, classes


def test_hostile_names_and_paths_stay_literals_in_every_export(capsys, hostile_run):
    base, ws, run_id, spec, classes = hostile_run
    mark = base / "MARK"
    for fmt, name in (("python", "s.py"), ("keras", "m.keras"), ("h5", "m.h5")):
        code, out, err = run_cli(capsys, "export", run_id, "--format", fmt, "--out",
                                 base / name, "--workspace", ws)
        assert code == 0, err
        assert not mark.exists(), fmt
        manifest = json.loads((base / f"{name}.manifest.json").read_text())
        assert manifest["spec"]["name"] == spec["name"]
    text = (base / "s.py").read_text()
    compile(text, "s.py", "exec")
    values = assert_only_literals(text, mark)
    assert values["EXPERIMENT_NAME"] == spec["name"]
    assert values["DESCRIPTION"] == spec["description"]
    assert values["CLASS_NAMES"] == classes
    assert values["SPEC"]["data"]["path"] == spec["data"]["path"]
    assert not mark.exists()


def test_a_hostile_model_file_through_import_train_and_export(capsys, tmp_path):
    import keras

    mark = tmp_path / "MARK"
    evil = hostile(mark, "m")
    inp = keras.Input((16, 16, 3), name="in" + evil)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c" + evil)(inp)
    x = keras.layers.GlobalAveragePooling2D(name="g" + evil)(x)
    out = keras.layers.Dense(3, activation="softmax", name="o" + evil)(x)
    keras.Model(inp, out, name="n" + evil).save(tmp_path / "h.keras")
    spec_path = tmp_path / "h.json"
    code, _, err = run_cli(capsys, "import", tmp_path / "h.keras", "--out", spec_path)
    assert code == 0, err
    spec = json.loads(spec_path.read_text())
    assert spec["name"] == "n" + evil
    spec["data"] = {"source": "shapes", "shapes": {"classes": ["circle", "square", "star"],
                                                   "samples": 48, "image_size": 16}}
    spec["training"] = {"epochs": 1, "batch_size": 16}
    spec_path.write_text(json.dumps(spec))
    run_id = train_run(spec_path, tmp_path / "ws")
    code, _, err = run_cli(capsys, "export", run_id, "--format", "python", "--out",
                           tmp_path / "s.py", "--workspace", tmp_path / "ws")
    assert code == 0, err
    values = assert_only_literals((tmp_path / "s.py").read_text(), mark)
    assert values["EXPERIMENT_NAME"] == "n" + evil
    assert not mark.exists()


def test_hostile_layer_names_of_a_keras_model_are_literals(tmp_path, monkeypatch):
    """Also: the check process ignores PYTHONPATH and PYTHONSTARTUP (python -I, clean env)."""
    import keras

    from cnnlab.modelio.export import export_model

    mark = tmp_path / "MARK"
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "sitecustomize.py").write_text(payload(mark) + "\n")
    monkeypatch.setenv("PYTHONPATH", str(evil))
    monkeypatch.setenv("PYTHONSTARTUP", str(evil / "sitecustomize.py"))
    evil = hostile(mark, "layer")
    inp = keras.Input((8, 8, 1), name="in" + evil)
    x = keras.layers.Flatten(name="f" + evil)(inp)
    out = keras.layers.Dense(2, name="d" + evil)(x)
    model = keras.Model(inp, out, name="n" + evil)
    result = export_model(model, "python", tmp_path / "s.py", class_names=[evil, "b"])
    text = result.path.read_text()
    assert_only_literals(text, mark)
    build = next(n for n in ast.parse(text).body
                 if isinstance(n, ast.FunctionDef) and n.name == "build_model")
    names = {ast.literal_eval(k.value) for n in ast.walk(build) if isinstance(n, ast.Call)
             for k in n.keywords if k.arg == "name"}
    assert names == {"in" + evil, "f" + evil, "d" + evil, "n" + evil}
    assert result.max_abs_diff <= 1e-5 and not mark.exists()
