"""Wrong and hostile .npz files: bad labels, NaN pixels, wrong kinds of file, zip bombs.

Every case goes through the real loader (``cnnlab.data.load_data``) on real
files in ``tmp_path``; two go through ``cnnlab train``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools
import io
import json
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hang_guard import no_hang_fixture

from cnnlab.cli import main
from cnnlab.data import load_data
from cnnlab.data import npz_file as npz_module
from cnnlab.data.raw import raw_from_arrays
from cnnlab.errors import DataError
from cnnlab.spec.sections import DataSpec

no_hang = no_hang_fixture(30)


# The real data section, as a spec holds it (no split: every file counts).
Data = functools.partial(DataSpec, source='npz', validation_split=0.0, test_split=0.0)


def arrays(n=12, classes=3, dtype=np.uint8):
    x = (np.arange(n * 64).reshape(n, 8, 8) % 200).astype(dtype)
    y = (np.arange(n) % classes).astype(np.int64)
    return {"x_train": x, "y_train": y, "x_test": x[:6].copy(), "y_test": y[:6].copy()}


def write(tmp_path, name="d.npz", **changes):
    path = tmp_path / name
    np.savez(path, **(arrays() | changes))
    return str(path)


def load(path):
    return load_data(Data(path=path), (8, 8, 1), seed=0)


def test_a_good_file_still_loads(tmp_path):
    splits = load(write(tmp_path, class_names=np.array(["a", "b", "c"])))
    assert splits.class_names == ["a", "b", "c"] and splits.sizes == {"train": 12, "val": 0,
                                                                      "test": 6}


def test_label_outside_the_named_classes(tmp_path):
    y = arrays()["y_train"].copy()
    y[[4, 9]] = 7
    path = write(tmp_path, y_train=y, class_names=np.array(["a", "b", "c"]))
    with pytest.raises(DataError) as caught:
        load(path)
    assert str(caught.value) == (
        "d.npz: y_train: 2 label(s) are outside the 3 classes 0..2 (first at index 4: 7)")


def test_label_7_among_unnamed_classes_0_to_2(tmp_path):
    y = arrays()["y_test"].copy()
    y[5] = 7
    with pytest.raises(DataError, match=r"d.npz: y_test: the labels go up to 7 \(first at index "
                       r"5\) but 4 class\(es\) below it have no sample at all \(3, 4, 5, 6\)"):
        load(write(tmp_path, y_test=y))


@pytest.mark.parametrize("bad, words", [
    (1.5, r"y_train: 1 label\(s\) are not whole numbers \(first at index 3: 1.5\)"),
    (np.nan, r"y_train: 1 label\(s\) are not whole numbers \(first at index 3: nan\)"),
    (np.inf, r"y_train: 1 label\(s\) are not whole numbers \(first at index 3: inf\)"),
    (2.0**40, r"y_train: 1 label\(s\) are too large for class indices \(first at index 3"),
])
def test_labels_that_are_not_class_indices(tmp_path, bad, words):
    y = arrays()["y_train"].astype(np.float64)
    y[3] = bad
    with pytest.raises(DataError, match=words):
        load(write(tmp_path, y_train=y))


def test_huge_integer_label_is_not_wrapped_by_int32(tmp_path):
    y = arrays()["y_train"].copy()
    y[2] = 2**32 + 1  # astype(int32) would make this 1
    with pytest.raises(DataError, match=r"too large for class indices \(first at index 2: 42949"):
        load(write(tmp_path, y_train=y))


def test_nan_pixels_are_refused_with_counts(tmp_path):
    x = arrays(dtype=np.float32)["x_train"] / 255
    x[5, 1, 1] = np.nan
    x[5, 2, 2] = np.inf
    x[8, 0, 0] = np.nan
    with pytest.raises(DataError) as caught:
        load(write(tmp_path, x_train=x, x_test=x[:6].copy()))
    assert str(caught.value) == ("d.npz: x_train: 3 pixel value(s) are NaN or infinite, in 2 "
                                 "image(s) (first: image 5); training on them gives NaN losses")


def test_keras_arrays_are_checked_the_same_way(tmp_path):
    a = arrays(classes=10)
    a["y_test"] = a["y_test"].copy()
    a["y_test"][1] = 10
    with pytest.raises(DataError, match=r"mnist.npz: y_test: 1 label\(s\) are outside the 10 "):
        raw_from_arrays(a, [str(i) for i in range(10)], where="~/.keras/datasets/mnist.npz")


def test_wrong_kinds_of_file(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(DataError, match=r"folder.npz is a folder, not an .npz file"):
        load(str(tmp_path / "folder.npz"))
    text = tmp_path / "notes.npz"
    text.write_text("hello, I am text")
    with pytest.raises(DataError) as caught:
        load(str(text))
    assert "is not an .npz file" in str(caught.value) and "pickle" not in str(caught.value)
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(DataError, match="is a single .npy array"):
        load(str(tmp_path / "single.npy"))
    os.mkfifo(tmp_path / "pipe.npz")
    with pytest.raises(DataError, match=r"pipe.npz is not a regular file but a FIFO"):
        load(str(tmp_path / "pipe.npz"))
    os.symlink("/dev/zero", tmp_path / "zero.npz")
    with pytest.raises(DataError, match=r"zero.npz is not a regular file but a character device"):
        load(str(tmp_path / "zero.npz"))
    os.symlink(tmp_path / "gone.npz", tmp_path / "dangling.npz")
    with pytest.raises(DataError, match=r"dangling.npz: a broken link"):
        load(str(tmp_path / "dangling.npz"))
    with pytest.raises(DataError, match="npz file not found"):
        load(str(tmp_path / "missing.npz"))


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, **(arrays() | {"y_train": np.array([object()] * 12, dtype=object)}))
    with pytest.raises(DataError, match=r"y_train.npy holds Python objects \(pickled data\)"):
        load(str(path))


def npy_header(shape, dtype="|u1") -> bytes:
    buf = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def bomb_npz(path, members):
    """An npz whose ``x_train.npy`` member is written by ``members(zip)``; the rest is fine."""
    good = arrays()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        members(archive)
        for key in ("y_train", "x_test", "y_test"):
            buf = io.BytesIO()
            np.save(buf, good[key])
            archive.writestr(f"{key}.npy", buf.getvalue())
    return str(path)


def refused_fast(path, words):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=words):
            load(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert peak < 20e6, f"allocated {peak / 1e6:.0f} MB"


def test_a_header_claiming_3_gb_is_refused_before_reading(tmp_path):
    def members(archive):
        archive.writestr("x_train.npy", npy_header((3_000_000_000,)) + bytes(4096))

    path = bomb_npz(tmp_path / "liar.npz", members)
    refused_fast(path, r"x_train.npy \(3000000000 uint8\) declares 3.0 GB of data but the "
                       r"archive holds only 4.2 kB")


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path):
    """200 MB of zeros compress to ~200 kB; refused by the ratio, without inflating it."""

    def members(archive):
        n = 200 * 2**20
        with archive.open("x_train.npy", "w", force_zip64=True) as out:
            out.write(npy_header((n // 64, 8, 8)))
            zeros = bytes(2**22)
            for _ in range(n // len(zeros)):
                out.write(zeros)

    path = bomb_npz(tmp_path / "bomb.npz", members)
    assert os.path.getsize(path) < 1e6
    refused_fast(path, r"inflates .* kB to 209.7 MB \(ratio \d+:1, the limit is 200:1\); "
                       r"refused as a zip bomb")


def test_declared_total_above_the_cap(tmp_path, monkeypatch):
    path = write(tmp_path)
    monkeypatch.setattr(npz_module, "MAX_NPZ_BYTES", 500)
    with pytest.raises(DataError, match=r"d.npz declares 1.3 kB of arrays, more than the limit"):
        load(path)


def cli_train(tmp_path, capsys, npz):
    spec = tmp_path / "exp.json"
    assert main(["new", str(spec), "--input", "8,8,1", "--classes", "3"]) == 0
    exp = json.loads(spec.read_text())
    exp["data"].update(source="npz", path=npz, validation_split=0.0)
    spec.write_text(json.dumps(exp))
    capsys.readouterr()
    code = main(["train", str(spec), "--workspace", str(tmp_path / "ws")])
    return code, capsys.readouterr().err.strip()


def test_cli_train_refuses_nan_pixels_in_one_line(tmp_path, capsys):
    x = arrays(dtype=np.float32)["x_train"] / 255
    x[2, 3, 3] = np.nan
    code, err = cli_train(tmp_path, capsys, write(tmp_path, x_train=x, x_test=x[:6].copy()))
    assert code == 2 and len(err.splitlines()) == 1
    assert err == ("cnnlab: error: d.npz: x_train: 1 pixel value(s) are NaN or infinite, in 1 "
                   "image(s) (first: image 2); training on them gives NaN losses")


def test_cli_train_refuses_a_zip_bomb_in_one_line(tmp_path, capsys):
    def members(archive):
        archive.writestr("x_train.npy", npy_header((3_000_000_000,)) + bytes(4096))

    code, err = cli_train(tmp_path, capsys, bomb_npz(tmp_path / "liar.npz", members))
    assert code == 2 and len(err.splitlines()) == 1 and "declares 3.0 GB" in err
