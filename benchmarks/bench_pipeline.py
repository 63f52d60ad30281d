"""Input pipeline of image folders against the default model's training rate, and peak memory.

Writes image folders (PNG) in a temporary directory, then prints:

- images per second of the input pipeline alone (``FolderFiles.batches``:
  decoding, the cache, shuffling, batching, float conversion) for each cache
  choice (memory, file, streaming), against the training rate of the default
  model (``cnnlab new``) on the same input size (``model.fit`` over batches
  already in memory), at 32 and 96 px. The ratio pipeline / model must be
  >= 1.5 so that the input is never what the training waits for.
- peak resident memory (``ru_maxrss`` of a fresh subprocess iterating two
  epochs, and its excess over the floor: TensorFlow and the file list) for a
  folder whose float32 cache would exceed a forced small memory budget: batches
  of zeros (the floor), the old float32 ``cache()`` pipeline, the new choice (a
  uint8 cache file read by memory map, whose clean pages count as resident
  while mapped but are the first the kernel reclaims) and streaming.

Usage: python benchmarks/bench_pipeline.py [--images 1200] [--memory-images 6000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH = 32
CLASSES = ("circle", "square", "stripe")


@dataclass(frozen=True)
class Data:
    """The spec's data section, as ``load_data`` reads it."""

    path: str
    source: str = "folder"
    validation_split: float = 0.0
    test_split: float = 0.0
    normalization: str = "scale"
    bad_files: str = "skip"
    max_samples: int | None = None


