"""Branching a run: a child run that starts from its parent's checkpoint at one epoch.

``cnnlab train SPEC --fork RUN[@EPOCH]`` (and the window's steer dialog)
start a *child* run from the parent's kept checkpoint after EPOCH completed
epochs (default: the last one kept), weights and optimizer state, with its
own spec. The difference between the two specs is the *steer* (a lower
learning rate, another schedule, more base layers unfrozen, augmentation on
or off, more epochs). The parent is only read, never written.

The child's epochs continue the parent's numbering: its first epoch is
EPOCH (0-based), so its curves start where the parent's were cut, and its
spec's ``training.epochs`` counts from the parent's start. The link is the
``fork`` entry of the child's ``metadata.json``: ``{"parent", "epoch",
"steer"}`` (what :class:`cnnlab.runs.records.RunRecord` reads as ``parent``
and ``fork_epoch``).

This module imports neither Keras nor TensorFlow (the window uses
:func:`fork_epochs`, :func:`branch_spec` and :func:`steer_label`); putting
the parent's state into the child's model is :mod:`cnnlab.train.graft`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.errors import RunError
from cnnlab.runs.records import FORK_KEY
from cnnlab.train.checkpoints import Checkpoints, CheckpointState

_FORK_TEXT = re.compile(r"^(?P<run>[^@\s]+)(?:@(?P<epoch>\d{1,7}))?$")
# What "augmentation on" adds to a spec that has none: a flip and a small shift.
DEFAULT_AUGMENTATION = (
    {"type": "RandomFlip", "params": {"mode": "horizontal"}},
    {"type": "RandomTranslation", "params": {"height_factor": 0.1, "width_factor": 0.1}},
)


@dataclass(frozen=True)
class ForkPoint:
    """Where a child run starts: a parent's kept checkpoint after ``epoch`` epochs.

    Attributes:
        parent: The parent run's id.
        epoch: Completed epochs of the parent at the fork (the child's first
            epoch, 0-based).
        checkpoint: The kept ``.keras`` file (weights and optimizer state).
        state: That checkpoint's ``state.json``.
        parent_spec: The parent's spec snapshot (JSON data).
    """

    parent: str
    epoch: int
    checkpoint: Path
    state: CheckpointState
    parent_spec: Mapping[str, Any]

    def metadata(self, child_spec: Mapping[str, Any]) -> dict[str, Any]:
        """The child's ``metadata.json`` entry (under :data:`FORK_KEY`)."""
        return {"parent": self.parent, "epoch": self.epoch,
                "steer": steer_lines(self.parent_spec, child_spec)}


def parse_fork(text: str) -> tuple[str, int | None]:
    """``RUN`` or ``RUN@EPOCH`` as (run id, epoch or None).

    Raises:
        RunError: The text is neither.
    """
    found = _FORK_TEXT.match(str(text).strip())
    if not found:
        raise RunError(f"--fork takes RUN or RUN@EPOCH (a run id, then the number of "
                       f"completed epochs to branch after), not {text!r}")
    epoch = found.group("epoch")
    return found.group("run"), None if epoch is None else int(epoch)


def fork_epochs(store: Any, run_id: str) -> list[int]:
    """The epochs a run can be branched after (completed-epoch counts), ascending.

    A run trained before epochs were kept offers its last checkpoint only.
    """
    ckpt = Checkpoints(store.run_dir(run_id) / "checkpoints")
    kept = ckpt.kept_epochs()
    state = ckpt.read_state()
    if state is not None and state.epochs_done and state.epochs_done not in kept:
        kept.append(state.epochs_done)
    return sorted(kept)


def resolve_fork(store: Any, text: str) -> ForkPoint:
    """The fork point ``RUN[@EPOCH]`` names (default: the last kept epoch).

    Raises:
        RunError: Unknown run, a run with no checkpoint, or an epoch not kept
            (the message names the epochs that are).
    """
    run_id, epoch = parse_fork(text)
    store.get(run_id)  # an unknown id is one line naming it
    kept = fork_epochs(store, run_id)
    if not kept:
        raise RunError(f"run {run_id} has no checkpoint to branch from (it never "
                       f"completed an epoch)")
    epoch = kept[-1] if epoch is None else epoch
    if epoch not in kept:
        raise RunError(f"run {run_id} has no checkpoint after epoch {epoch}; it can be "
                       f"branched after epoch {_epoch_list(kept)}")
    ckpt = Checkpoints(store.run_dir(run_id) / "checkpoints")
    path, state = ckpt.epoch_path(epoch), ckpt.epoch_state(epoch)
    if state is None:  # the last checkpoint of a run from before epochs were kept
        path, state = ckpt.last_path, ckpt.read_state()
    return ForkPoint(run_id, epoch, path, state, store.spec(run_id))


def check_child(point: ForkPoint, spec: Any, epochs: int) -> None:
    """Refuse a child that cannot continue the parent (before anything is built).

    Raises:
        RunError: The child would train no epoch, or uses another optimizer
            (whose state cannot carry over).
    """
    if epochs <= point.epoch:
        raise RunError(f"the branch would train nothing: it continues run {point.parent} "
                       f"after epoch {point.epoch}, so its epochs (now {epochs}) must be more "
                       f"than {point.epoch}")
    parent = point.parent_spec.get("training", {}).get("optimizer", {}).get("name", "adam")
    child = spec.training.optimizer.name
    if parent != child:
        raise RunError(f"run {point.parent} was trained with {parent}, this experiment uses "
                       f"{child}: a branch keeps the optimizer (its state carries over); "
                       f"change the rate or schedule instead")


