"""Dataset health (`cnnlab data check`): real generated folders, npz files and shapes.

Duplicates, near duplicates, conflicting labels, leaks across splits and bad
files are planted in real files; the check goes through ``cnnlab.cli.main``
where the user's path is the command, and through ``check_data`` where a test
needs what the JSON does not carry (mean images, revisions).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import run_cli
from hang_guard import no_hang_fixture
from health_support import BAD, CLASSES, PLANTED, health_experiment, health_folder

from cnnlab.data.arrays import SPLITS
from cnnlab.data.health import check_data
from cnnlab.data.health_duplicates import phash_batch, small_thumbnails
from cnnlab.data.health_near import near_groups
from cnnlab.data.health_splits import array_assignment
from cnnlab.data.health_text import MAX_BAD, health_text
from cnnlab.data.shapes import generate_shapes
from cnnlab.spec import DataSpec, ShapesSpec

no_hang = no_hang_fixture(120)  # a FIFO opened or a device read fails the test, not the run


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return health_folder(tmp_path_factory.mktemp("health") / "data")


def _group_of(report_json, files):
    return next(g for g in report_json["duplicates"] if set(files) <= set(g["files"]))


def test_folder_check_json_names_every_planted_problem(folder, tmp_path, capsys):
    spec = health_experiment(tmp_path / "exp.json", source="folder", path=str(folder))
    code, out, err = run_cli(capsys, "data", "check", spec, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) >= {"classes", "splits", "duplicates", "bad_files"}
    assert set(report["classes"]) == set(CLASSES)
    assert sum(report["classes"].values()) == 42 + 4  # the planted copies count as images
    assert set(report["splits"]) == set(SPLITS)
    assert sum(report["splits"].values()) == 46
    for group in report["duplicates"]:
        assert set(group) >= {"files", "kind", "classes", "splits"}
        assert group["kind"] in ("exact", "near")
    exact = _group_of(report, PLANTED["exact"])
    assert (exact["kind"], exact["classes"]) == ("exact", ["square"])
    conflict = _group_of(report, PLANTED["conflict"])
    assert (conflict["kind"], conflict["classes"]) == ("exact", ["circle", "triangle"])
    for planted in ("resized", "noised"):
        group = _group_of(report, PLANTED[planted])
        assert group["kind"] == "near" and len(group["files"]) == 2
    assert len(report["duplicates"]) == 4  # distinct shapes are not near duplicates
    bad = {b["file"]: b["reason"] for b in report["bad_files"]}
    assert set(bad) == set(BAD)
    assert bad["circle/empty.png"] == "empty file"
    assert "corrupt" in bad["circle/broken.png"] and "not an image" in bad["circle/notes.txt"]


def test_folder_check_text_sections_counts_first(folder, tmp_path, capsys):
    spec = health_experiment(tmp_path / "exp.json", source="folder", path=str(folder))
    code, out, _ = run_cli(capsys, "data", "check", spec)
    assert code == 0
    assert out.splitlines()[1].startswith("Classes (3): circle")
    assert "Exact duplicates: 2 group(s), 4 files (1 with conflicting labels" in out
    assert "[conflicting labels circle/triangle; leak train/val] circle/img001.png, " \
        "triangle/conflict001.png" in out  # the seed puts the two copies in two splits
    assert "Near duplicates: 2 group(s)" in out
    assert "Bad files: 3\n  circle/broken.png: corrupt image" in out


def test_npz_leak_conflict_and_split_sizes(tmp_path, capsys):
    x, y = generate_shapes(list(CLASSES), 60, 12, 1, 0.05, 1)
    x_train, y_train, x_test, y_test = x[:48], y[:48].copy(), x[48:].copy(), y[48:]
    x_test[0] = x_train[5]  # the same image in the training pool and the test set: a leak
    x_train[7] = x_train[8]
    y_train[7] = (y_train[8] + 1) % 3  # the same image under two labels
    npz = tmp_path / "d.npz"
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             class_names=np.array(CLASSES))
    spec = health_experiment(tmp_path / "exp.json", source="npz", path=str(npz),
                             validation_split=0.25)
    code, out, err = run_cli(capsys, "data", "check", spec, "--json", "--near", "-1")
    assert code == 0, err
    report = json.loads(out)
    leak = _group_of(report, ["train[5]", "test[0]"])
    assert "test" in leak["splits"] and len(leak["splits"]) == 2
    conflict = _group_of(report, ["train[7]", "train[8]"])
    assert len(conflict["classes"]) == 2
    assert report["splits"] == {"train": 36, "val": 12, "test": 12}
    assert report["channels"] == {"1": 60} and report["sizes"] == {"12x12": 60}


def test_split_assignment_is_the_loaders(tmp_path):
    """The samples the check calls train/val/test are the ones load_data puts there."""
    from cnnlab.data import load_data

    shapes = ShapesSpec(classes=list(CLASSES), samples=90, image_size=8)
    for data in (DataSpec(shapes=shapes), DataSpec(shapes=shapes, max_samples=30)):
        x, y = generate_shapes(shapes.classes, 90, 8, 3, shapes.noise, shapes.seed)
        splits = load_data(data, (None, None, 3), seed=5)
        where = array_assignment(y, None, data, seed=5)
        for split in SPLITS:
            mine = np.sort((x[where == split] / 255.0).reshape(-1))
            theirs = np.sort(getattr(splits, f"x_{split}").reshape(-1))
            np.testing.assert_allclose(mine, theirs, atol=1e-6)
            assert np.sum(where == split) == len(splits.labels(split))


def test_shapes_means_sizes_and_imbalance():
    shapes = ShapesSpec(classes=["circle", "square"], samples=40, image_size=8, channels=1)
    report = check_data(DataSpec(shapes=shapes), 0)
    assert report.classes == {"circle": 20, "square": 20} and report.imbalance is None
    assert report.sizes == {(8, 8): 40} and report.channels == {1: 40}
    assert report.mean_images["circle"].shape == (32, 32, 1)
    assert not np.allclose(report.mean_images["circle"], report.mean_images["square"], atol=2)
    report.classes = {"a": 30, "b": 10}
    assert "imbalanced: a has 30 images, 3.0x the 10 of b" in report.imbalance


def test_revisions_exclude_and_relabel_resolve_groups(folder):
    """data.exclude drops a copy from the groups; data.relabel ends a label conflict."""
    data = DataSpec(source="folder", path=str(folder), exclude=[PLANTED["exact"][1], "x.png"],
                    relabel={PLANTED["conflict"][1]: "circle"})
    report = check_data(data, 0)
    assert report.unknown_revisions == ["x.png"]
    assert (report.excluded, report.relabelled) == (1, 1)
    files = [set(g.files) for g in report.duplicates]
    assert set(PLANTED["exact"]) not in files
    conflict = next(g for g in report.duplicates if set(PLANTED["conflict"]) == set(g.files))
    assert conflict.classes == ["circle"] and not conflict.conflicting
    assert sum(report.classes.values()) == 45


def test_phash_batch_equals_imagehash():
    import imagehash
    from PIL import Image

    x, _ = generate_shapes(list(CLASSES), 12, 20, 3, 0.05, 3)
    images = [Image.fromarray(a) for a in x]
    thumbs = np.stack([np.asarray(i.convert("L").resize((32, 32), Image.LANCZOS))
                       for i in images])
    ours = phash_batch(thumbs)
    theirs = [int(str(imagehash.phash(i)), 16) for i in images]
    assert ours.tolist() == theirs


def test_near_groups_find_what_all_pairs_find():
    """Multi-index buckets find every pair that comparing all pairs finds."""
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 300, dtype=np.uint64)
    hashes[100:200] &= np.uint64(2**51 - 1)  # 100 hashes share their top 13 bits: one big bucket
    for k in range(40):  # 40 planted pairs, 1 to 4 bits apart, 20 of them in the big bucket
        bits = rng.choice(50, size=1 + k % 4, replace=False)
        source = k if k < 20 else 100 + k
        hashes[200 + k] = hashes[source] ^ np.uint64(sum(1 << int(b) for b in bits))
    thumbs = np.zeros((300, 16, 16), np.uint8)
    groups = near_groups(hashes, thumbs, threshold=4)
    distance = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    pairs = {(i, j) for i, j in zip(*np.nonzero(distance <= 4), strict=True) if i < j}
    assert {(k if k < 20 else 100 + k, 200 + k) for k in range(40)} <= pairs
    found = {(g[a], g[b]) for g in groups for a in range(len(g)) for b in range(a + 1, len(g))}
    assert pairs <= found
    different = small_thumbnails(rng.integers(0, 256, (300, 32, 32), dtype=np.uint8))
    assert near_groups(hashes, different, threshold=4) == []  # pictures differ: not near


def test_text_caps_long_lists():
    shapes = ShapesSpec(classes=["circle", "square"], samples=20, image_size=8)
    report = check_data(DataSpec(shapes=shapes), 0)
    report.bad_files = [(f"c/{i}.png", "empty file") for i in range(MAX_BAD + 7)]
    text = health_text(report)
    assert "Bad files: 27" in text and "... and 7 more (--json lists all)" in text


@pytest.mark.parametrize("case", ["missing folder", "no spec", "keras not cached", "near"])
def test_bad_input_is_one_line_exit_2(case, tmp_path, capsys, monkeypatch):
    args = {"missing folder": dict(source="folder", path=str(tmp_path / "nowhere")),
            "keras not cached": dict(source="keras", keras_name="mnist")}.get(case, {})
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    spec = health_experiment(tmp_path / "exp.json", **args)
    argv = {"no spec": ["data", "check", tmp_path / "none.json"],
            "near": ["data", "check", spec, "--near", "40"]}.get(case, ["data", "check", spec])
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("cnnlab: error: ") and err.count("\n") == 1, err
    words = {"missing folder": "not found", "no spec": "none.json",
             "keras not cached": "mnist.npz", "near": "--near"}[case]
    assert words in err


@pytest.mark.slow  # TensorFlow decodes the folder; test_split_assignment_is_the_loaders covers
def test_folder_splits_and_bad_files_are_the_loaders(folder):  # the split without it
    from cnnlab.data import load_data

    data = DataSpec(source="folder", path=str(folder), max_samples=25)
    report = check_data(data, 7)
    splits = load_data(data, (16, 16, 3), 7)
    assert report.splits == splits.sizes
    skipped = {Path(p).relative_to(folder).as_posix() for p, _ in splits.skipped_files}
    assert {f for f, _ in report.bad_files} == skipped
    where = {i: s for s in SPLITS for i in splits.ids(s)}
    for group in report.duplicates:
        assert group.splits == sorted({where[f] for f in group.files if f in where},
                                      key=SPLITS.index)


def test_fifo_and_device_link_are_named_never_read(tmp_path):
    """A FIFO would block a reader and /dev/zero never ends: both are bad files, unopened."""
    import os

    root = health_folder(tmp_path / "data", samples=12)
    os.mkfifo(root / "circle" / "pipe.png")
    os.symlink("/dev/zero", root / "square" / "zero.png")
    report = check_data(DataSpec(source="folder", path=str(root)), 0, near_threshold=-1)
    bad = dict(report.bad_files)
    assert "FIFO" in bad["circle/pipe.png"] and "character device" in bad["square/zero.png"]


def test_stop_ends_the_check_and_progress_counts_up():
    from cnnlab.data import HealthCheckStopped

    shapes = ShapesSpec(classes=["circle", "square"], samples=40, image_size=8)
    seen = []
    check_data(DataSpec(shapes=shapes), 0, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 40) and seen[-1] == (40, 40)
    with pytest.raises(HealthCheckStopped):
        check_data(DataSpec(shapes=shapes), 0, stop=lambda: True)


def test_out_dir_writes_mean_images_and_refuses_to_replace(tmp_path, capsys):
    from PIL import Image

    spec = health_experiment(tmp_path / "exp.json", shapes=ShapesSpec(
        classes=list(CLASSES), samples=30, image_size=8))
    out = tmp_path / "means"
    code, text, err = run_cli(capsys, "data", "check", spec, "--json", "--out-dir", out)
    assert code == 0, err
    means = json.loads(text)["mean_images"]
    assert list(means) == list(CLASSES)
    with Image.open(means["square"]) as image:
        assert image.size == (32, 32)
    before = (out / "mean-000.png").read_bytes()
    code, text, err = run_cli(capsys, "data", "check", spec, "--out-dir", out)
    assert (code, text) == (2, "") and "--force" in err and err.count("\n") == 1
    assert (out / "mean-000.png").read_bytes() == before
    assert run_cli(capsys, "data", "check", spec, "--out-dir", out, "--force")[0] == 0