def write_folder(root: Path, count: int, size: int) -> Path:
    """``count`` PNGs of ``size`` px, noisy shapes in three classes (as photos, they differ)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(size)
    yy, xx = np.mgrid[:size, :size] / size
    masks = ((xx - .5) ** 2 + (yy - .5) ** 2 < .1, (abs(xx - .5) < .3) & (abs(yy - .5) < .3),
             (xx * 8).astype(int) % 2 == 0)
    for i in range(count):
        name = CLASSES[i % 3]
        image = rng.integers(0, 120, (size, size, 3))
        image[masks[i % 3]] += 120
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(folder / f"{name}_{i:05d}.png")
    return root


def load(folder: Path, size: int):
    from cnnlab.data import load_data

    return load_data(Data(path=str(folder)), (size, size, 3), 0)


def pipeline_rate(folder: Path, size: int, kind: str, cache_dir: Path) -> tuple[float, float]:
    """Images/s of the first epoch (decoding, filling the cache) and of later epochs."""
    os.environ["CNNLAB_DATA_CACHE"] = kind
    splits = load(folder, size)
    splits.files.cache_dir = cache_dir
    n = len(splits.y_train)
    t = time.perf_counter()
    ds = splits.files.batches("train", splits.y_train, BATCH, True, 0)
    _drain(ds)
    first = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(3):
        _drain(ds)
    return first, 3 * n / (time.perf_counter() - t)


def _drain(ds) -> None:
    for x, _ in ds:
        x.shape  # noqa: B018 - the batch is materialized by the iterator


def model_rate(size: int, steps: int) -> float:
    """Images/s of ``model.fit`` of the default model on batches already in memory."""
    import keras
    import numpy as np
    import tensorflow as tf

    from cnnlab.build import build_model
    from cnnlab.presetlib import load_preset
    from cnnlab.train.preparation import outputs_logits

    net = build_model(load_preset("default", input_shape=[size, size, 3], classes=len(CLASSES)))
    net.compile(optimizer="adam", metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=outputs_logits(net)))
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, size, size, 3), dtype=np.float32)
    y = rng.integers(0, len(CLASSES), BATCH).astype(np.int32)
    ds = tf.data.Dataset.from_tensors((x, y)).repeat(steps).cache()
    net.fit(ds, epochs=1, verbose=0, shuffle=False)  # traces
    t = time.perf_counter()
    net.fit(ds, epochs=2, verbose=0, shuffle=False)
    return 2 * steps * BATCH / (time.perf_counter() - t)


def rates(root: Path, count: int) -> None:
    for size in (32, 96):
        folder = write_folder(root / f"px{size}", count if size == 32 else count // 2, size)
        model = model_rate(size, steps=20 if size == 32 else 10)
        print(f"{size} px: default model trains {model:,.0f} images/s")
        for kind in ("memory", "file", "none"):
            first, later = pipeline_rate(folder, size, kind, root / "cache")
            print(f"  pipeline {kind:>6}: first epoch {first:,.0f} images/s, later epochs "
                  f"{later:,.0f} images/s; pipeline / model = {later / model:.1f}x "
                  f"(first epoch {first / model:.1f}x)")


def child(mode: str, folder: str, size: int) -> None:
    """Iterate two epochs in ``mode``; print resident memory before and at the peak, as JSON."""
    import resource

    from cnnlab.data import pipeline

    splits = load(Path(folder), size)
    splits.files.cache_dir = Path(folder).parent / "cache"
    y = splits.y_train
    if mode == "float32-cache":
        ds = pipeline.batch_cached(splits.files.dataset("train", y), len(y), BATCH, True, 0)
    elif mode == "floor":
        ds = _same_shaped_zeros(len(y), splits.image_shape)
    else:
        ds = splits.files.batches("train", y, BATCH, True, 0)
    before = _resident()
    for _ in range(2):
        _drain(ds)
    note = splits.files.plan.note() if splits.files.plan else ""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"before": before, "peak": peak, "now": _resident(), "note": note}))


def _same_shaped_zeros(n: int, shape: tuple[int, int, int]):
    """Batches of zeros shaped like the images: what iterating costs without any image."""
    import tensorflow as tf

    ds = tf.data.Dataset.range(n).batch(BATCH)
    ds = ds.map(lambda i: (tf.zeros([tf.shape(i)[0], *shape]), tf.cast(i, tf.int32)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _resident() -> int:
    """VmRSS of this process in bytes (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_memory(root: Path, count: int, size: int = 96) -> None:
    folder = write_folder(root / "memory", count, size)
    float32 = count * size * size * 3 * 4
    budget = float32 // 8
    print(f"\npeak memory, {count} images at {size} px: a float32 cache holds "
          f"{float32 / 2**20:.0f} MB, uint8 {float32 / 4 / 2**20:.0f} MB; memory budget forced "
          f"to {budget / 2**20:.0f} MB (CNNLAB_DATA_MEMORY_BUDGET)")
    env = dict(os.environ, CNNLAB_DATA_MEMORY_BUDGET=str(budget))
    peaks, base = {}, None
    for mode, kind, label in (("floor", "auto", "zeros, no images (the floor)"),
                              ("float32-cache", "auto", "old float32 cache() in memory"),
                              ("auto", "auto", "new choice"),
                              ("none", "none", "streaming, no cache")):
        env["CNNLAB_DATA_CACHE"] = kind
        out = subprocess.run([sys.executable, __file__, "--child", mode, str(folder), str(size)],
                             env=env, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        base = r["before"] if base is None else base  # TensorFlow and the file list
        peaks[mode] = r["peak"] - base
        print(f"  {label:>30}: peak {r['peak'] / 2**20:,.0f} MB ({peaks[mode] / 2**20:+,.0f} MB "
              f"over the {base / 2**20:,.0f} MB of TensorFlow and the file list; after the "
              f"epochs {r['now'] / 2**20:,.0f} MB); {r['note'] or mode}")
    for mode in ("auto", "none"):
        print(f"  peak over that floor, {mode} / old float32 cache = "
              f"{peaks[mode] / max(peaks['float32-cache'], 1):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1200, help="images at 32 px (half at 96)")
    parser.add_argument("--memory-images", type=int, default=6000)
    parser.add_argument("--memory-only", action="store_true", help="skip the rates")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FOLDER", "SIZE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    os.environ["CNNLAB_HOME"] = tempfile.mkdtemp(prefix="bench-pipeline-home-")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        if not args.memory_only:
            rates(Path(tmp), args.images)
        peak_memory(Path(tmp), args.memory_images)


if __name__ == "__main__":
    main()
