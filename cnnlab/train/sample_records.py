"""Per-sample records: each epoch, every validation sample's and some training samples' results.

At the end of every completed epoch the observer predicts (``training=False``,
so augmentation and dropout are off) the validation split in order and a
fixed, seeded sample of the training split (:func:`train_sample_size`: up
to :data:`TRAIN_SAMPLES`), and
records each one's loss (the model's own loss, computed from the
predictions in numpy), predicted class, confidence and top-2 margin in the
run folder (:mod:`cnnlab.runs.samples_format`). An epoch cut short (stop,
NaN) is not recorded; a resumed run drops the records of the epochs it
trains again and continues. :func:`cnnlab.runs.samples.read_samples` reads
them back.

Like every observer, it never fails a run: its first error turns it off with
a warning (:class:`cnnlab.train.callbacks.BestEffort`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any

import keras
import numpy as np

from cnnlab.runs.samples_format import (
    EpochRecord,
    Manifest,
    read_manifest,
    remove_epochs_after,
    samples_dir,
    write_epoch,
    write_manifest,
)

LOG = logging.getLogger("cnnlab.train")
TRAIN_SAMPLES = 2000  # the most training samples recorded
MIN_TRAIN_SAMPLES = 500  # a training set up to this size is recorded whole
CACHE_BYTES = 256 << 20  # a recorded set is kept decoded (float32) when it fits in this
PREDICT_PIXELS = 1 << 20  # values per prediction batch (256 images of 32x32x3)
MAX_PREDICT_BATCH = 512
EAGER_EPOCHS = 3  # epochs recorded by eager calls before predict's traced function pays off
EPSILON = 1e-7  # Keras's probability clip


def callbacks(session: Any, ctx: Any) -> list:
    """The recorder of one ``fit`` of ``session`` (wrapped so it can never fail the run)."""
    from cnnlab.train.callbacks import BestEffort

    return [BestEffort(SampleRecorder(session, ctx), session.net)]


def train_sample_size(n_train: int) -> int:
    """How many training samples are recorded: a quarter of them, at least 500, at most 2,000.

    A small training set is recorded whole; the quarter keeps the extra
    predictions a small part of an epoch (they cost about a third of a
    training step each).
    """
    return min(n_train, TRAIN_SAMPLES, max(MIN_TRAIN_SAMPLES, n_train // 4))


def record_sample(n_train: int, seed: int) -> np.ndarray:
    """Positions (increasing) of the training samples recorded: a fixed, seeded sample."""
    size = train_sample_size(n_train)
    if size >= n_train:
        return np.arange(n_train, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_train, size=size, replace=False)).astype(np.int64)


class SampleRecorder(keras.callbacks.Callback):
    """Writes the per-sample record of every completed epoch (see the module docstring).

    Its model is the network itself (no augmentation wrapper).
    """

    def __init__(self, session: Any, ctx: Any):
        super().__init__()
        self.session = session
        self.ctx = ctx
        self.folder = samples_dir(session.store.run_dir(ctx.run_id))
        self.seconds: list[float] = []  # time spent per recorded epoch
        self._manifest: Manifest | None = None
        self._train_positions: np.ndarray | None = None
        self._sets: list | None = None
        self._calls = 0  # datasets predicted so far

    def on_train_begin(self, logs=None):
        """Write the manifest (or check a resumed run's) and drop epochs to be trained again."""
        data = self.session.data
        seed = self.session.training.seed
        self._train_positions = record_sample(data.sizes["train"], seed)
        manifest = _manifest(data, self._train_positions)
        old = read_manifest(self.folder)
        if old is not None and not old.same_samples(manifest):
            raise RuntimeError("the resumed run's samples differ from its records")
        if old is None:
            write_manifest(self.folder, manifest)
        remove_epochs_after(self.folder, int(self.ctx.epochs_done))
        self._manifest = manifest

    def on_epoch_end(self, epoch, logs=None):
        """Record a completed, finite epoch (1-based file number ``epoch + 1``)."""
        loss = (logs or {}).get("loss")
        if self.ctx.stopped_mid_epoch or self.ctx.nan is not None:
            return
        if loss is None or not math.isfinite(float(loss)):
            return
        started = time.monotonic()
        outputs = self._predict()
        write_epoch(self.folder, epoch + 1, self._record(outputs))
        self.seconds.append(time.monotonic() - started)

    def _predict(self) -> np.ndarray:
        """The network's outputs for the recorded samples, in the manifest's order."""
        if self._sets is None:
            self._sets = self._datasets()
        parts = [self._outputs(ds) for ds in self._sets]
        return np.concatenate(parts) if parts else np.zeros((0, self.session.data.num_classes))

    def _outputs(self, dataset: Any) -> np.ndarray:
        """The network's outputs: eager calls for the first epochs, then ``predict``.

        ``predict`` traces a function per model, which costs as much as several
        epochs of eager calls on the records; a short run never repays it.
        """
        self._calls += 1
        if self._calls > EAGER_EPOCHS * max(1, len(self._sets or ())):
            return np.asarray(self.model.predict(dataset, verbose=0), dtype=np.float32)
        parts = [np.asarray(self.model(x, training=False), dtype=np.float32)
                 for x, *_ in dataset]
        return np.concatenate(parts) if parts else np.zeros((0, self.session.data.num_classes),
                                                            dtype=np.float32)

    def _datasets(self) -> list:
        """The validation split and the training sample in large batches (built once a fit).

        Small sets are kept decoded and predicted in batches of up to
        :data:`PREDICT_PIXELS` pixels (fewer, larger steps); a large validation
        split is read from the training's own (cached) validation pipeline.
        """
        data, training = self.session.data, self.session.training
        pixels = int(np.prod(data.image_shape))
        batch = max(training.batch_size, min(MAX_PREDICT_BATCH, PREDICT_PIXELS // pixels))
        out = []
        n_val = data.sizes["val"]
        if n_val and n_val * 4 * pixels <= CACHE_BYTES:
            out.append(data.subset_dataset("val", np.arange(n_val), batch, cache=True))
        elif n_val:
            out.append(self.session.sets.val)
        if len(self._train_positions):
            small = len(self._train_positions) * 4 * pixels <= CACHE_BYTES
            out.append(data.subset_dataset("train", self._train_positions, batch, cache=small))
        return out

    def _record(self, outputs: np.ndarray) -> EpochRecord:
        from cnnlab.train.preparation import outputs_logits

        training = self.session.training
        probs, losses = sample_losses(outputs, self._manifest.true, loss_kind(training),
                                      from_logits=outputs_logits(self.model),
                                      label_smoothing=float(training.label_smoothing))
        top2 = np.sort(probs, axis=1)[:, -2:] if probs.shape[1] > 1 else probs
        return EpochRecord(loss=losses, predicted=probs.argmax(axis=1),
                           confidence=probs.max(axis=1), margin=top2[:, -1] - top2[:, 0])


def _manifest(data: Any, train_positions: np.ndarray) -> Manifest:
    """The recorded samples: the validation split in order, then the training sample."""
    val_n = data.sizes["val"]
    val_ids, train_ids = data.ids("val"), data.ids("train")
    ids = [*val_ids, *(train_ids[int(i)] for i in train_positions)]
    splits = ["val"] * val_n + ["train"] * len(train_positions)
    index = np.concatenate([np.arange(val_n, dtype=np.int64), train_positions])
    true = np.concatenate([data.labels("val"), data.labels("train")[train_positions]])
    folder = os.path.abspath(data.folder) if data.folder else None  # files named absolutely
    return Manifest(ids=ids, splits=splits, index=index, true=true.astype(np.int64),
                    class_names=list(data.class_names), folder=folder)


def loss_kind(training: Any) -> str:
    """``sparse``, ``categorical`` or ``squared_hinge``: the loss the run's recipe compiles."""
    from cnnlab.recipe.losses import uses_hinge, uses_one_hot

    if uses_hinge(training):
        return "squared_hinge"
    return "categorical" if uses_one_hot(training) else "sparse"


def sample_losses(outputs: np.ndarray, true: np.ndarray, kind: str, from_logits: bool,
                  label_smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample loss as Keras computes it, and class probabilities, from model outputs.

    Args:
        outputs: (N, K) model outputs: probabilities, or logits with ``from_logits``
            (for the squared hinge: the raw scores).
        true: (N,) true class indices.
        kind: ``sparse``, ``categorical`` (one-hot, with ``label_smoothing``) or
            ``squared_hinge`` (labels +-1).
        from_logits: Whether ``outputs`` are logits.
        label_smoothing: The categorical loss's smoothing.

    Returns:
        (probabilities (N, K), losses (N,)), float32. For the squared hinge the
        probabilities are the softmax of the scores.

    """
    outputs = np.asarray(outputs, dtype=np.float64)
    n, k = outputs.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), true] = 1.0
    if kind == "squared_hinge" or from_logits:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        probs = np.exp(log_probs)
    else:
        probs = outputs / np.maximum(outputs.sum(axis=1, keepdims=True), EPSILON)
        log_probs = np.log(np.clip(probs, EPSILON, 1.0 - EPSILON))
    if kind == "squared_hinge":
        signs = 2.0 * onehot - 1.0
        losses = np.mean(np.maximum(1.0 - signs * outputs, 0.0) ** 2, axis=1)
    elif kind == "categorical":
        target = onehot * (1.0 - label_smoothing) + label_smoothing / k
        losses = -(target * log_probs).sum(axis=1)
    else:
        losses = -log_probs[np.arange(n), true]
    return probs.astype(np.float32), losses.astype(np.float32)
