"""Run records: what the index knows of one run, and how lists of them are filtered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.errors import RunError
from cnnlab.runs.workspace import iso_time

STATUSES = ("running", "finished", "stopped", "interrupted", "failed")
RUNNING, FINISHED, STOPPED, INTERRUPTED, FAILED = STATUSES
ORDERS = ("created", "name", "best_val_accuracy", "status")
BEST_METRIC = "val_accuracy"
CHECKPOINTS_DIRNAME = "checkpoints"
MODEL_FILENAME = "model.keras"
FORK_KEY = "fork"  # metadata of a branched run: {"parent", "epoch", "steer"}


@dataclass(frozen=True)
class RunRecord:
    """One run as the index knows it. Times are seconds since the epoch (UTC)."""

    id: str
    name: str
    status: str
    run_dir: Path
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    epochs_done: int = 0
    epochs_planned: int | None = None
    best_val_accuracy: float | None = None
    device: str | None = None
    seed: int | None = None
    label: str | None = None
    params: int | None = None
    macs: int | None = None
    tags: tuple[str, ...] = ()
    message: str | None = None
    pid: int | None = None
    hostname: str | None = None
    heartbeat_at: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    test_top5: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def checkpoint_dir(self) -> Path:
        """The folder for the trainer's checkpoints (may not exist yet)."""
        return self.run_dir / CHECKPOINTS_DIRNAME

    @property
    def model_path(self) -> Path:
        """Where the trained ``model.keras`` goes."""
        return self.run_dir / MODEL_FILENAME

    @property
    def parent(self) -> str | None:
        """The run this one was branched from (``metadata.json``'s ``fork``), or None."""
        link = self.metadata.get(FORK_KEY)
        parent = link.get("parent") if isinstance(link, Mapping) else None
        return str(parent) if parent else None

    @property
    def fork_epoch(self) -> int | None:
        """The parent's completed epochs at the branch (this run's first epoch), or None."""
        link = self.metadata.get(FORK_KEY)
        epoch = link.get("epoch") if isinstance(link, Mapping) and self.parent else None
        return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None

    @property
    def deterministic(self) -> bool:
        """Whether the run was trained reproducibly (``training.deterministic``)."""
        return self.metadata.get("deterministic") is True

    def to_json(self) -> dict[str, Any]:
        """Return the record as JSON-ready data; times as ISO 8601 UTC strings."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            data[name] = getattr(self, name)
        data["run_dir"] = str(self.run_dir)
        data["metadata"] = dict(self.metadata)
        data["tags"] = list(self.tags)
        data["deterministic"] = self.deterministic
        data["parent"], data["fork_epoch"] = self.parent, self.fork_epoch
        for name in ("created_at", "started_at", "ended_at", "heartbeat_at"):
            data[name] = iso_time(data[name])
        return data


def clean_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags as a list of distinct, stripped, non-empty strings."""
    items = [tags] if isinstance(tags, str) else list(tags)
    clean = [str(tag).strip() for tag in items]
    if any(not tag for tag in clean):
        raise RunError("a tag cannot be empty")
    return list(dict.fromkeys(clean))


def matches(record: RunRecord, text: str) -> bool:
    """Whether a record matches a free-text filter (id, name, label or tags)."""
    needle = text.strip().casefold()
    haystack = [record.id, record.name, record.label or "", *record.tags]
    return any(needle in item.casefold() for item in haystack)


def sorted_records(records: list[RunRecord], order: str) -> list[RunRecord]:
    """Records in one of the ORDERS (newest first within equal keys)."""
    newest = sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)
    if order == "name":
        return sorted(newest, key=lambda r: r.name.casefold())
    if order == "best_val_accuracy":
        return sorted(newest, key=lambda r: (r.best_val_accuracy is None,
                                             -(r.best_val_accuracy or 0.0)))
    if order == "status":
        return sorted(newest, key=lambda r: STATUSES.index(r.status))
    return newest


def tree_order(records: list[RunRecord]) -> list[tuple[RunRecord, int]]:
    """Records as a tree: each run followed by its branches (depth 1, 2...), order kept.

    A branch whose parent is not among ``records`` (deleted, or filtered out)
    is a root. Siblings keep their order in ``records``.

    Returns:
        ``(record, depth)`` pairs, every record once.
    """
    ids = {r.id for r in records}
    children: dict[str, list[RunRecord]] = {}
    roots = []
    for rec in records:
        if rec.parent in ids and rec.parent != rec.id:
            children.setdefault(rec.parent, []).append(rec)
        else:
            roots.append(rec)
    out: list[tuple[RunRecord, int]] = []
    seen: set[str] = set()

    def visit(rec: RunRecord, depth: int) -> None:
        if rec.id in seen:  # metadata are data: a cycle cannot loop
            return
        seen.add(rec.id)
        out.append((rec, depth))
        for child in children.get(rec.id, []):
            visit(child, depth + 1)

    for rec in roots:
        visit(rec, 0)
    out.extend((rec, 0) for rec in records if rec.id not in seen)  # a cycle's members
    return out
