"""The run folder's ``health.jsonl``: one JSON line per checked epoch.

A line holds ``epoch``, ``loss``, ``seconds`` (the check's cost), ``layers``
(per weighted layer: ``grad_norm``, ``weight_norm``, ``update_ratio``,
``dead``) and ``warnings`` (``layer``, ``kind``, ``message``, ``remedy``,
``value``, ``new``). Each epoch appends one line with a single write and an
fsync; a line cut short by a kill is ignored by :func:`read_health`, and a
resumed run first keeps (atomically) only the epochs its checkpoint holds.
Non-finite numbers are stored as null.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_text
from cnnlab.train.events import HealthWarning, TrainingHealth

FILE_NAME = "health.jsonl"


def health_path(run_dir: str | os.PathLike) -> Path:
    """Where a run keeps its health records."""
    return Path(run_dir) / FILE_NAME


def read_health(run_dir: str | os.PathLike) -> list[dict]:
    """The run's health records, one per epoch in epoch order ([] when there are none).

    A later line for the same epoch (trained again after a resume) wins; a
    line that is not complete JSON (cut short by a kill) is skipped.
    """
    path = health_path(run_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return []
    by_epoch: dict[int, dict] = {}
    for line in text.splitlines():
        record = _parse(line)
        if record is not None:
            by_epoch[record["epoch"]] = record
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_warnings(run_dir: str | os.PathLike) -> list[HealthWarning]:
    """Every warning of the run's records, as events (for the Runs and Inspect views)."""
    out = []
    names = {f.name for f in dataclasses.fields(HealthWarning)} - {"epoch"}
    for record in read_health(run_dir):
        for w in record.get("warnings", []):
            if isinstance(w, dict):
                values = {k: v for k, v in w.items() if k in names}
                values["value"] = _float(values.get("value"))
                try:
                    out.append(HealthWarning(epoch=record["epoch"], **values))
                except TypeError:  # a record written by hand, missing a field
                    continue
    return out


def append_report(run_dir: str | os.PathLike, report: TrainingHealth) -> None:
    """Append one epoch's report as one line (one write, then fsync)."""
    line = json.dumps(report_dict(report), allow_nan=False) + "\n"
    with open(health_path(run_dir), "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def keep_epochs_before(run_dir: str | os.PathLike, epoch: int) -> list[dict]:
    """Drop the records of ``epoch`` and later (a resume trains them again); return the rest."""
    records = read_health(run_dir)
    kept = [r for r in records if r["epoch"] < epoch]
    if len(kept) != len(records) or _has_torn_line(run_dir):
        text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in kept)
        atomic_write_text(health_path(run_dir), text)
    return kept


def report_dict(report: TrainingHealth) -> dict[str, Any]:
    """The JSON form of a report (non-finite numbers become null)."""
    return {
        "epoch": report.epoch,
        "loss": _json(report.loss),
        "seconds": _json(report.seconds),
        "layers": {name: {k: _json(v) for k, v in numbers.items()}
                   for name, numbers in report.layers.items()},
        "warnings": [{**dataclasses.asdict(w), "value": _json(w.value)}
                     for w in report.warnings],
    }


def _parse(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("epoch"), int):
        return None
    return record


def _has_torn_line(run_dir: str | os.PathLike) -> bool:
    try:
        lines = health_path(run_dir).read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return False
    return any(_parse(line) is None for line in lines if line.strip())


def _json(value: Any) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan
