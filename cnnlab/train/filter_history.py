"""Per-epoch snapshots of convolution kernels, so a run's filters can be replayed.

Each snapshot is ``<run_dir>/filters/epoch_NNN.npz`` (``epoch_000`` is the
initial weights, ``epoch_N`` the weights after epoch N), one float16 array per
convolution layer, written atomically. Large kernels are skipped so a
snapshot of ResNet-50 stays small.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from cnnlab.atomic import atomic_write_bytes

DIRNAME = "filters"
MAX_VALUES_PER_LAYER = 300_000
MAX_VALUES_PER_SNAPSHOT = 2_000_000
_NAME = re.compile(r"epoch_(\d+)\.npz$")


def conv_kernels(model) -> dict[str, np.ndarray]:
    """The kernels of the model's convolution layers, within the size budget."""
    out: dict[str, np.ndarray] = {}
    budget = MAX_VALUES_PER_SNAPSHOT
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            kernel = getattr(layer, "depthwise_kernel", None)
        if kernel is None or len(kernel.shape) != 4 or "Conv" not in type(layer).__name__:
            continue
        size = int(np.prod(kernel.shape))
        if size > MAX_VALUES_PER_LAYER or size > budget:
            continue
        budget -= size
        out[layer.name] = np.asarray(kernel.numpy(), dtype=np.float16)
    return out


def save_snapshot(run_dir: str | Path, epoch: int, kernels: dict[str, np.ndarray]) -> Path:
    """Write one snapshot atomically and return its path."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **kernels)
    path = Path(run_dir) / DIRNAME / f"epoch_{epoch:03d}.npz"
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_history(run_dir: str | Path) -> list[tuple[int, dict[str, np.ndarray]]]:
    """All snapshots of a run as ``[(epoch, {layer: kernel})]`` sorted by epoch."""
    folder = Path(run_dir) / DIRNAME
    out = []
    for path in sorted(folder.glob("epoch_*.npz")) if folder.is_dir() else []:
        match = _NAME.search(path.name)
        if match:
            with np.load(path) as data:
                out.append((int(match.group(1)), {k: data[k].astype(np.float32) for k in data}))
    return sorted(out, key=lambda item: item[0])


def make_callback(run_dir: str | Path):
    """A Keras callback that snapshots the kernels before training and after each epoch."""
    import keras

    class FilterHistory(keras.callbacks.Callback):
        """Snapshots conv kernels to ``run_dir/filters``."""

        def on_train_begin(self, logs=None):
            start = Path(run_dir) / DIRNAME / "epoch_000.npz"
            if not start.exists():
                save_snapshot(run_dir, 0, conv_kernels(self.model))

        def on_epoch_end(self, epoch, logs=None):
            save_snapshot(run_dir, epoch + 1, conv_kernels(self.model))

    return FilterHistory()
