"""Image folders: the pre-flight check, skipping or stopping on bad files, the pipeline."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dataclasses import dataclass

import numpy as np
import pytest

from cnnlab.data import load_data, preflight_folder
from cnnlab.errors import DataError


@dataclass(frozen=True)
class Data:
    source: str = "folder"
    path: str | None = None
    keras_name: str = "mnist"
    validation_split: float = 0.2
    test_split: float = 0.2
    normalization: str = "scale"
    bad_files: str = "skip"
    max_samples: int | None = None
    shapes: object = None


def write_png(path, image):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def write_jpeg(path, image):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_jpeg(image).numpy())


def make_images(root, name, n, shape, value):
    """``n`` PNGs of ``shape`` filled around ``value`` (so classes differ in brightness)."""
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    for i in range(n):
        image = np.clip(value + rng.integers(-20, 20, shape), 0, 255).astype(np.uint8)
        write_png(root / name / f"{name}_{i}.png", image)


@pytest.fixture
def messy(tmp_path):
    """cats (RGB, 10 + a truncated PNG), dogs (grayscale, 10 + notes.txt), fish (only bad)."""
    root = tmp_path / "pets"
    make_images(root, "cats", 10, (20, 24, 3), 60)
    make_images(root, "dogs", 10, (30, 30, 1), 190)
    good = (root / "cats" / "cats_0.png").read_bytes()
    (root / "cats" / "broken.png").write_bytes(good[: len(good) // 2])
    (root / "dogs" / "notes.txt").write_text("not a picture")
    (root / "fish").mkdir()
    (root / "fish" / "empty.jpg").write_bytes(b"")
    (root / ".DS_Store").write_text("hidden files are ignored")
    return root


@pytest.fixture
def clean(tmp_path):
    root = tmp_path / "clean"
    make_images(root, "dark", 12, (16, 16, 3), 50)
    make_images(root, "light", 12, (16, 16, 3), 200)
    write_jpeg(root / "light" / "nested" / "photo.jpg", np.full((16, 16, 3), 210, np.uint8))
    return root


def test_preflight_names_every_bad_file_and_empty_class(messy):
    report = preflight_folder(messy)
    assert report.class_names == ["cats", "dogs", "fish"]
    assert report.counts == {"cats": 10, "dogs": 10, "fish": 0}
    bad = {os.path.relpath(path, messy): reason for path, reason in report.bad_files}
    assert set(bad) == {"cats/broken.png", "dogs/notes.txt", "fish/empty.jpg"}
    assert bad["cats/broken.png"].startswith("corrupt image")
    assert "not an image" in bad["dogs/notes.txt"]
    assert bad["fish/empty.jpg"] == "empty file"
    assert report.empty_classes == ["fish"]
    assert report.channel_counts == {1: 10, 3: 10}
    assert report.size_range == ((20, 24), (30, 30))
    assert not report.ok
    summary = report.summary()
    for words in ("20 usable images", "cats/broken.png", "dogs/notes.txt", "fish"):
        assert words in summary
    assert "\n" not in summary


def test_preflight_of_a_clean_folder(clean):
    report = preflight_folder(clean)
    assert report.ok
    assert report.counts == {"dark": 12, "light": 13}
    assert "Every file is usable" in report.summary()


def test_preflight_of_a_missing_or_classless_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        preflight_folder(tmp_path / "nowhere")
    (tmp_path / "flat.png").write_bytes(b"")
    report = preflight_folder(tmp_path)
    assert not report.ok and "no class sub-folders" in report.summary()
    with pytest.raises(DataError, match="no class sub-folders"):
        load_data(Data(path=str(tmp_path)), (16, 16, 3), seed=0)


def test_skip_trains_on_the_good_files_only(messy):
    splits = load_data(Data(path=str(messy)), (16, 16, 3), seed=0)
    assert splits.class_names == ["cats", "dogs"]
    assert sum(splits.sizes.values()) == 20
    assert splits.sizes == {"train": 12, "val": 4, "test": 4}
    assert splits.x_train is None  # images stay on disk
    assert any(n.startswith("skipped 3 bad file(s)") for n in splits.notes)
    assert any("left out" in n and "fish" in n for n in splits.notes)
    assert any("grayscale to RGB" in n for n in splits.notes)
    assert any("resized images" in n for n in splits.notes)
    seen = 0
    for x, y in splits.dataset("train", 5, shuffle=True, seed=1):
        assert x.shape[1:] == (16, 16, 3) and x.dtype.name == "float32"
        assert y.dtype.name == "int32"
        assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
        seen += int(x.shape[0])
    assert seen == 12


def test_stop_refuses_and_names_the_files(messy):
    with pytest.raises(DataError) as info:
        load_data(Data(path=str(messy), bad_files="stop"), (16, 16, 3), seed=0)
    message = str(info.value)
    for words in ("cats/broken.png", "dogs/notes.txt", "fish", "bad_files"):
        assert words in message
    assert "\n" not in message


def test_labels_follow_the_folders(clean):
    splits = load_data(Data(path=str(clean), normalization="none"), (16, 16, 3), seed=0)
    x, y = splits.arrays("train")
    assert len(x) == splits.sizes["train"] and x.shape[1:] == (16, 16, 3)
    dark = x[y == 0].mean()
    light = x[y == 1].mean()
    assert dark < 100 < light, "class 0 is the 'dark' folder, class 1 'light'"
    xs, ys = splits.samples("val", 3)
    np.testing.assert_array_equal(ys, splits.y_val[:3])
    np.testing.assert_allclose(xs, splits.arrays("val")[0][:3])


def test_folder_to_grayscale_model(clean):
    splits = load_data(Data(path=str(clean)), (16, 16, 1), seed=0)
    assert splits.image_shape == (16, 16, 1)
    assert splits.notes == ["converted RGB to grayscale to match the model's 1-channel input"]
    x, _ = splits.samples("train", 4)
    assert x.shape == (4, 16, 16, 1)


def test_folder_standardize_uses_training_images(clean):
    raw = load_data(Data(path=str(clean), normalization="none"), (16, 16, 3), seed=3)
    std = load_data(Data(path=str(clean), normalization="standardize"), (16, 16, 3), seed=3)
    x_train, _ = raw.arrays("train")
    stats = std.normalization_stats
    np.testing.assert_allclose(stats["mean"], x_train.reshape(-1, 3).mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(stats["std"], x_train.reshape(-1, 3).std(axis=0), rtol=1e-3)
    z, _ = std.arrays("train")
    np.testing.assert_allclose(z.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-3)


def test_folder_needs_two_usable_classes(tmp_path):
    make_images(tmp_path, "only", 3, (8, 8, 3), 100)
    (tmp_path / "void").mkdir()
    with pytest.raises(DataError, match="at least 2 classes"):
        load_data(Data(path=str(tmp_path)), (8, 8, 3), seed=0)


def test_folder_needs_a_path():
    with pytest.raises(DataError, match="data.path"):
        load_data(Data(path=None), (8, 8, 3), seed=0)