def fork_point_of(store: Any, record: Any) -> ForkPoint | None:
    """The fork point of a child run (from its metadata), or None for a run that is none."""
    link = record.metadata.get(FORK_KEY) if record.metadata else None
    if not isinstance(link, dict) or not link.get("parent"):
        return None
    return resolve_fork(store, f"{link['parent']}@{int(link.get('epoch', 0))}")


def steer_lines(parent_spec: Mapping[str, Any], child_spec: Mapping[str, Any]) -> list[str]:
    """What the child changes, one line each (``training.optimizer.learning_rate: ...``)."""
    from cnnlab.spec.diff import diff_specs

    return diff_specs(dict(parent_spec), dict(child_spec)).lines()


def steer_label(parent_spec: Mapping[str, Any], child_spec: Mapping[str, Any]) -> str:
    """The steer in a few words: ``lr 0.001``, ``epochs 8, unfreeze 2``."""
    from cnnlab.spec.diff import change_label, diff_specs

    return change_label(diff_specs(dict(parent_spec), dict(child_spec)))


def branch_spec(parent_spec: Mapping[str, Any], *, fork_epoch: int,
                learning_rate: float | None = None, schedule: str | None = None,
                unfreeze_more: int = 0, augmentation: bool | None = None,
                more_epochs: int = 0) -> dict[str, Any]:
    """The child's spec: the parent's with the steer applied (JSON data, not validated).

    Args:
        parent_spec: The parent's spec snapshot.
        fork_epoch: Completed epochs of the parent at the fork.
        learning_rate: A new base rate (None keeps it).
        schedule: A new schedule name (None keeps it).
        unfreeze_more: Unfreeze this many more top base layers (fine-tuning).
        augmentation: True turns augmentation on (the parent's layers, or
            :data:`DEFAULT_AUGMENTATION`), False off (layers, MixUp and CutMix);
            None keeps it.
        more_epochs: Train this many epochs after the fork point beyond what
            the parent still had planned (the child's total: at least one
            epoch after the fork).

    """
    spec = copy.deepcopy(dict(parent_spec))
    training = spec.setdefault("training", {})
    if learning_rate is not None:
        training.setdefault("optimizer", {})["learning_rate"] = float(learning_rate)
    if schedule is not None:
        training.setdefault("schedule", {})["name"] = schedule
    if unfreeze_more:
        _unfreeze_more(training.setdefault("transfer", {}), int(unfreeze_more))
    if augmentation is not None:
        _switch_augmentation(training.setdefault("augmentation", {}), augmentation)
    epochs = int(training.get("epochs", fork_epoch))
    training["epochs"] = max(epochs + int(more_epochs), fork_epoch + 1)
    return spec


def _unfreeze_more(transfer: dict, count: int) -> None:
    """Fine-tune ``count`` more top base layers (a whole-base fine-tune stays whole)."""
    if transfer.get("strategy") == "fine_tune" and not transfer.get("unfreeze"):
        return  # unfreeze 0 already trains the whole base
    transfer["strategy"] = "fine_tune"
    transfer["unfreeze"] = int(transfer.get("unfreeze") or 0) + count


def _switch_augmentation(aug: dict, on: bool) -> None:
    if on:
        if not aug.get("layers") and not _mixing(aug):
            aug["layers"] = [copy.deepcopy(layer) for layer in DEFAULT_AUGMENTATION]
        return
    aug["layers"] = []
    for mix in ("mixup", "cutmix"):
        if isinstance(aug.get(mix), dict):
            aug[mix]["enabled"] = False


def _mixing(aug: dict) -> bool:
    return any(isinstance(aug.get(m), dict) and aug[m].get("enabled") for m in ("mixup",
                                                                               "cutmix"))


@dataclass(frozen=True)
class SteerOptions:
    """What a steer dialog offers for one parent run.

    Attributes:
        epochs: The epochs it can be branched after (:func:`fork_epochs`).
        learning_rate: The parent's base rate.
        schedule: The parent's schedule name.
        schedules: Every schedule name.
        epochs_planned: The parent's ``training.epochs``.
        has_base: The network has transfer-base blocks (more can be unfrozen).
        unfreeze: The parent's unfrozen top base layers (0: none or all).
        augmentation: The parent trains with augmentation.
    """

    epochs: tuple[int, ...]
    learning_rate: float
    schedule: str
    schedules: tuple[str, ...]
    epochs_planned: int
    has_base: bool
    unfreeze: int
    augmentation: bool


def steer_options(store: Any, run_id: str) -> SteerOptions:
    """The choices a steer dialog offers for run ``run_id`` (read from its spec and folder)."""
    from cnnlab.recipe.transfer import base_block_ids
    from cnnlab.spec.load import experiment_from_dict
    from cnnlab.spec.sections import SCHEDULES

    spec = store.spec(run_id)
    exp = experiment_from_dict(spec)
    t = exp.training
    return SteerOptions(tuple(fork_epochs(store, run_id)), float(t.optimizer.learning_rate),
                        t.schedule.name, tuple(SCHEDULES), int(t.epochs),
                        bool(base_block_ids(exp)), int(t.transfer.unfreeze),
                        augmentation_on(spec))


def augmentation_on(spec: Mapping[str, Any]) -> bool:
    """Whether a spec trains with augmentation (layers, MixUp or CutMix)."""
    aug = spec.get("training", {}).get("augmentation", {})
    return bool(aug.get("layers")) or _mixing(aug)


def _epoch_list(kept: list[int]) -> str:
    if len(kept) > 8:
        return f"{kept[0]} to {kept[-1]} ({len(kept)} kept)"
    return ", ".join(str(n) for n in kept)
