"""The tables of the built-in lecture studies, from a study summary (plain text lines).

A trial's numbers come from its ``metrics`` (the run's last epoch and test
results) where the summary carries them, else from ``run_metrics``, else
its objective ``value``. Accuracy is the test accuracy when every finished
trial has one, else the validation accuracy, else the objective. Pure Python.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

from cnnlab.studies.lecture_variants import (
    BATCHNORM,
    REG_MODELS,
    REGULARIZERS,
    SCHEDULES,
    TRANSFER,
)

ACCURACY_KEYS = ("test_accuracy", "val_accuracy")
LOSS_KEYS = ("test_loss", "val_loss")
COMPLETE = "COMPLETE"


class Trials:
    """The summary's trials by variant, with the numbers a table shows."""

    def __init__(self, summary: Mapping[str, Any], run_metrics: Mapping[str, Mapping]):
        self.maximize = str(summary.get("direction", "maximize")).lower() != "minimize"
        self.objective = str(summary.get("objective") or "objective")
        self.by_variant: dict[str, list[dict]] = {}
        for trial in summary.get("trials", []):
            name = str((trial.get("params") or {}).get("variant"))
            numbers = {**run_metrics.get(str(trial.get("run_id")), {}),
                       **(trial.get("metrics") or {})}
            self.by_variant.setdefault(name, []).append({**trial, "numbers": numbers})
        done = [t for ts in self.by_variant.values() for t in ts if _complete(t)]
        self.acc_key = next((k for k in ACCURACY_KEYS if done and all(
            _finite(t["numbers"].get(k)) for t in done)), None)
        self.loss_key = next((k for k in LOSS_KEYS if done and all(
            _finite(t["numbers"].get(k)) for t in done)), None)

    @property
    def acc_label(self) -> str:
        """What the accuracy column shows."""
        return {"test_accuracy": "test accuracy", "val_accuracy": "validation accuracy"}.get(
            self.acc_key or "", self.objective)

    def best(self, variant: str) -> dict | None:
        """The variant's best finished trial (or its latest trial when none finished)."""
        trials = self.by_variant.get(variant, [])
        done = [t for t in trials if _complete(t) and _finite(self.accuracy_of(t))]
        if not done:
            return trials[-1] if trials else None
        return max(done, key=lambda t: self.accuracy_of(t) * (1 if self._up else -1))

    @property
    def _up(self) -> bool:
        return self.maximize if self.acc_key is None else True

    def accuracy_of(self, trial: dict) -> float | None:
        """The trial's accuracy (or objective)."""
        if self.acc_key:
            return trial["numbers"].get(self.acc_key)
        return trial.get("value")

    def accuracy(self, variant: str) -> str:
        """The variant's accuracy cell: a number, its state, or '-'."""
        return self._cell(variant, self.accuracy_of)

    def loss(self, variant: str) -> str:
        """The variant's loss cell (test or validation loss, or a minimized objective)."""
        def loss_of(trial: dict) -> float | None:
            if self.loss_key:
                return trial["numbers"].get(self.loss_key)
            return None if self.maximize else trial.get("value")

        return self._cell(variant, loss_of)

    def number(self, variant: str) -> float | None:
        """The variant's accuracy as a number (None when it has none)."""
        trial = self.best(variant)
        value = self.accuracy_of(trial) if trial and _complete(trial) else None
        return value if _finite(value) else None

    def winner(self, variants: tuple[str, ...]) -> str | None:
        """The variant with the best accuracy (or objective) among ``variants``."""
        scored = [(self.number(v), v) for v in variants if self.number(v) is not None]
        if not scored:
            return None
        pick = max if self._up else min
        return pick(scored, key=lambda pair: pair[0])[1]  # a tie: the first in the lecture's order

    def _cell(self, variant: str, value_of) -> str:
        trial = self.best(variant)
        if trial is None:
            return "-"
        if not _complete(trial):
            return str(trial.get("state", "?")).lower()
        value = value_of(trial)
        return f"{value:.3f}" if _finite(value) else "-"


