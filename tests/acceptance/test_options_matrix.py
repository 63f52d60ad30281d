"""Acceptance matrix, the remaining documented fields: data splits and normalization,
the shapes generator's options, seeds, explicit losses, the device choice and the
refusals a CPU machine gives, each through ``cnnlab train``."""

from __future__ import annotations

import numpy as np
import pytest
from matrix_checks import close, cross_entropy, predict, squared_hinge
from matrix_lab import assert_one_line_error, cli, identical


def data(**fields):
    """An edit of the ``data`` section."""
    return lambda d: d["data"].update(fields)


def training(**fields):
    """An edit of the ``training`` section."""
    return lambda d: d["training"].update(fields)


def test_validation_and_test_split_fractions(lab):
    run = lab.train(lab.spec(data(validation_split=0.25, test_split=0.25)))
    assert run.ok, run.describe()
    sizes = run.metadata["data"]["sizes"]
    assert sizes == {"train": 48, "val": 24, "test": 24}, sizes  # 16 per class, 4 + 4 held out


def test_max_samples_caps_the_training_split(lab):
    run = lab.train(lab.spec(data(max_samples=20)))
    assert run.ok, run.describe()
    assert run.metadata["data"]["sizes"]["train"] == 20
    assert run.steps_per_epoch() == 2


@pytest.mark.parametrize("normalization", ["standardize", "none"])
def test_normalization(lab, normalization):
    run = lab.train(lab.spec(data(normalization=normalization)))
    assert run.ok, run.describe()
    x, _ = run.train_arrays()
    if normalization == "standardize":
        assert np.allclose(x.mean(axis=(0, 1, 2)), 0, atol=1e-3)
        assert np.allclose(x.std(axis=(0, 1, 2)), 1, atol=1e-2)
    else:
        assert x.max() > 100  # raw 0..255 pixels


def test_shapes_options(lab):
    classes = ["circle", "square", "cross"]

    def edit(d):
        d["data"]["shapes"].update(channels=1, classes=classes, noise=0.2, seed=3)
        d["model"]["nodes"][0]["params"]["shape"] = [16, 16, 1]
        next(n for n in d["model"]["nodes"] if n["id"] == "output")["params"]["units"] = 3

    run = lab.train(lab.spec(edit))
    assert run.ok, run.describe()
    meta = run.metadata["data"]
    assert meta["classes"] == classes and meta["image_shape"] == [16, 16, 1]
    assert tuple(run.model.input_shape[1:]) == (16, 16, 1)


def test_same_seed_same_weights_other_seed_other_weights(lab):
    again = lab.train(lab.spec())
    other = lab.train(lab.spec(training(seed=1)))
    assert again.ok and other.ok
    base = lab.cached("base").weights()
    assert all(identical(again.weights()[k], base[k]) for k in base)
    assert not identical(other.weights()["conv1"], base["conv1"])


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "squared_hinge"])
def test_explicit_loss(lab, loss):
    run = lab.train(lab.spec(training(loss=loss)))
    assert run.ok, run.describe()
    x, y = run.val_arrays()
    p = predict(run.model, x)
    expected = squared_hinge(p, y) if loss == "squared_hinge" else cross_entropy(p, y)
    assert close(run.result["metrics"]["val_loss"], expected, rel=1e-4)


def test_device_cpu(lab):
    run = lab.train(lab.spec(lambda d: d["training"]["device"].update(device="cpu")))
    assert run.ok, run.describe()
    assert run.metadata["devices"]["kind"] == "cpu"


def _refused(lab, edit, *words):
    path = lab.write(lab.spec(edit), "refused")
    code, _, err = cli("train", path, "--workspace", lab.workspace, "--json")
    assert_one_line_error(code, err, *words)


def test_gpu_asked_on_a_cpu_machine_is_one_clear_line(lab):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    _refused(lab, lambda d: d["training"]["device"].update(device="gpu"), "GPU")


def test_multi_worker_without_a_cluster_is_one_clear_line(lab, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    _refused(lab, lambda d: d["training"]["device"].update(distribute="multi_worker"),
             "TF_CONFIG")
