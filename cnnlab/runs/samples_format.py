"""The per-sample records in a run folder: what is written where, and read back.

``RUN/samples/manifest.json`` names the recorded samples once (their ids,
split, position in the split, true class) and the classes; one
``RUN/samples/epoch_0001.npz`` per completed epoch (1-based, compressed, at most
about 12 bytes a sample) holds each sample's loss, predicted class, confidence and
top-2 margin, in the manifest's order. Every file is written atomically, an epoch only when it
completed, so a reader sees whole epochs only; it takes them from the first
recorded one up to the first gap.

Pure numpy and JSON: no TensorFlow.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlab.atomic import atomic_write_bytes, atomic_write_json
from cnnlab.errors import CnnlabError

SAMPLES_DIRNAME = "samples"
MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1
EPOCH_FILE = re.compile(r"epoch_(\d{4,6})\.npz")
EPOCH_KEYS = ("loss", "predicted", "confidence", "margin")


@dataclass
class Manifest:
    """The recorded samples, in record order, and the run's classes.

    Attributes:
        ids: Sample id of each record (see ``DataSplits.ids``).
        splits: ``"val"`` or ``"train"`` of each record.
        index: Position of each record in its split.
        true: True class index of each record.
        class_names: Class ``i`` is ``class_names[i]``.
        folder: The dataset folder of a folder source (ids are paths under it), else None.
    """

    ids: list[str]
    splits: list[str]
    index: np.ndarray
    true: np.ndarray
    class_names: list[str]
    folder: str | None = None

    def to_json(self) -> dict:
        """The JSON document of ``manifest.json``."""
        return {"version": FORMAT_VERSION, "ids": list(self.ids), "splits": list(self.splits),
                "index": [int(i) for i in self.index], "true": [int(t) for t in self.true],
                "class_names": list(self.class_names), "folder": self.folder}

    def same_samples(self, other: Manifest) -> bool:
        """Whether both name the same samples in the same order with the same classes."""
        return (self.ids == other.ids and self.splits == other.splits
                and np.array_equal(self.true, other.true)
                and self.class_names == other.class_names)


@dataclass
class EpochRecord:
    """One epoch's results, one entry per manifest record."""

    loss: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray


class SamplesError(CnnlabError):
    """A run has no per-sample records, or they cannot be read."""


def samples_dir(run_dir: str | Path) -> Path:
    """The folder of a run's per-sample records."""
    return Path(run_dir) / SAMPLES_DIRNAME


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` (creating ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / MANIFEST_NAME, manifest.to_json())


def read_manifest(folder: Path) -> Manifest | None:
    """Read ``manifest.json``; None when there is none.

    Raises:
        SamplesError: If it exists but is damaged.

    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(
            ids=[str(s) for s in doc["ids"]], splits=[str(s) for s in doc["splits"]],
            index=np.asarray(doc["index"], dtype=np.int64),
            true=np.asarray(doc["true"], dtype=np.int64),
            class_names=[str(c) for c in doc["class_names"]], folder=doc.get("folder"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SamplesError(f"the sample records in {folder} are damaged ({path.name}: "
                           f"{type(exc).__name__})") from None
    n = len(manifest.ids)
    if not (len(manifest.splits) == len(manifest.index) == len(manifest.true) == n):
        raise SamplesError(f"the sample records in {folder} are damaged ({path.name}: "
                           "lists of different lengths)")
    return manifest


def epoch_path(folder: Path, epoch: int) -> Path:
    """The file of 1-based ``epoch``."""
    return folder / f"epoch_{epoch:04d}.npz"


def write_epoch(folder: Path, epoch: int, record: EpochRecord) -> None:
    """Write the record of 1-based ``epoch`` atomically (replacing an older one)."""
    buffer = io.BytesIO()
    predicted = record.predicted.astype(np.int32)
    if not len(predicted) or predicted.max() < np.iinfo(np.int16).max:
        predicted = predicted.astype(np.int16)
    np.savez_compressed(buffer, loss=record.loss.astype(np.float32), predicted=predicted,
                        confidence=record.confidence.astype(np.float32),
                        margin=record.margin.astype(np.float32))
    atomic_write_bytes(epoch_path(folder, epoch), buffer.getvalue())


def recorded_epochs(folder: Path) -> list[int]:
    """The 1-based epochs with a record, from the first recorded up to the first gap.

    A run's records start at epoch 1; a branch (``train --fork``) starts after
    its parent's epochs.
    """
    found = set()
    if folder.is_dir():
        for path in folder.iterdir():
            match = EPOCH_FILE.fullmatch(path.name)
            if match:
                found.add(int(match.group(1)))
    if not found:
        return []
    epochs = [min(found)]
    while epochs[-1] + 1 in found:
        epochs.append(epochs[-1] + 1)
    return epochs


def remove_epochs_after(folder: Path, epoch: int) -> None:
    """Remove the records of epochs after ``epoch`` (a resumed run trains them again)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        match = EPOCH_FILE.fullmatch(path.name)
        if match and int(match.group(1)) > epoch:
            path.unlink(missing_ok=True)


def read_epoch(folder: Path, epoch: int, n: int) -> EpochRecord:
    """Read 1-based ``epoch``'s record of ``n`` samples.

    Raises:
        SamplesError: If the file is damaged or does not hold ``n`` samples.

    """
    from cnnlab.data.npz_file import read_npz
    from cnnlab.errors import DataError

    path = epoch_path(folder, epoch)
    try:
        arrays = read_npz(path, EPOCH_KEYS)
    except DataError as exc:
        raise SamplesError(f"the sample records are damaged: {exc}") from None
    if any(arrays[k].shape != (n,) for k in EPOCH_KEYS):
        raise SamplesError(f"the sample records are damaged: {path} does not hold {n} samples")
    return EpochRecord(**{k: arrays[k] for k in EPOCH_KEYS})
