"""Dataset revisions (issue 16): sample ids, data.exclude and data.relabel, and the issue's
mislabel hunt: a folder with 5 mislabelled images among 200, found by loss and excluded."""

import json

import numpy as np
import pytest
from core.test_trainer_support import tiny_spec
from PIL import Image

from cnnlab.data import generate_shapes, load_data
from cnnlab.errors import DataError, SpecError
from cnnlab.spec import DataSpec
from cnnlab.spec.schema import section_from_dict

CLASSES = ("circle", "cross")  # the mislabel hunt: two shapes a tiny net tells apart at 16 px
SHAPES = {"classes": ["circle", "square", "cross"], "samples": 60, "image_size": 8}


def data_spec(**fields):
    """A real ``data`` section (through the spec's own checks)."""
    fields.setdefault("shapes", SHAPES)
    return section_from_dict(DataSpec, fields, "data")


def shapes_folder(root, classes, n, size, wrong=0, seed=0):
    """``n`` shapes saved as PNG, one sub-folder per class; ``wrong`` of them in a wrong folder.

    Returns the ids (paths under ``root``) of the mislabelled files.
    """
    x, y = generate_shapes(classes, n, size, 3, 0.05, seed)
    mislabelled = []
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        folder = classes[(label + 1) % len(classes)] if i < wrong else classes[label]
        path = root / folder / f"{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        if i < wrong:
            mislabelled.append(f"{folder}/{i:03d}.png")
    return mislabelled


def test_array_ids_and_revision_keep_every_other_sample_in_its_split():
    before = load_data(data_spec(), (8, 8, 3), seed=3)
    train = before.ids("train")
    assert len(set(train + before.ids("val") + before.ids("test"))) == 60
    gone = [train[0], before.ids("val")[1]]
    target = {train[2]: before.class_names[(before.y_train[2] + 1) % 3]}
    after = load_data(data_spec(exclude=gone, relabel=target), (8, 8, 3), seed=3)
    assert after.sizes == {"train": before.sizes["train"] - 1, "val": before.sizes["val"] - 1,
                           "test": before.sizes["test"]}
    assert after.ids("train") == train[1:]
    assert after.ids("test") == before.ids("test")
    np.testing.assert_array_equal(after.x_train, before.x_train[1:])
    assert after.y_train[1] == (before.y_train[2] + 1) % 3
    np.testing.assert_array_equal(np.delete(after.y_train, 1), np.delete(before.y_train[1:], 1))
    assert "excluded 2 samples, relabelled 1 (data.exclude, data.relabel)" in after.notes


def test_npz_test_ids_index_the_own_test_set(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=rng.integers(0, 255, (30, 8, 8, 1), dtype=np.uint8),
             y_train=np.arange(30) % 2, x_test=rng.integers(0, 255, (10, 8, 8, 1),
                                                            dtype=np.uint8),
             y_test=np.arange(10) % 2)
    data = load_data(data_spec(source="npz", path=str(path), exclude=["test[4]"]),
                     (8, 8, 1), seed=0)
    assert data.sizes["test"] == 9 and "test[4]" not in data.ids("test")
    assert sorted(data.ids("test")) == sorted(f"test[{i}]" for i in range(10) if i != 4)
    with pytest.raises(DataError, match=r"data.exclude names test\[10\], which is not a sample "
                       r"\(samples are train\[0\]..train\[29\] and test\[0\]..test\[9\]\)"):
        load_data(data_spec(source="npz", path=str(path), exclude=["test[10]"]), (8, 8, 1), 0)


@pytest.mark.parametrize(("fields", "message"), [
    ({"exclude": ["train[999]"]}, r"data.exclude names train\[999\], which is not a sample"),
    ({"exclude": ["test[0]"]}, r"data.exclude names test\[0\], which is not a sample"),
    ({"relabel": {"cat/x.png": "circle"}}, r"data.relabel names cat/x.png, which is not a"),
    ({"relabel": {"train[1]": "zebra"}}, r"data.relabel gives train\[1\] the class 'zebra', "
     r"which is not a class \(classes: circle, square, cross\)"),
])
def test_a_revision_naming_no_sample_or_class_is_one_line(fields, message):
    with pytest.raises(DataError, match=message):
        load_data(data_spec(**fields), (8, 8, 3), seed=0)


