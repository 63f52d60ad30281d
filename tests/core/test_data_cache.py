"""Folder images larger than memory: uint8 in memory, a workspace cache file, or streamed.

The three paths (forced with CNNLAB_DATA_CACHE, or chosen by the memory budget
CNNLAB_DATA_MEMORY_BUDGET) must give the very same batches, and the run's notes
must say which one ran.
"""

import inspect
import json
from dataclasses import dataclass

import numpy as np
import pytest
from cli_support import train_run

from cnnlab.data import DataSplits, load_data
from cnnlab.data.cache_plan import BUDGET_ENV, CACHE_ENV, plan_cache
from cnnlab.errors import DataError

SHAPE = (8, 8, 3)


@dataclass(frozen=True)
class Data:
    """The spec's data section, as load_data reads it."""

    path: str
    normalization: str = "scale"
    source: str = "folder"
    validation_split: float = 0.25
    test_split: float = 0.25
    bad_files: str = "skip"
    max_samples: int | None = None


def write_png(path, image):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two classes of 12 PNGs each, 10x9 pixels (so the pipeline resizes them to 8x8)."""
    root = tmp_path_factory.mktemp("cache") / "tiles"
    rng = np.random.default_rng(4)
    for name, value in (("dark", 60), ("light", 190)):
        for i in range(12):
            image = np.clip(value + rng.integers(-50, 50, (10, 9, 3)), 0, 255).astype(np.uint8)
            write_png(root / name / f"{name}_{i}.png", image)
    return root


def epochs(splits, n=2):
    """``n`` epochs of shuffled training batches, images and labels, as numpy."""
    ds = splits.files.batches("train", splits.y_train, 5, True, 11)
    return [[(x.numpy(), y.numpy()) for x, y in ds] for _ in range(n)]


def load(folder, monkeypatch, kind, normalization="scale", budget=None):
    monkeypatch.setenv(CACHE_ENV, kind)
    if budget is not None:
        monkeypatch.setenv(BUDGET_ENV, budget)
    return load_data(Data(path=str(folder), normalization=normalization), SHAPE, 3)


def test_memory_file_and_streaming_give_the_same_batches(folder, monkeypatch, tmp_path):
    """Standardized (scaling is the budget test's); two shuffled epochs of each path."""
    runs = {}
    for kind in ("memory", "file", "none"):
        splits = load(folder, monkeypatch, kind, "standardize")
        splits.files.cache_dir = tmp_path / "cache"
        runs[kind] = epochs(splits)
        assert splits.files.plan.kind == kind
        assert sum("images" in n and CACHE_ENV in n for n in splits.notes) == 1
    first, second = runs["memory"]
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, second, strict=True))
    for kind in ("file", "none"):
        for epoch, expected in zip(runs[kind], runs["memory"], strict=True):
            for (x, y), (x0, y0) in zip(epoch, expected, strict=True):
                np.testing.assert_array_equal(x, x0)
                np.testing.assert_array_equal(y, y0)
    x, _ = runs["memory"][0][0]
    assert x.dtype == np.float32 and x.shape[1:] == SHAPE and x.min() < 0.0 < x.max()


def test_budget_chooses_memory_then_file_then_streaming(folder, monkeypatch, tmp_path):
    splits = load(folder, monkeypatch, "auto", budget="1G")
    splits.files.batches("val", splits.y_val, 4, False, 0)
    assert splits.notes[-1] == "images cached in memory as uint8 (4.5 KB of a 1.0 GB budget)"
    splits = load(folder, monkeypatch, "auto", budget="1K")
    splits.files.cache_dir = tmp_path / "cache"
    val = splits.files.batches("val", splits.y_val, 4, False, 0)
    note = splits.notes[-1]
    assert "in a file in" in note and "over the 1.0 KB memory budget" in note
    cached = splits.files.cache_files["val"]
    assert cached.parent == tmp_path / "cache" and cached.suffix == ".npy"
    images, labels = (np.concatenate(a) for a in zip(*[(x.numpy(), y.numpy()) for x, y in val],
                                                       strict=True))
    expected, expected_labels = splits.arrays("val")  # decoded on the spot, no cache
    np.testing.assert_array_equal(images, expected)
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(labels, expected_labels)
    plan = plan_cache(10**6, None)
    assert plan.kind == "none" and "no cache folder" in plan.note()


def test_cache_file_is_reused_and_replaced_when_a_file_changes(folder, monkeypatch, tmp_path):
    def cached_batches():
        splits = load(folder, monkeypatch, "file")
        splits.files.cache_dir = tmp_path / "cache"
        batch = next(iter(splits.files.batches("test", splits.y_test, 16, False, 0)))[0]
        return splits.files.cache_files["test"], batch.numpy(), splits

    first, before, splits = cached_batches()
    stamp = first.stat().st_mtime_ns
    again, _, _ = cached_batches()
    assert again == first and first.stat().st_mtime_ns == stamp  # reused, not rewritten
    changed = splits.files.paths["test"][0]
    write_png(type(first)(changed), np.zeros((10, 9, 3), np.uint8))
    renamed, after, _ = cached_batches()
    assert renamed != first and not first.exists()  # the stale cache of this family is gone
    assert after[0].max() == 0.0 and np.array_equal(after[1:], before[1:])
    renamed.write_bytes(renamed.read_bytes()[:200])  # a truncated file is never trusted
    rebuilt, again_after, _ = cached_batches()
    assert rebuilt == renamed and np.array_equal(again_after, after)


def test_bad_override_is_one_line(monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "ramdisk")
    with pytest.raises(DataError, match="CNNLAB_DATA_CACHE must be one of auto, memory"):
        plan_cache(10, None)
    monkeypatch.setenv(CACHE_ENV, "auto")
    monkeypatch.setenv(BUDGET_ENV, "lots")
    with pytest.raises(DataError, match="CNNLAB_DATA_MEMORY_BUDGET must be a size"):
        plan_cache(10, None)


_ROUTED = "batches(" in inspect.getsource(DataSplits.dataset)
_NOT_ROUTED = "DataSplits.dataset does not call FolderFiles.batches yet (the splits.py edit)"


@pytest.mark.skipif(not _ROUTED, reason=_NOT_ROUTED)
def test_the_splits_pipeline_uses_the_plan(folder, monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "1K")
    splits = load(folder, monkeypatch, "auto")
    batches = list(splits.dataset("train", 5, shuffle=True, seed=11))
    assert any(n.startswith("images cached as uint8 in a file") for n in splits.notes)
    assert splits.files.cache_files["train"].is_file()
    assert sum(len(y) for _, y in batches) == len(splits.y_train)


@pytest.mark.slow  # test_the_splits_pipeline_uses_the_plan covers the notes; this trains
@pytest.mark.skipif(not _ROUTED, reason=_NOT_ROUTED)
def test_training_run_notes_name_the_cache(folder, monkeypatch, tmp_path):
    from cnnlab.presetlib import load_preset

    exp = load_preset("default", input_shape=list(SHAPE), classes=2)
    spec = exp.to_dict()
    spec["data"].update(source="folder", path=str(folder))
    spec["training"].update(epochs=1, batch_size=8)
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(spec))
    monkeypatch.setenv(CACHE_ENV, "auto")
    monkeypatch.setenv(BUDGET_ENV, "1K")
    ws = tmp_path / "ws"
    run_id = train_run(path, ws)
    metadata = json.loads(next(ws.rglob(f"{run_id}/metadata.json")).read_text())
    assert any(n.startswith("images cached as uint8 in a file") for n in metadata["data"]["notes"])
