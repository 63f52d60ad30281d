"""Hostile image folders: FIFOs, device links, link loops, duplicates, oversize and bomb files.

Each test builds real files in ``tmp_path`` and goes through the real
preflight and loader; an alarm fails any test that would hang (a FIFO that
is opened blocks forever).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools
import json
import struct
import zlib

import pytest
from hang_guard import no_hang_fixture

from cnnlab.cli import main
from cnnlab.data import (
    BadFilesError,
    load_data,
    preflight_folder,
    skipped_lines,
    write_skipped_listing,
)
from cnnlab.data.safe_read import MAX_IMAGE_BYTES
from cnnlab.errors import DataError
from cnnlab.spec.sections import DataSpec

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and links")


no_hang = no_hang_fixture(30)


# The real data section, as a spec holds it (no split: every file counts).
Data = functools.partial(DataSpec, source='folder', validation_split=0.0, test_split=0.0)


def png_bytes(value: int, size: int = 8) -> bytes:
    """A real grayscale PNG (written by hand: no TensorFlow needed to make test data)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    rows = b"".join(b"\x00" + bytes([value % 256]) * size for _ in range(size))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def make_class(root, name, n, value):
    folder = root / name
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"{name}{i}.png").write_bytes(png_bytes(value + i))
    return folder


def reasons(report_or_splits):
    pairs = getattr(report_or_splits, "bad_files", None)
    if pairs is None:
        pairs = report_or_splits.skipped_files
    return {os.path.basename(p): why for p, why in pairs}


@pytest.fixture
def hostile(tmp_path):
    """cats: 3 good PNGs + a FIFO x.png + a link to /dev/zero; dogs: 3 good PNGs."""
    root = tmp_path / "pets"
    cats = make_class(root, "cats", 3, 40)
    make_class(root, "dogs", 3, 200)
    os.mkfifo(cats / "x.png")
    os.symlink("/dev/zero", cats / "zero.png")
    return root


def test_fifo_and_device_link_are_named_and_never_opened(hostile):
    report = preflight_folder(hostile)
    why = reasons(report)
    assert why["x.png"] == "not a regular file: a FIFO (named pipe)"
    assert why["zero.png"] == "not a regular file: a character device"
    assert report.counts == {"cats": 3, "dogs": 3}
    splits = load_data(Data(path=str(hostile)), (8, 8, 1), seed=0)
    assert splits.sizes["train"] == 6
    assert reasons(splits) == why and splits.folder == str(hostile)


def test_link_loops_and_duplicates_do_not_multiply_samples(tmp_path):
    root = tmp_path / "data"
    a = make_class(root, "a", 3, 10)
    b = make_class(root, "b", 2, 100)
    os.symlink("..", a / "up")  # a link to the dataset folder: would take b's images
    os.symlink(".", a / "again")  # a link to its own folder: a loop
    (a / "nested").mkdir()
    os.symlink("../..", a / "nested" / "back")
    os.symlink("loop2.png", a / "loop1.png")
    os.symlink("loop1.png", a / "loop2.png")
    os.symlink("a0.png", a / "same.png")
    os.link(a / "a1.png", a / "hard.png")
    os.symlink(b, root / "c")  # a class folder that is the same folder as b
    os.symlink(tmp_path / "nowhere.png", b / "broken.png")
    report = preflight_folder(root)
    assert report.counts == {"a": 3, "b": 2, "c": 0}
    assert len(report.images) == 5
    why = reasons(report)
    for name in ("up", "again", "back", "c"):
        assert "a loop or a duplicate" in why[name], name
    assert why["loop1.png"].startswith("a link that loops")
    assert why["same.png"].startswith("the same file as") and "a0.png" in why["same.png"]
    assert why["hard.png"].startswith("the same file as") and "a1.png" in why["hard.png"]
    assert why["broken.png"].startswith("a broken link")
    assert report.left_out_classes() == [("c", "no usable image (1 bad file(s))")]


