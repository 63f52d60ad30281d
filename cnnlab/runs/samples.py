"""Reading a run's per-sample records: losses, predictions, learning and forgetting.

:func:`read_samples` reads what the training observer
(:mod:`cnnlab.train.sample_records`) wrote in the run folder (see
:mod:`cnnlab.runs.samples_format`) into a :class:`SampleTable`, whose
:meth:`~SampleTable.rows` sort and filter the samples for ``cnnlab runs
samples`` and the window's gallery. A sample is *learned* in an epoch when
its predicted class is its true class; it is *forgotten* each time a learned
sample is predicted wrongly again in a later epoch.

Pure numpy: no TensorFlow, no Qt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cnnlab.runs.samples_format import (
    SamplesError,
    read_epoch,
    read_manifest,
    recorded_epochs,
    samples_dir,
)

SORTS = ("loss", "wrong-confident", "ambiguous", "forgotten")
SPLIT_NAMES = ("val", "train")


@dataclass(frozen=True)
class SampleRow:
    """One sample as the last recorded epoch saw it.

    Attributes:
        id: The sample id (``cat/img001.png`` or ``train[12]``).
        split: ``"val"`` or ``"train"``.
        index: Position of the sample in its split.
        true: True class name.
        predicted: Predicted class name.
        loss: The model's loss on this sample.
        confidence: The predicted class's probability.
        first_learned: First epoch (1-based) predicted right, or None.
        forgotten: How often it went from right to wrong between epochs.
        file: The image file (absolute) of a folder sample, else None.
    """

    id: str
    split: str
    index: int
    true: str
    predicted: str
    loss: float
    confidence: float
    first_learned: int | None
    forgotten: int
    file: str | None

    def to_json(self) -> dict:
        """The row as JSON-ready data."""
        return asdict(self)


class SampleTable:
    """Every recorded sample over every recorded epoch.

    Attributes:
        class_names: Class ``i`` is ``class_names[i]``.
        epochs: Number of recorded epochs.
        first_epoch: The 1-based number of the first recorded epoch (1, or
            later for a branch of another run).
        ids: The sample ids in record order.
    """

    def __init__(self, manifest, records: list, first_epoch: int = 1) -> None:
        self.class_names = list(manifest.class_names)
        self.epochs = len(records)
        self.first_epoch = int(first_epoch)
        self.ids = list(manifest.ids)
        self._splits = list(manifest.splits)
        self._index = manifest.index
        self._true = manifest.true
        self._folder = manifest.folder
        self._loss = np.stack([r.loss for r in records])
        self._predicted = np.stack([r.predicted for r in records]).astype(np.int64)
        self._confidence = np.stack([r.confidence for r in records])
        self._margin = np.stack([r.margin for r in records])
        correct = self._predicted == self._true[None, :]
        learned = correct.any(axis=0)
        self._first_learned = np.where(learned, correct.argmax(axis=0) + self.first_epoch, 0)
        self._forgotten = (correct[:-1] & ~correct[1:]).sum(axis=0)
        self._position = {sample: i for i, sample in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def losses(self) -> np.ndarray:
        """Every recorded loss: (epochs, samples), samples in record order (a copy)."""
        return self._loss.copy()

    def rows(self, sort: str = "loss", true_class: str | None = None,
             predicted_class: str | None = None, split: str | None = None,
             limit: int | None = None) -> list[SampleRow]:
        """The samples of the last epoch, filtered and sorted.

        Args:
            sort: ``loss`` (highest first), ``wrong-confident`` (wrong
                predictions first, the most confident first), ``ambiguous``
                (smallest gap between the two likeliest classes first) or
                ``forgotten`` (most often forgotten first, then by loss).
            true_class: Only samples of this true class (a name).
            predicted_class: Only samples predicted as this class (a name).
            split: Only ``"val"`` or ``"train"`` samples; None for both.
            limit: At most this many rows.

        Raises:
            SamplesError: For an unknown sort, class or split.

        """
        order = self._order(sort)
        keep = np.ones(len(self), dtype=bool)
        if true_class is not None:
            keep &= self._true == self._class_index(true_class)
        if predicted_class is not None:
            keep &= self._predicted[-1] == self._class_index(predicted_class)
        if split is not None:
            if split not in SPLIT_NAMES:
                raise SamplesError(f"split must be val or train, got {split!r}")
            keep &= np.array([s == split for s in self._splits], dtype=bool)
        chosen = [int(i) for i in order if keep[i]]
        if limit is not None:
            chosen = chosen[: max(int(limit), 0)]
        return [self._row(i) for i in chosen]

    def loss_curve(self, sample_id: str) -> list[float]:
        """The loss of one sample in each recorded epoch.

        Raises:
            SamplesError: If the sample was not recorded.

        """
        return [float(v) for v in self._loss[:, self._find(sample_id)]]

    def row(self, sample_id: str) -> SampleRow:
        """One sample's row (last epoch).

        Raises:
            SamplesError: If the sample was not recorded.

        """
        return self._row(self._find(sample_id))

    def _find(self, sample_id: str) -> int:
        try:
            return self._position[sample_id]
        except KeyError:
            raise SamplesError(f"no recorded sample {sample_id!r}") from None

    def _class_index(self, name: str) -> int:
        if name not in self.class_names:
            raise SamplesError(f"no class {name!r} (classes: {', '.join(self.class_names)})")
        return self.class_names.index(name)

    def _order(self, sort: str) -> np.ndarray:
        """Record positions in the order of ``sort`` (ties keep the record order)."""
        loss, conf, margin = self._loss[-1], self._confidence[-1], self._margin[-1]
        wrong = self._predicted[-1] != self._true
        nan_last = np.where(np.isnan(loss), np.inf, -loss)
        if sort == "loss":
            keys = (nan_last,)
        elif sort == "wrong-confident":
            keys = (-conf, ~wrong)
        elif sort == "ambiguous":
            keys = (margin,)
        elif sort == "forgotten":
            keys = (nan_last, -self._forgotten)
        else:
            raise SamplesError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
        return np.lexsort(keys)

    def _row(self, i: int) -> SampleRow:
        first = int(self._first_learned[i])
        sample = self.ids[i]
        file = str(Path(self._folder) / sample) if self._folder else None
        return SampleRow(
            id=sample, split=self._splits[i], index=int(self._index[i]),
            true=self.class_names[int(self._true[i])],
            predicted=self.class_names[int(self._predicted[-1, i])],
            loss=float(self._loss[-1, i]), confidence=float(self._confidence[-1, i]),
            first_learned=first or None, forgotten=int(self._forgotten[i]), file=file)


def read_samples(run_dir: str | Path, max_epochs: int | None = None) -> SampleTable:
    """Read the per-sample records of the run in ``run_dir``.

    Args:
        run_dir: The run folder.
        max_epochs: Read no epoch after this one (the run's completed epochs:
            a record of an epoch the run does not count is ignored).

    Raises:
        SamplesError: If the run has no records (or none of a completed
            epoch), or they are damaged.

    """
    folder = samples_dir(run_dir)
    manifest = read_manifest(folder)
    if manifest is None:
        raise SamplesError(f"the run in {run_dir} has no per-sample records")
    epochs = recorded_epochs(folder)
    if max_epochs is not None:
        epochs = [e for e in epochs if e <= int(max_epochs)]
    if not epochs:
        raise SamplesError(f"the run in {run_dir} has no per-sample records yet "
                           "(no epoch completed)")
    n = len(manifest.ids)
    if n and (manifest.true.min() < 0 or manifest.true.max() >= len(manifest.class_names)):
        raise SamplesError(f"the sample records in {folder} are damaged (a class out of range)")
    records = [read_epoch(folder, e, n) for e in epochs]
    for r in records:
        if n and (r.predicted.min() < 0 or r.predicted.max() >= len(manifest.class_names)):
            raise SamplesError(f"the sample records in {folder} are damaged "
                               "(a predicted class out of range)")
    return SampleTable(manifest, records, first_epoch=epochs[0])