def _complete(trial: Mapping) -> bool:
    return str(trial.get("state", "")).upper() == COMPLETE


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _rows(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def table(lecture: str, summary: Mapping[str, Any], run_metrics: Mapping) -> list[str]:
    """The lines of ``lecture``'s table."""
    trials = Trials(summary, run_metrics)
    return {"transfer": transfer_table, "batchnorm": batchnorm_table,
            "regularizers": regularizers_table, "schedules": schedules_table}[lecture](trials)


# --- transfer -------------------------------------------------------------------------

CELLS = {  # (data size, similarity) -> the strategies the lectures advise there
    ("small", "similar"): ("feature_extractor", "svm_head"),
    ("small", "different"): ("cut_earlier",),
    ("large", "similar"): ("fine_tune",),
    ("large", "different"): ("fine_tune", "scratch"),
}
CELL_TEXT = {
    ("small", "similar"): "linear classifier on the top features",
    ("small", "different"): "linear classifier on earlier features",
    ("large", "similar"): "fine-tune a few layers, lower rate",
    ("large", "different"): "fine-tune many or all layers",
}
HOME = {"feature_extractor": ("small", "similar"), "svm_head": ("small", "similar"),
        "cut_earlier": ("small", "different"), "fine_tune": ("large", "similar"),
        "scratch": ("large", "different")}


def transfer_table(trials: Trials) -> list[str]:
    """Each strategy's accuracy, then the rule-of-thumb grid with the numbers in its cells."""
    from cnnlab.recipe.advisor import advise_transfer

    best = trials.winner(TRANSFER)
    lines = [f"Transfer strategies on this data ({trials.acc_label}):"]
    rows = [["strategy", "accuracy", ""]]
    rows += [[v, trials.accuracy(v), "best" if v == best else ""] for v in TRANSFER]
    lines += _rows(rows)
    lines += ["", "The lectures' rule of thumb, with this data's numbers:"]
    grid = [["", "similar dataset", "different dataset"]]
    for size, label in (("small", "little data"), ("large", "a lot of data")):
        grid.append([label, CELL_TEXT[(size, "similar")], CELL_TEXT[(size, "different")]])
        grid.append(["", *(", ".join(f"{v} {trials.accuracy(v)}" for v in CELLS[(size, sim)])
                           for sim in ("similar", "different"))])
    lines += _rows(grid)
    if best:
        size, sim = HOME[best]
        advice = advise_transfer(size, sim).text
        lines += [f"Best here: {best} ({trials.accuracy(best)}), the lectures' choice for "
                  f"{'little' if size == 'small' else 'a lot of'} data and {sim} images:"]
        lines += textwrap.wrap(advice, 92, initial_indent="  ", subsequent_indent="  ")
    return lines


# --- batch-norm -----------------------------------------------------------------------

BN_ROWS = {"no_batchnorm": ("None", "no batch-norm"),
           "before_activation": ("Before", "As in paper (Ioffe & Szegedy)"),
           "after_activation": ("After", "")}


def batchnorm_table(trials: Trials) -> list[str]:
    """The caffenet benchmark's layout: Name, Accuracy, LogLoss, Comments."""
    best = trials.winner(BATCHNORM)
    loss = trials.loss_key or ("objective" if not trials.maximize else "")
    lines = [f"BN -- before or after ReLU? On this data (accuracy: {trials.acc_label}"
             f"{', LogLoss: ' + loss.replace('_', ' ') if loss else ''}):"]
    rows = [["Name", "Accuracy", "LogLoss", "Comments"]]
    for variant in BATCHNORM:
        name, comment = BN_ROWS[variant]
        mark = "best here" if variant == best else ""
        rows.append([name, trials.accuracy(variant), trials.loss(variant),
                     "; ".join(c for c in (comment, mark) if c)])
    lines += _rows(rows)
    lines.append("  (caffenet on ImageNet, in the lecture: Before 0.474 / 2.35, After 0.499 / "
                 "2.21)")
    return lines


# --- regularizers ---------------------------------------------------------------------

REG_LABELS = {"none": "none", "l2": "L2", "kl_sparsity": "KL sparsity",
              "max_norm": "max-norm", "gaussian_noise": "Gaussian noise", "dropout": "dropout"}
MODEL_LABELS = {"mlp128": "MLP-128", "cnn": "small CNN"}


def regularizers_table(trials: Trials) -> list[str]:
    """One row per regularizer, one column per network; the best of each column."""
    lines = [f"Regularizers ({trials.acc_label}):"]
    rows = [["regularizer", *(MODEL_LABELS[m] for m in REG_MODELS)]]
    for reg in REGULARIZERS:
        rows.append([REG_LABELS[reg], *(trials.accuracy(f"{m}/{reg}") for m in REG_MODELS)])
    winners = [trials.winner(tuple(f"{m}/{r}" for r in REGULARIZERS)) for m in REG_MODELS]
    rows.append(["best", *(REG_LABELS[w.split("/")[1]] if w else "-" for w in winners)])
    return lines + _rows(rows)


# --- schedules ------------------------------------------------------------------------

def schedules_table(trials: Trials) -> list[str]:
    """Each schedule's accuracy, then the restarts' snapshot ensemble against its final model."""
    best = trials.winner(SCHEDULES)
    lines = [f"Learning-rate schedules ({trials.acc_label}):"]
    rows = [["schedule", "accuracy", ""]]
    rows += [[v, trials.accuracy(v), "best" if v == best else ""] for v in SCHEDULES]
    lines += _rows(rows)
    lines.append("Snapshot ensemble of cosine_restarts (the lectures' \"potential model "
                 "combination\"):")
    return lines + ["  " + _ensemble_line(trials.best("cosine_restarts"))]


def _ensemble_line(trial: dict | None) -> str:
    if trial is None or not _complete(trial):
        return "no finished cosine_restarts trial yet"
    numbers = trial["numbers"]
    ensemble = numbers.get("test_snapshot_ensemble_accuracy")
    final = numbers.get("test_final_accuracy")
    if not (_finite(ensemble) and _finite(final)):
        return (f"not recorded with the trial; see snapshots/ensemble.json in run "
                f"{trial.get('run_id')}")
    count = int(numbers.get("snapshot_count", 0))
    return (f"{count} snapshots: ensemble {ensemble:.3f} vs the single final model {final:.3f} "
            f"(test accuracy, {ensemble - final:+.3f})")