def test_oversize_pixel_bomb_truncated_and_text_files(tmp_path):
    root = tmp_path / "data"
    a = make_class(root, "a", 2, 10)
    make_class(root, "b", 2, 100)
    with open(a / "huge.png", "wb") as f:  # sparse: no disk used, never read
        f.truncate(MAX_IMAGE_BYTES + 1)
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    bomb = png_bytes(0)[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0" * 4
    (a / "bomb.png").write_bytes(bomb)
    (a / "cut.png").write_bytes(png_bytes(5)[:40])
    (a / "words.png").write_text("this is text, not a picture")
    (a / "noise.png").write_bytes(bytes(range(256)) * 4)
    why = reasons(preflight_folder(root))
    assert why["huge.png"] == "too large: 67,108,865 bytes (the limit is 64 MiB)"
    assert why["bomb.png"].startswith("too many pixels: the header declares 60000x60000")
    assert why["cut.png"].startswith("corrupt image")
    assert why["words.png"] == "not an image: it is text, not JPEG, PNG, GIF, BMP or WebP"
    assert why["noise.png"] == "not an image: unknown content, not JPEG, PNG, GIF, BMP or WebP"


def many_bad(tmp_path, n_bad=25):
    root = tmp_path / "data"
    a = make_class(root, "a", 2, 10)
    make_class(root, "b", 2, 100)
    make_class(root, "empty", 0, 0)
    for i in range(n_bad):
        (a / f"bad{i:02d}.png").write_text("not an image")
    return root


def test_stop_names_twenty_files_and_lists_all(tmp_path):
    root = many_bad(tmp_path)
    with pytest.raises(BadFilesError) as caught:
        load_data(Data(path=str(root), bad_files="stop"), (8, 8, 1), seed=0)
    message = str(caught.value)
    assert "\n" not in message and "25 bad file(s)" in message
    assert all(f"a/bad{i:02d}.png" in message for i in range(20))
    assert "bad20.png" not in message and "and 5 more, all listed in" in message
    assert "empty (no image files)" in message
    listing = caught.value.listing
    assert str(listing) in message
    lines = listing.read_text().splitlines()
    listing.unlink()
    assert sum("bad" in line for line in lines[1:]) == 25 and "class empty: left out" in lines[-1]


def test_skip_lines_name_twenty_and_point_to_the_listing(tmp_path):
    root = many_bad(tmp_path)
    splits = load_data(Data(path=str(root)), (8, 8, 1), seed=0)
    assert splits.class_names == ["a", "b"] and splits.sizes["train"] == 4
    assert splits.left_out_classes == [("empty", "no image files")]
    listing = write_skipped_listing(splits, tmp_path / "run" / "skipped_files.txt")
    lines = skipped_lines(splits, listing=listing)
    assert lines[0] == f"skipped 25 file(s) of {root}:"
    assert lines[1] == "  a/bad00.png: not an image: it is text, not JPEG, PNG, GIF, BMP or WebP"
    assert lines[21] == f"  ... 5 more, all listed in {listing}"
    assert lines[22:] == ["left out 1 class(es):", "  empty: no image files"]
    assert len(listing.read_text().splitlines()) == 1 + 25 + 1
    few = load_data(Data(path=str(many_bad(tmp_path / "few", 2))), (8, 8, 1), seed=0)
    assert len(skipped_lines(few)) == 1 + 2 + 2 and not any("more" in x for x in skipped_lines(few))


def test_clean_folder_has_nothing_to_report(tmp_path):
    root = tmp_path / "data"
    make_class(root, "a", 2, 10)
    make_class(root, "b", 2, 100)
    splits = load_data(Data(path=str(root)), (8, 8, 1), seed=0)
    assert skipped_lines(splits) == []
    assert write_skipped_listing(splits, tmp_path / "x.txt") is None
    assert not (tmp_path / "x.txt").exists()


def test_cli_train_stops_on_a_fifo_in_one_line(hostile, tmp_path, capsys):
    spec = tmp_path / "exp.json"
    assert main(["new", str(spec), "--input", "8,8,1", "--classes", "2"]) == 0
    exp = json.loads(spec.read_text())
    exp["data"].update(source="folder", path=str(hostile), bad_files="stop",
                       validation_split=0.0, test_split=0.0)
    spec.write_text(json.dumps(exp))
    capsys.readouterr()
    code = main(["train", str(spec), "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("cnnlab: error: ")
    assert "cats/x.png (not a regular file: a FIFO (named pipe))" in err
    assert "cats/zero.png (not a regular file: a character device)" in err
    assert "Traceback" not in err


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_not_read(tmp_path):
    root = tmp_path / "data"
    a = make_class(root, "a", 2, 10)
    make_class(root, "b", 2, 100)
    splits = load_data(Data(path=str(root)), (8, 8, 1), seed=0)
    (a / "a0.png").unlink()
    os.mkfifo(a / "a0.png")
    with pytest.raises(DataError, match=r"a0.png changed since the folder check: not a regular "
                       r"file: a FIFO \(named pipe\)"):
        splits.dataset("train", batch_size=2)


def test_dataset_path_that_is_not_a_folder(tmp_path):
    (tmp_path / "d.npz").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"d.npz is a file, not a folder with one sub-folder per "
                       r"class \(for an .npz file use the source 'npz'\)"):
        preflight_folder(tmp_path / "d.npz")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(DataError, match=r"pipe is a FIFO \(named pipe\), not a folder"):
        load_data(Data(path=str(tmp_path / "pipe")), (8, 8, 1), seed=0)
    with pytest.raises(DataError, match="image folder not found"):
        preflight_folder(tmp_path / "missing")
