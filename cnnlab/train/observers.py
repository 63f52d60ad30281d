"""Per-epoch observers of a training session: the Keras callbacks other features add.

Each module in :data:`OBSERVER_MODULES` exposes ``callbacks(session, ctx) ->
list[keras.callbacks.Callback]``; the session puts them after the recipe's
callbacks and before the epoch recorder, so they see every completed epoch
(and may add numbers to its logs) before it is checkpointed and recorded.
An observer must never fail a run for its own sake: it catches its errors
and turns itself off with a note.
"""

from __future__ import annotations

import importlib
from typing import Any

# The features that watch a run; each module is owned by its feature.
OBSERVER_MODULES = (
    "cnnlab.train.sample_records",  # per-sample losses and forgetting (data debugging)
    "cnnlab.train.health",  # dead units, gradient norms, update ratios (training health)
    "cnnlab.train.snapshots",  # weights at the end of each restart cycle (snapshot ensembles)
)


def callbacks(session: Any, ctx: Any) -> list:
    """The observers' callbacks for one ``fit`` of ``session``."""
    found: list = []
    for name in OBSERVER_MODULES:
        found.extend(importlib.import_module(name).callbacks(session, ctx))
    return found
