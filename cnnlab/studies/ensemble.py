"""A run's snapshot ensemble, as recorded by :mod:`cnnlab.train.snapshots`.

A finished ``cosine_restarts`` run records, with its last epoch, the test
accuracy of its snapshots' averaged predictions and of its final model; a run
that ended early (early stopping) has them only in
``snapshots/ensemble.json``. :func:`read_ensemble` reads either, for the
schedules study's table and the window. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import json
import math
from typing import Any

from cnnlab.errors import CnnlabError

KEYS = ("test_snapshot_ensemble_accuracy", "test_final_accuracy", "snapshot_count")
FOLDER = "snapshots"  # as cnnlab.train.snapshots writes it
RESULT_NAME = "ensemble.json"
MAX_BYTES = 1 << 20  # a record is a few hundred bytes; anything larger is not one


def read_ensemble(store: Any, run_id: str) -> dict[str, Any]:
    """The run's snapshot-ensemble numbers and note ({} when it has none).

    Args:
        store: A :class:`cnnlab.runs.RunStore` (read-only is enough).
        run_id: The run.

    Returns:
        ``test_snapshot_ensemble_accuracy``, ``test_final_accuracy``,
        ``snapshot_count`` (the numbers it has) and ``note`` when the
        observer left one (no cycle ended, no test split, turned off).
    """
    try:
        path = store.run_dir(run_id) / FOLDER / RESULT_NAME
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (CnnlabError, OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {k: float(raw[k]) for k in KEYS if _number(raw.get(k))}
    if isinstance(raw.get("note"), str):
        out["note"] = raw["note"][:300]
    return out


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
