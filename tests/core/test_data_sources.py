"""load_data on in-memory sources (shapes, npz, keras): splits, preprocessing, pipelines."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools
import http.server
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from cnnlab.data import class_counts, generate_shapes, keras_dataset_file, load_data
from cnnlab.data import keras_datasets as sources_module
from cnnlab.errors import DataError


@dataclass(frozen=True)
class Shapes:
    image_size: int = 32
    channels: int = 3
    classes: tuple = ("circle", "square", "triangle", "star", "cross", "ring")
    samples: int = 600
    noise: float = 0.05
    seed: int = 0


@dataclass(frozen=True)
class Data:
    source: str = "shapes"
    path: str | None = None
    keras_name: str = "mnist"
    validation_split: float = 0.2
    test_split: float = 0.1
    normalization: str = "scale"
    bad_files: str = "skip"
    max_samples: int | None = None
    shapes: Shapes = field(default_factory=Shapes)


def shapes_data(**shape_args) -> Data:
    return Data(shapes=Shapes(**shape_args))


# --- shapes through load_data ------------------------------------------------


def test_default_shapes_split_types_and_ranges():
    splits = load_data(Data(), (32, 32, 3), seed=0)
    assert splits.sizes == {"train": 420, "val": 120, "test": 60}
    assert splits.class_names == list(Shapes().classes) and splits.num_classes == 6
    assert splits.image_shape == (32, 32, 3)
    assert splits.notes == []
    assert splits.normalization_stats is None and splits.pixel_scale == 255.0
    for x, y in (splits.arrays(s) for s in ("train", "val", "test")):
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert 0.0 <= x.min() and x.max() <= 1.0
    # Validation and test are taken class by class.
    assert class_counts(splits.y_val, 6).tolist() == [20] * 6
    assert class_counts(splits.y_test, 6).tolist() == [10] * 6


def test_splits_are_disjoint_and_cover_everything():
    x, _ = generate_shapes(Shapes().classes, 600, seed=0)
    splits = load_data(Data(normalization="none"), (32, 32, 3), seed=4)
    rows = np.concatenate([splits.x_train, splits.x_val, splits.x_test]).reshape(600, -1)
    assert len({r.tobytes() for r in rows}) == 600
    np.testing.assert_array_equal(
        np.sort(rows.sum(axis=1)), np.sort(x.reshape(600, -1).astype(np.float32).sum(axis=1))
    )


def test_split_seed_changes_the_split_not_the_images():
    a = load_data(Data(), (32, 32, 3), seed=0)
    b = load_data(Data(), (32, 32, 3), seed=0)
    c = load_data(Data(), (32, 32, 3), seed=1)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)


def test_grayscale_data_is_converted_for_an_rgb_model():
    splits = load_data(shapes_data(channels=1), (32, 32, 3), seed=0)
    assert splits.image_shape == (32, 32, 3)
    assert splits.notes == ["converted grayscale to RGB to match the model's 3-channel input"]
    x = splits.x_train
    np.testing.assert_array_equal(x[..., 0], x[..., 1])
    np.testing.assert_array_equal(x[..., 0], x[..., 2])


def test_rgb_data_is_converted_for_a_grayscale_model():
    rgb = load_data(Data(), (32, 32, 3), seed=0)
    gray = load_data(Data(), (32, 32, 1), seed=0)
    assert gray.image_shape == (32, 32, 1)
    assert gray.notes == ["converted RGB to grayscale to match the model's 1-channel input"]
    expected = rgb.x_val @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(gray.x_val[..., 0], expected, atol=1e-5)


def test_images_are_resized_to_the_model_input():
    splits = load_data(Data(), (20, 24, 3), seed=0)
    assert splits.image_shape == (20, 24, 3)
    assert splits.x_train.shape[1:] == (20, 24, 3)
    assert splits.notes == ["resized 32x32 images to 20x24 to match the model's input"]
    assert 0.0 <= splits.x_train.min() and splits.x_train.max() <= 1.0


def test_none_height_and_width_keep_the_data_size():
    splits = load_data(Data(), (None, None, 3), seed=0)
    assert splits.image_shape == (32, 32, 3) and splits.notes == []


def test_standardize_uses_statistics_of_the_training_split_only():
    raw = load_data(Data(normalization="none"), (32, 32, 3), seed=2)
    std = load_data(Data(normalization="standardize"), (32, 32, 3), seed=2)
    stats = std.normalization_stats
    train = raw.x_train.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(stats["mean"], train.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(stats["std"], train.std(axis=0), rtol=1e-6)
    everything = np.concatenate([raw.x_train, raw.x_val, raw.x_test]).reshape(-1, 3)
    assert not np.allclose(stats["mean"], everything.mean(axis=0), rtol=1e-6, atol=0)
    assert 1.0 < stats["mean"][0] < 255.0, "statistics are in raw pixel units"
    mean, sd = np.float32(stats["mean"]), np.float32(stats["std"])
    np.testing.assert_allclose(std.x_train.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(std.x_train.std(axis=(0, 1, 2)), 1.0, atol=1e-3)
    np.testing.assert_allclose(std.x_val * sd + mean, raw.x_val, atol=1e-3)


def test_max_samples_caps_training_and_shrinks_the_rest_in_proportion():
    splits = load_data(replace(Data(), max_samples=105), (32, 32, 3), seed=0)
    assert splits.sizes == {"train": 105, "val": 30, "test": 15}
    assert any("max_samples" in note for note in splits.notes)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"validation_split": 0.6, "test_split": 0.5}, "leave some data"),
        ({"normalization": "minmax"}, "data.normalization"),
        ({"source": "web"}, "data.source"),
        ({"bad_files": "ignore"}, "data.bad_files"),
        ({"max_samples": 0}, "max_samples"),
    ],
)
def test_bad_options_are_data_errors(change, words):
    with pytest.raises(DataError, match=words):
        load_data(replace(Data(), **change), (32, 32, 3), seed=0)


def test_bad_input_shape_is_a_data_error():
    with pytest.raises(DataError, match="height, width, channels"):
        load_data(Data(), (32, 32), seed=0)


# --- pipelines ----------------------------------------------------------------


def test_dataset_batches_shuffles_reproducibly_and_covers_each_sample_once():
    splits = load_data(Data(), (32, 32, 3), seed=0)
    ds = splits.dataset("train", 64, shuffle=True, seed=5)
    batches = list(ds)
    assert [int(b[0].shape[0]) for b in batches] == [64] * 6 + [36]
    x0, y0 = batches[0]
    assert x0.dtype.name == "float32" and y0.dtype.name == "int32"
    assert x0.shape[1:] == (32, 32, 3)
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(labels.tolist()) == sorted(splits.y_train.tolist())
    again = next(iter(splits.dataset("train", 64, shuffle=True, seed=5)))[1].numpy()
    np.testing.assert_array_equal(again, y0.numpy())
    second_epoch = np.concatenate([b[1].numpy() for b in ds])
    assert not np.array_equal(second_epoch, labels), "a new order every epoch"


def test_unshuffled_dataset_and_samples_follow_the_split_order():
    splits = load_data(Data(), (32, 32, 3), seed=0)
    x, y = next(iter(splits.dataset("val", 16)))
    np.testing.assert_array_equal(x.numpy(), splits.x_val[:16])
    np.testing.assert_array_equal(y.numpy(), splits.y_val[:16])
    xs, ys = splits.samples("val", 5)
    np.testing.assert_array_equal(xs, splits.x_val[:5])
    np.testing.assert_array_equal(ys, splits.y_val[:5])


def test_a_keras_model_trains_on_the_dataset():
    import keras

    splits = load_data(Data(), (32, 32, 3), seed=0)
    model = keras.Sequential(
        [
            keras.Input(splits.image_shape),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(splits.num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(
        splits.dataset("train", 64, shuffle=True),
        validation_data=splits.dataset("val", 64),
        epochs=1,
        shuffle=False,  # the dataset shuffles itself
        verbose=0,
    )
    assert np.isfinite(history.history["val_loss"][0])


def test_class_counts():
    assert class_counts(np.array([0, 2, 2, 1, 2]), 4).tolist() == [1, 1, 3, 0]
    with pytest.raises(DataError, match="label 5"):
        class_counts(np.array([0, 5]), 3)


# --- npz ---------------------------------------------------------------------


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def mnist_like(n_train=50, n_test=20, shape=(28, 28), dtype=np.uint8, classes=10):
    rng = np.random.default_rng(0)
    high = 256 if dtype == np.uint8 else 1
    return {
        "x_train": (rng.random((n_train, *shape)) * high).astype(dtype),
        "y_train": (np.arange(n_train) % classes).astype(np.uint8),
        "x_test": (rng.random((n_test, *shape)) * high).astype(dtype),
        "y_test": (np.arange(n_test) % classes).astype(np.uint8),
    }


def test_npz_grayscale_uint8_in_mnist_layout(tmp_path):
    arrays = mnist_like()
    path = write_npz(tmp_path / "mnist.npz", **arrays)
    splits = load_data(Data(source="npz", path=path), (28, 28, 1), seed=0)
    assert splits.sizes == {"train": 40, "val": 10, "test": 20}
    assert splits.class_names == [str(i) for i in range(10)]
    assert splits.x_train.shape[1:] == (28, 28, 1)
    assert any("own test set" in note for note in splits.notes)
    x_test = np.sort(splits.x_test.reshape(20, -1).sum(axis=1))
    expected = np.sort(arrays["x_test"].reshape(20, -1).astype(np.float32).sum(axis=1) / 255)
    np.testing.assert_allclose(x_test, expected, rtol=1e-5)


def test_npz_channel_axis_float_pixels_and_column_labels(tmp_path):
    arrays = mnist_like(shape=(28, 28, 1), dtype=np.float32)
    arrays["y_train"] = arrays["y_train"].reshape(-1, 1)
    path = write_npz(tmp_path / "d.npz", **arrays, class_names=np.array(list("abcdefghij")))
    splits = load_data(Data(source="npz", path=path), (32, 32, 3), seed=0)
    assert splits.class_names == list("abcdefghij")
    assert splits.pixel_scale == 1.0, "floats in [0, 1] are kept as they are"
    assert splits.image_shape == (32, 32, 3)
    assert any("grayscale to RGB" in n for n in splits.notes)
    assert any("resized 28x28 images to 32x32" in n for n in splits.notes)


def test_npz_rgb_for_a_grayscale_model(tmp_path):
    path = write_npz(tmp_path / "rgb.npz", **mnist_like(shape=(16, 16, 3)))
    splits = load_data(Data(source="npz", path=path), (16, 16, 1), seed=0)
    assert splits.x_val.shape[1:] == (16, 16, 1)
    assert any("RGB to grayscale" in n for n in splits.notes)


def test_four_channels_cannot_feed_an_rgb_model(tmp_path):
    path = write_npz(tmp_path / "rgba.npz", **mnist_like(shape=(8, 8, 4)))
    with pytest.raises(DataError, match="4 channel"):
        load_data(Data(source="npz", path=path), (8, 8, 3), seed=0)


def test_npz_missing_key_is_named(tmp_path):
    arrays = mnist_like()
    del arrays["y_test"]
    path = write_npz(tmp_path / "partial.npz", **arrays)
    with pytest.raises(DataError, match="'y_test'"):
        load_data(Data(source="npz", path=path), (28, 28, 1), seed=0)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("x_train", np.zeros(50, np.uint8), "x_train has shape"),
        ("y_train", np.zeros(49, np.uint8), "y_train has 49 labels"),
        ("y_test", np.full(20, -1), "y_test: 20 label\\(s\\) are negative \\(first at index 0"),
        ("x_test", np.zeros((20, 14, 14), np.uint8), "x_test images"),
    ],
)
def test_npz_wrong_shapes_name_the_key(tmp_path, key, value, words):
    arrays = mnist_like() | {key: value}
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=words):
        load_data(Data(source="npz", path=path), (28, 28, 1), seed=0)


def test_npz_missing_or_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_data(Data(source="npz", path=str(tmp_path / "nope.npz")), (28, 28, 1), seed=0)
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(DataError, match="junk.npz is not an .npz file"):
        load_data(Data(source="npz", path=str(junk)), (28, 28, 1), seed=0)
    with pytest.raises(DataError, match="data.path"):
        load_data(Data(source="npz"), (28, 28, 1), seed=0)


# --- keras.datasets ------------------------------------------------------------


def test_keras_dataset_file_respects_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert keras_dataset_file("mnist") == tmp_path / "datasets" / "mnist.npz"
    assert keras_dataset_file("fashion_mnist") == tmp_path / "datasets" / "fashion-mnist"
    assert keras_dataset_file("cifar10").parent == tmp_path / "datasets"
    with pytest.raises(DataError, match="unknown Keras dataset"):
        keras_dataset_file("imagenet")


def test_keras_offline_without_cached_file_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(sources_module, "can_reach", lambda url, **kw: False)

    def must_not_run(name):
        raise AssertionError("keras must not be asked to download while offline")

    monkeypatch.setattr(sources_module, "_keras_loader", must_not_run)
    with pytest.raises(DataError) as info:
        load_data(Data(source="keras", keras_name="mnist"), (28, 28, 1), seed=0)
    message = str(info.value)
    assert str(tmp_path / "datasets" / "mnist.npz") in message
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in message
    assert "\n" not in message


def test_connectivity_probe_gives_up_quickly():
    start = time.perf_counter()
    assert sources_module.can_reach("https://nothing.invalid/mnist.npz", timeout=0.5) is False
    assert sources_module.can_reach("http://127.0.0.1:9/mnist.npz", timeout=0.5) is False
    assert time.perf_counter() - start < 2.5


def test_connectivity_probe_finds_a_served_file(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"data")
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            assert sources_module.can_reach(f"{base}/mnist.npz", timeout=2.0) is True
            assert sources_module.can_reach(f"{base}/missing.npz", timeout=2.0) is False
        finally:
            server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
