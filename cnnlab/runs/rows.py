"""The rows of the run index: what a run, an epoch or a run folder becomes there, and back.

Helpers over an open connection of :class:`cnnlab.runs.index.RunIndex` (they
neither open nor commit one): inserting a new run or one read back from its
folder, per-epoch metric rows, test metric columns, the derived statistics,
and reading metrics and tags back as plain data.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from cnnlab.errors import RunError
from cnnlab.runs.records import BEST_METRIC, INTERRUPTED, STATUSES
from cnnlab.runs.workspace import RUNS_DIRNAME, TEST_KEYS, FolderRun


class DuplicateRunId(Exception):
    """A new run's id is already taken (the caller draws another)."""


def to_json_text(obj: Any, what: str) -> str:
    """JSON text of a spec or metadata dict, or a RunError naming what is not JSON."""
    try:
        return json.dumps(obj, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RunError(f"the {what} is not JSON data: {exc}") from exc


def insert_run(conn: sqlite3.Connection, row: dict, meta: dict, spec_text: str) -> None:
    """Insert a new run row and its spec snapshot (DuplicateRunId if the id is taken)."""
    device = meta.get("device")
    seed = meta.get("seed")
    values = dict(row, run_dir=f"{RUNS_DIRNAME}/{row['id']}", metadata=json.dumps(meta),
                  device=None if device is None else str(device),
                  seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    try:
        conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})",
                     tuple(values.values()))
    except sqlite3.IntegrityError as exc:
        raise DuplicateRunId(row["id"]) from exc
    conn.execute("INSERT INTO specs VALUES (?, ?)", (row["id"], spec_text))


def insert_folder_run(conn: sqlite3.Connection, entry: FolderRun) -> None:
    """Index a run read back from its folder (with no known status: ``interrupted``).

    A ``running`` one keeps its pid and host, so the liveness check decides.
    """
    run_id = entry.row["id"]
    row = dict(entry.row, status=folder_status(entry))
    insert_run(conn, row, entry.metadata, json.dumps(entry.spec, sort_keys=True))
    conn.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)",
                     [(run_id, tag) for tag in entry.tags])
    conn.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?)", entry.metrics)
    refresh_stats(conn, run_id)


def folder_status(entry: FolderRun) -> str:
    """The status a run folder's documents give, ``interrupted`` for none."""
    status = entry.row.get("status")
    return status if status in STATUSES else INTERRUPTED


def folder_row(entry: FolderRun) -> dict[str, Any]:
    """An index row (as :func:`insert_folder_run` would store it) without an index."""
    epochs = [epoch for _, epoch, _, _ in entry.metrics]
    best = [v for _, _, name, v in entry.metrics if name == BEST_METRIC and v is not None]
    meta = entry.metadata
    seed = meta.get("seed")
    return dict(
        entry.row, status=folder_status(entry), run_dir=f"{RUNS_DIRNAME}/{entry.row['id']}",
        metadata=json.dumps(meta), epochs_done=max(epochs) + 1 if epochs else 0,
        best_val_accuracy=max(best) if best else None,
        device=None if meta.get("device") is None else str(meta["device"]),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
    )


def metric_rows(run_id: str, epoch: int, metrics: Mapping[str, float]) -> list[tuple]:
    """Rows (run, epoch, name, value) for one epoch; NaN is stored as NULL."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise RunError(f"epoch must be a whole number from 0, not {epoch!r}")
    rows = []
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RunError(f"metric {name!r} of epoch {epoch} is not a number: {value!r}") from None
        rows.append((run_id, epoch, str(name), None if math.isnan(number) else number))
    return rows


def test_columns(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """The index columns of a test evaluation: ``test_loss``, ``test_accuracy``, ``test_top5``.

    Args:
        metrics: Keras's evaluation names (``loss``, ``accuracy``, ``top5``) or
            the same with a ``test_`` prefix; other names are ignored, an absent
            one is None, NaN is stored as None.

    Raises:
        RunError: A test metric is not a number.

    """
    columns: dict[str, float | None] = dict.fromkeys(TEST_KEYS.values())
    for name, value in metrics.items():
        column = TEST_KEYS.get(str(name).removeprefix("test_"))
        if column is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RunError(f"test metric {name!r} is not a number: {value!r}") from None
        columns[column] = None if not math.isfinite(number) else number
    return columns


def refresh_stats(conn: sqlite3.Connection, run_id: str) -> None:
    """Recompute a run's epochs_done and best validation accuracy from its metrics."""
    conn.execute(
        "UPDATE runs SET"
        " epochs_done = (SELECT COALESCE(MAX(epoch) + 1, 0) FROM metrics WHERE run_id = ?1),"
        " best_val_accuracy = (SELECT MAX(value) FROM metrics WHERE run_id = ?1 AND name = ?2)"
        " WHERE id = ?1",
        (run_id, BEST_METRIC),
    )


def metrics_table(rows: Iterable[tuple]) -> dict[str, list[float]]:
    """Rows (epoch, name, value) as {name: [value per epoch]} with NaN gaps."""
    rows = list(rows)
    if not rows:
        return {}
    length = max(epoch for epoch, _, _ in rows) + 1
    table: dict[str, list[float]] = {}
    for epoch, name, value in rows:
        column = table.setdefault(name, [math.nan] * length)
        column[epoch] = math.nan if value is None else float(value)
    return table


def tags_by_run(conn: sqlite3.Connection, run_id: str | None = None) -> dict[str, tuple]:
    """Tags per run id (of one run, or of all)."""
    if run_id is None:
        rows = conn.execute("SELECT run_id, tag FROM tags ORDER BY tag").fetchall()
    else:
        rows = conn.execute("SELECT run_id, tag FROM tags WHERE run_id = ? ORDER BY tag",
                            (run_id,)).fetchall()
    out: dict[str, list[str]] = {}
    for rid, tag in rows:
        out.setdefault(rid, []).append(tag)
    return {rid: tuple(tags) for rid, tags in out.items()}
