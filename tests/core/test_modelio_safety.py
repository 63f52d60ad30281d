"""Hostile model files are refused with a ModelFileError and touch nothing outside tmp_path."""

import contextlib
import json
import sys
import zipfile
from pathlib import Path

import pytest
from graphs import chain

from cnnlab.errors import ModelFileError
from cnnlab.modelio.importer import import_model_file
from cnnlab.modelio.safety import check_config, inspect_model_file

_WATCH: dict = {"on": False, "events": []}


def _audit(event, args):
    if _WATCH["on"] and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
        _WATCH["events"].append((str(args[0]), str(args[1]) if len(args) > 1 else "r"))


sys.addaudithook(_audit)


@contextlib.contextmanager
def watching():
    """Collect the paths Python opens inside the block."""
    _WATCH["events"] = []
    _WATCH["on"] = True
    try:
        yield _WATCH["events"]
    finally:
        _WATCH["on"] = False


def _outside(events, tmp_path):
    allowed = (str(tmp_path), sys.prefix, sys.base_prefix, "/proc", "/dev", "/sys")
    return [(p, m) for p, m in events
            if not p.startswith(allowed) or (any(c in m for c in "wax+")
                                             and not p.startswith(str(tmp_path)))]


@pytest.fixture(scope="module")
def lab_file(tmp_path_factory):
    """A small valid .keras file of a lab-built model."""
    from cnnlab.build import build_model

    path = tmp_path_factory.mktemp("valid") / "model.keras"
    build_model(chain((8, 8, 3), ("Conv2D", {"filters": 2}), ("Flatten", {}),
                      ("Output", {"units": 2}))).save(path)
    return path


