"""What the Runs view calls each run: its change since the run before, its architecture.

The spec snapshots are read once per run (they never change) and labelled
with :func:`cnnlab.spec.diff.label_runs` and
:func:`cnnlab.spec.architecture.architecture_summary`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from cnnlab.spec import RunLabel, architecture_summary, label_runs


class RunLabels:
    """Labels and architecture summaries of a run store's runs, from cached snapshots.

    Args:
        store: The :class:`~cnnlab.runs.store.RunStore` to read snapshots from.

    """

    def __init__(self, store) -> None:
        self.store = store
        self._specs: dict[str, Mapping[str, Any] | None] = {}
        self.labels: dict[str, RunLabel] = {}
        self.architectures: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self._created: dict[str, float] = {}
        self._key: tuple = ()

    def update(self, records: Iterable) -> None:
        """Label every run of ``records`` (all runs of the store, in any order).

        Nothing is recomputed while the runs and their names stay the same (a
        filter keystroke refreshes the view).
        """
        ordered = sorted(records, key=lambda r: (r.created_at, r.id))
        key = tuple((r.id, r.name) for r in ordered)
        if key == self._key:
            return
        self._key = key
        runs = [(r.id, r.name, self._spec(r.id)) for r in ordered]
        self.labels = label_runs(runs)
        self.architectures = {run_id: architecture_summary(spec) if spec else "-"
                              for run_id, _name, spec in runs}
        self.names = {r.id: r.name for r in ordered}
        self._created = {r.id: r.created_at for r in ordered}

    def text(self, run_id: str) -> str:
        """The run's label: what changed since its experiment's previous run, else its name."""
        found = self.labels.get(run_id)
        return found.text if found else self.names.get(run_id, run_id)

    def change_cell(self, run_id: str) -> tuple[str, str]:
        """The table's "What changed" text and tooltip."""
        found = self.labels.get(run_id)
        if found is None or found.previous is None:
            return "first run", "The first run of this experiment (nothing to compare with)."
        lines = "\n".join(found.lines) or "The specs are equal."
        return found.text, f"Compared with run {found.previous}:\n{lines}"

    def legend(self, run_ids: list[str]) -> list[str]:
        """Names for curves of these runs: labels, with the experiment where several meet.

        Two runs that would read the same also get their start time.
        """
        several = len({self.names.get(i) for i in run_ids}) > 1
        out = []
        for run_id in run_ids:
            text, name = self.text(run_id), self.names.get(run_id, run_id)
            out.append(f"{name}: {text}" if several and text != name else text)
        for i, text in enumerate(out):
            if out.count(text) > 1:
                out[i] = f"{text} ({self._time(run_ids[i])})"
        return out

    def _time(self, run_id: str) -> str:
        created = self._created.get(run_id)
        if created is None:
            return run_id
        return dt.datetime.fromtimestamp(created).strftime("%H:%M:%S")

    def _spec(self, run_id: str) -> Mapping[str, Any] | None:
        if run_id not in self._specs:
            try:
                self._specs[run_id] = self.store.spec(run_id)
            except Exception:  # noqa: BLE001 - an unreadable snapshot is labelled by its name
                self._specs[run_id] = None
        return self._specs[run_id]
