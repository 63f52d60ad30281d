"""TensorFlow parts of the data path: resizing arrays and tf.data pipelines.

TensorFlow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

_RESIZE_CHUNK = 1024


def resize_images(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize float images (N, H, W, C) to ``size`` (bilinear, antialiased), in chunks.

    Args:
        x: float32 images.
        size: Target (height, width).

    Returns:
        float32 images of shape (N, size[0], size[1], C); ``x`` itself if the size matches.

    """
    if tuple(x.shape[1:3]) == tuple(size):
        return x
    import tensorflow as tf

    out = np.empty((len(x), size[0], size[1], x.shape[-1]), dtype=np.float32)
    for start in range(0, len(x), _RESIZE_CHUNK):
        chunk = tf.convert_to_tensor(x[start : start + _RESIZE_CHUNK])
        out[start : start + _RESIZE_CHUNK] = tf.image.resize(
            chunk, size, method="bilinear", antialias=True
        ).numpy()
    return out


def array_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """Return a batched, prefetched dataset over in-memory arrays.

    The arrays are held once as tensors; an index stream is shuffled (a new
    order every epoch, reproducible from ``seed``) and each batch is gathered.
    No ``cache()``: the data already sit in memory, and caching would only
    copy them.
    """
    import tensorflow as tf

    x_t = tf.constant(x)
    y_t = tf.constant(y)
    ds = tf.data.Dataset.range(len(x))
    if shuffle and len(x) > 1:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def gather(idx):
        return tf.gather(x_t, idx), tf.gather(y_t, idx)

    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def index_stream(size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Sample indices 0..size-1, in a new reproducible order every epoch with ``shuffle``.

    Every folder pipeline (memory, file cache, streaming) draws from this one
    stream, so with the same seed all three give the same batches.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.range(size)
    if shuffle and size > 1:
        ds = ds.shuffle(size, seed=seed, reshuffle_each_iteration=True)
    return ds


def gathered_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int,
    to_float: Callable[[tf.Tensor], tf.Tensor],
) -> tf.data.Dataset:
    """Batches gathered from decoded uint8 ``images`` (an array in memory or a memory map).

    The array is read through ``tf.numpy_function``, so TensorFlow never copies
    it; only each batch becomes a tensor, converted to float32 by ``to_float``.
    """
    import tensorflow as tf

    shape = [None, *images.shape[1:]]
    labels_t = tf.constant(labels.astype(np.int32))

    def take(idx: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(images[idx])

    def gather(idx):
        batch = tf.numpy_function(take, [idx], tf.uint8, stateful=False)
        batch.set_shape(shape)
        return to_float(batch), tf.gather(labels_t, idx)

    ds = index_stream(len(labels), shuffle, seed).batch(batch_size)
    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def streamed_batches(
    paths: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int,
    decode: Callable[[tf.Tensor], tf.Tensor], to_float: Callable[[tf.Tensor], tf.Tensor],
) -> tf.data.Dataset:
    """Batches decoded from the files every epoch: parallel reads and decoding, prefetched."""
    import tensorflow as tf

    paths_t = tf.constant(paths)
    labels_t = tf.constant(labels.astype(np.int32))

    def load(i):
        return decode(tf.gather(paths_t, i)), tf.gather(labels_t, i)

    ds = index_stream(len(labels), shuffle, seed)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
    ds = ds.map(lambda x, y: (to_float(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def decoded_images(
    paths: np.ndarray, decode: Callable[[tf.Tensor], tf.Tensor], chunk: int = 256
) -> tf.data.Dataset:
    """The uint8 images of ``paths`` in file order, in chunks, decoded in parallel."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(paths)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(chunk).prefetch(2)


def batch_cached(
    ds: tf.data.Dataset, size: int, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """Cache an unbatched dataset of decoded samples, then shuffle, batch and prefetch it.

    The float32 cache of samples that :class:`~cnnlab.data.folder.FolderFiles`
    replaced with :meth:`~cnnlab.data.folder.FolderFiles.batches` (uint8, within
    a memory budget); kept for callers that bring their own dataset.
    """
    import tensorflow as tf

    ds = ds.cache()
    if shuffle and size > 1:
        ds = ds.shuffle(min(size, 8192), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def check_batching(batch_size: int) -> None:
    """Raise ValueError for a batch size below 1 (a caller bug, not a user error)."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