def _rewrite_keras(src: Path, dst: Path, edit) -> Path:
    """Copy a .keras archive, passing its config through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "config.json":
                data = json.dumps(edit(json.loads(data))).encode()
            zout.writestr(info.filename, data)
    return dst


def _lambda_model():
    import keras

    inp = keras.Input((4,))
    return keras.Model(inp, keras.layers.Lambda(lambda x: x * 2, name="double")(inp))


def test_keras_file_with_lambda_is_refused(tmp_path):
    path = tmp_path / "lambda.keras"
    _lambda_model().save(path)
    with pytest.raises(ModelFileError, match="Lambda layer 'double'.*arbitrary Python"):
        import_model_file(path)


def test_h5_file_with_lambda_is_refused(tmp_path):
    path = tmp_path / "lambda.h5"
    _lambda_model().save(path)
    with pytest.raises(ModelFileError, match="Lambda"):
        import_model_file(path)


def test_arbitrary_module_is_refused_before_anything_runs(tmp_path, lab_file):
    marker = tmp_path / "pwned"

    def evil(cfg):
        layer = cfg["config"]["layers"][1]
        layer["config"]["activation"] = {"module": "os", "class_name": "system",
                                         "config": f"touch {marker}", "registered_name": None}
        return cfg

    path = _rewrite_keras(lab_file, tmp_path / "evil.keras", evil)
    with watching() as opened, pytest.raises(ModelFileError,
                                             match="'system' comes from module 'os'"):
        import_model_file(path)
    assert not marker.exists()
    assert opened and _outside(opened, tmp_path) == []


def test_h5_config_naming_a_foreign_module_is_refused(tmp_path):
    import h5py

    path = tmp_path / "evil.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": {
            "layers": [{"module": "builtins", "class_name": "eval", "config": {}}]}})
    with pytest.raises(ModelFileError, match="module 'builtins'"):
        import_model_file(path)


def test_unknown_custom_object_is_refused(tmp_path, lab_file):
    def custom(cfg):
        cfg["config"]["layers"][1]["registered_name"] = "evil>Backdoor"
        return cfg

    path = _rewrite_keras(lab_file, tmp_path / "custom.keras", custom)
    with pytest.raises(ModelFileError, match="unknown custom object 'evil>Backdoor'"):
        import_model_file(path)


def test_h5_external_link_is_refused(tmp_path):
    import h5py

    from cnnlab.build import build_model

    secret = tmp_path / "elsewhere.h5"
    with h5py.File(secret, "w") as f:
        f["data"] = [1.0, 2.0]
    path = tmp_path / "linked.h5"
    build_model(chain((4,), ("Dense", {"units": 2}))).save(path)
    with h5py.File(path, "a") as f:
        f["model_weights/stolen"] = h5py.ExternalLink(str(secret), "/data")
    with pytest.raises(ModelFileError, match="external link"):
        import_model_file(path)


def test_h5_external_dataset_is_refused(tmp_path):
    import h5py

    from cnnlab.build import build_model

    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(64))
    path = tmp_path / "external.h5"
    build_model(chain((4,), ("Dense", {"units": 2}))).save(path)
    with h5py.File(path, "a") as f:
        f.create_dataset("model_weights/ext", shape=(4,), dtype="f4",
                         external=[(str(raw), 0, 16)])
    with pytest.raises(ModelFileError, match="reads its data from another file"):
        import_model_file(path)


@pytest.mark.parametrize("member", ["../escaped.txt", "ABSOLUTE"])
def test_zip_path_traversal_is_refused(tmp_path, lab_file, member):
    inner = tmp_path / "inner"
    inner.mkdir()
    target = tmp_path / "escaped.txt" if member != "ABSOLUTE" else tmp_path / "absolute.txt"
    name = member if member != "ABSOLUTE" else str(target)
    path = inner / "traversal.keras"
    with zipfile.ZipFile(lab_file) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr(name, b"written outside")
    with watching() as opened, pytest.raises(ModelFileError, match="path traversal"):
        import_model_file(path)
    assert not target.exists()
    assert opened and _outside(opened, tmp_path) == []


def test_unexpected_and_duplicate_members_are_refused(tmp_path, lab_file):
    path = tmp_path / "extra.keras"
    with zipfile.ZipFile(lab_file) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr("assets/vocab.txt", b"x")
    with pytest.raises(ModelFileError, match="unexpected archive member 'assets/vocab.txt'"):
        inspect_model_file(path)
    dup = tmp_path / "dup.keras"
    with zipfile.ZipFile(dup, "w") as zout:
        zout.writestr("config.json", b"{}")
        with pytest.warns(UserWarning):
            zout.writestr("config.json", b"{}")
    with pytest.raises(ModelFileError, match="appears twice"):
        inspect_model_file(dup)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_truncated_file_gives_a_clear_error(tmp_path, suffix):
    from cnnlab.build import build_model

    good = tmp_path / f"good{suffix}"
    build_model(chain((6, 6, 3), ("Conv2D", {"filters": 4}), ("Flatten", {}),
                      ("Output", {"units": 3}))).save(good)
    data = good.read_bytes()
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        import_model_file(bad)


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"hello world", "not a Keras"),
                                            (b"PK\x03\x04garbage", "damaged or truncated")])
def test_junk_files_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "junk.keras"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=match):
        import_model_file(path)


def test_missing_file_folder_and_wrong_extension(tmp_path, lab_file):
    with pytest.raises(ModelFileError, match="no such file"):
        import_model_file(tmp_path / "nope.keras")
    with pytest.raises(ModelFileError, match="SavedModel folders cannot be imported"):
        import_model_file(tmp_path)
    renamed = tmp_path / "model.zip"
    renamed.write_bytes(lab_file.read_bytes())
    with pytest.raises(ModelFileError, match="must end in .keras"):
        import_model_file(renamed)


def test_deeply_nested_config_does_not_crash():
    deep: dict = {"class_name": "Lambda"}
    for _ in range(100_000):
        deep = {"x": [deep]}
    with pytest.raises(ModelFileError, match="Lambda"):
        check_config(deep)


def test_the_labs_own_objects_are_allowed():
    config = {"class_name": "Conv2D", "config": {"activity_regularizer": {
        "module": "cnnlab.layers", "class_name": "KLSparsity", "config": {},
        "registered_name": "cnnlab>KLSparsity"}}}
    assert check_config(config) == ("cnnlab>KLSparsity",)


# -- generated code: user strings only as literals ------------------------------------------

HOSTILE_STRINGS = ['x"""\nimport os\n"""', "y'''\nimport os\n'''", "z'\nimport os\n#",
                   "{__import__('os')}\\", "\\", "é\u2028\x00"]


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_literals_hold_any_string_and_read_back_equal(value):
    import ast

    from cnnlab.modelio.pyrecipe import literal

    text = literal({"name": value, "list": [value, 1.5, None, True], value: (1, 2)})
    assert text.isascii()
    (stmt,) = ast.parse(f"X = {text}").body
    assert isinstance(stmt, ast.Assign)
    assert ast.literal_eval(stmt.value) == {"name": value, "list": [value, 1.5, None, True],
                                            value: (1, 2)}


@pytest.mark.parametrize("value", [float("nan"), object(), {"f": print}])
def test_non_data_is_not_written_as_a_literal(value):
    from cnnlab.modelio.pyrecipe import literal

    with pytest.raises(ModelFileError, match="plain literal"):
        literal(value)


@pytest.mark.parametrize("line", ["import os", "os.system('x')", "x = open('MARK')",
                                  "x = keras.layers.Dense(1)(__import__('os'))"])
def test_build_code_with_anything_but_layer_calls_is_refused(line):
    from cnnlab.modelio.pyscript import check_build_code

    good = ("def build_model():\n    \"\"\"Doc.\"\"\"\n"
            "    x = keras.Input(shape=(4,), name='x')\n"
            "    y = keras.layers.Dense(2, name='y')(x)\n")
    check_build_code(good + "    return keras.Model(x, y)\n")
    with pytest.raises(ModelFileError, match="build_model"):
        check_build_code(good + f"    {line}\n    return keras.Model(x, y)\n")
