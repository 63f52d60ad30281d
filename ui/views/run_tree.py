"""Branches in the Runs view: their "What changed" cell, their curves, the branch action.

A branch (see :mod:`cnnlab.train.fork`) is named by its steer against its
parent, and its curves start at the parent's point at the fork epoch, so in
the overlay they continue the parent's.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu


def branch_cells(store, records, cache: dict) -> dict[str, tuple[str, str]]:
    """The "What changed" cell (text, tooltip) of each branch among ``records``.

    Args:
        store: The run store (spec snapshots are read once: ``cache`` keeps them).
        records: Run records; those with a ``parent`` are branches.
        cache: Run id -> cell, kept by the caller between refreshes.
    """
    from cnnlab.train import steer_label

    for rec in records:
        if rec.parent and rec.id not in cache:
            try:
                label = steer_label(store.spec(rec.parent), store.spec(rec.id))
            except Exception:  # noqa: BLE001 - a deleted parent: the steer as recorded
                label = "branch"
            steer = rec.metadata.get("fork", {}).get("steer") or ["the same spec"]
            cache[rec.id] = (f"branch @{rec.fork_epoch}: {label}",
                             f"Branched from run {rec.parent} after epoch {rec.fork_epoch}; "
                             f"the steer:\n" + "\n".join(steer))
    return {r.id: cache[r.id] for r in records if r.id in cache}


def curve_points(rec, data: dict, metric: str) -> tuple[list, list]:
    """Epochs (1..N) and a run's values of ``metric``; a branch's start at the fork epoch.

    Args:
        rec: The run's record (None: unknown, plotted as it is).
        data: Run id -> metrics (:meth:`RunStore.metrics_many`), the parent's included.
        metric: The metric's name.

    Returns:
        x and y; a branch's first point is its parent's value at the fork
        epoch (NaN when the parent's metrics are not in ``data``).
    """
    run_id = getattr(rec, "id", None)
    values = list(data.get(run_id, {}).get(metric, []))
    x = list(range(1, len(values) + 1))
    fork = getattr(rec, "fork_epoch", None)
    if not fork or fork > len(values):
        return x, values
    before = data.get(rec.parent, {}).get(metric, [])
    joint = before[fork - 1] if len(before) >= fork else math.nan
    return x[fork - 1:], [joint, *values[fork:]]


class BranchActions:
    """The Runs view's "Branch from this run…" (a mixin of :class:`RunsView`).

    Uses the view's ``table``, ``store``, ``records``, ``select``,
    ``selected_ids``, ``_one_selected``, ``_show``, ``branch_requested`` and
    ``steer_dialog``.
    """

    def _context_menu(self, pos) -> None:
        """The table's menu: branch the run under the pointer."""
        item = self.table.itemAt(pos)
        if item is None:
            return
        run_id = self.table.item(item.row(), 0).data(Qt.ItemDataRole.UserRole)
        if run_id not in self.selected_ids():
            self.select([run_id])
        menu = QMenu(self)
        action = menu.addAction("Branch from this run…", lambda: self.branch_selected())
        action.setEnabled(not self.store.read_only)
        menu.popup(self.table.viewport().mapToGlobal(pos))
        self.context_menu = menu

    def branch_selected(self, epoch: int | None = None):
        """Open the steer dialog for the selected run; return it (None when it cannot)."""
        run_id = self._one_selected()
        if not run_id:
            return None
        if self.store.read_only:
            self._show("This workspace is read-only: a branch is a new run.", True)
            return None
        if self.records[run_id].status == "running":
            self._show("The run is still training: pause and stop it first (its last "
                       "complete epoch is kept), then branch.", True)
            return None
        from cnnlab.ui.views.steer_dialog import open_steer_dialog

        if self.steer_dialog is not None:
            self.steer_dialog.deleteLater()
        self.steer_dialog = open_steer_dialog(self, self.store, run_id, epoch,
                                              on_branch=self.branch_requested.emit,
                                              on_error=lambda text: self._show(text, True))
        return self.steer_dialog