@pytest.mark.parametrize(("fields", "where"), [
    ({"exclude": "train[1]"}, "data.exclude"),
    ({"exclude": [3]}, r"data.exclude\[0\]"),
    ({"relabel": ["train[1]"]}, "data.relabel"),
    ({"relabel": {"train[1]": 2}}, "data.relabel"),
])
def test_the_spec_checks_the_revision_types(fields, where):
    with pytest.raises(SpecError, match=where):
        data_spec(**fields)


def test_a_capped_sample_is_counted_not_refused():
    data = load_data(data_spec(max_samples=10), (8, 8, 3), seed=0)
    held = set(data.ids("train") + data.ids("val") + data.ids("test"))
    outside = next(f"train[{i}]" for i in range(60) if f"train[{i}]" not in held)
    revised = load_data(data_spec(max_samples=10, exclude=[outside]), (8, 8, 3), seed=0)
    assert revised.sizes == data.sizes
    assert any("1 sample named by the revision are not in the splits" in n
               for n in revised.notes), revised.notes


def test_folder_ids_are_relative_paths_and_standardization_follows_the_revision(tmp_path):
    root = tmp_path / "pics"
    shapes_folder(root, ["circle", "square"], 24, 8)
    spec = {"source": "folder", "path": str(root), "normalization": "standardize",
            "validation_split": 0.25, "test_split": 0.0}
    before = load_data(data_spec(**spec), (8, 8, 3), seed=0)
    train = before.ids("train")
    assert all(i.split("/")[0] in ("circle", "square") and i.endswith(".png") for i in train)
    gone = train[:6]
    after = load_data(data_spec(**spec, exclude=gone, relabel={train[6]: "circle"}),
                      (8, 8, 3), seed=0)
    assert after.ids("train") == train[6:] and after.ids("val") == before.ids("val")
    assert after.y_train[0] == 0
    assert after.normalization_stats != before.normalization_stats
    x, _ = after.arrays("train")
    np.testing.assert_allclose(x.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    with pytest.raises(DataError, match=r"names \.\./pics/circle/000.png, which is not a sample"):
        load_data(data_spec(**spec, exclude=["../pics/circle/000.png"]), (8, 8, 3), seed=0)


def test_five_mislabelled_images_top_the_losses_and_excluding_them_shows(tmp_path, capsys):
    """The issue's test: 200 PNG shapes, 5 in the wrong folder; after a short run the 5 are
    among the 20 highest losses (runs samples --sort loss), and a run that excludes them
    trains on 195 images and says so."""
    from cli_support import run_cli, train_run

    root = tmp_path / "shapes"
    wrong = shapes_folder(root, list(CLASSES), 200, 16, wrong=5, seed=1)
    spec = tiny_spec(epochs=8, lr=0.01, classes=CLASSES, regularization={"kernel_l2": 0.01})
    spec["data"] = {"source": "folder", "path": str(root), "validation_split": 0.2,
                    "test_split": 0.0}
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(spec))
    ws = tmp_path / "ws"
    first = train_run(path, ws)
    code, out, err = run_cli(capsys, "runs", "samples", first, "--sort", "loss", "--limit",
                             "20", "--json", "--workspace", ws)
    assert code == 0, err
    rows = json.loads(out)["samples"]
    top = [row["id"] for row in rows]
    assert set(wrong) <= set(top), (wrong, top)
    assert all(row["file"] == str(root / row["id"]) for row in rows)  # absolute, on disk
    spec["data"]["exclude"] = wrong
    spec["training"]["epochs"] = 1
    path.write_text(json.dumps(spec))
    second = train_run(path, ws)
    meta = {run: json.loads((ws / "runs" / run / "metadata.json").read_text())["data"]
            for run in (first, second)}
    assert sum(meta[first]["sizes"].values()) == 200
    assert sum(meta[second]["sizes"].values()) == 195
    assert "excluded 5 samples (data.exclude)" in meta[second]["notes"]
    saved = json.loads((ws / "runs" / second / "spec.json").read_text())
    assert saved["data"]["exclude"] == wrong
