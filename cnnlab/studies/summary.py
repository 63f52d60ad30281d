"""What a study found: its trials, the best one, and fANOVA parameter importances.

The shape is ``cnnlab study show --json``'s: ``{"study", "direction",
"best": {"trial", "run_id", "value", "params"}, "trials": [{"number",
"state", "params", "value", "run_id"}], "importance": {PATH: value}}``;
each trial also has ``duration`` (seconds) and ``worker`` (``host:pid``),
and the summary ``objective``, ``budget``, ``finished`` and, when the
importances are left out, ``importance_note`` saying why.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from cnnlab.studies.storage import load_optuna_study, open_storage
from cnnlab.studies.studyfile import StudyFile

MIN_FOR_IMPORTANCE = 2  # finished trials needed before importances mean anything


def study_summary(study: StudyFile, *, storage: str | None = None,
                  workspace: str | Path | None = None) -> dict:
    """The study's trials, best trial and importances, read from its storage.

    Args:
        study: The study definition.
        storage: The database URL (default: the workspace's SQLite file; a study
            never run there has no trials, and no file is made for it).
        workspace: The workspace of the default storage.

    Raises:
        StudyError: When the storage cannot be opened.
    """
    if storage is None and not _default_file(study, workspace).is_file():
        return _shape(study, [], None, {}, "no trials yet")
    return summary_of(study, open_storage(study, storage, workspace), workspace)


def summary_of(study: StudyFile, storage: Any, workspace: Any = None) -> dict:
    """:func:`study_summary` of an open Optuna storage."""
    loaded = load_optuna_study(study, storage)
    if loaded is None:
        return _shape(study, [], None, {}, "no trials yet")
    trials = [_trial_row(t) for t in loaded.get_trials(deepcopy=False)]
    importance, note = importances(loaded, study)
    return _shape(study, trials, _best(loaded), importance, note)


def importances(loaded: Any, study: StudyFile) -> tuple[dict[str, float], str]:
    """The fANOVA importances (seeded) of the complete trials, or ({}, why not)."""
    import optuna
    from optuna.trial import TrialState

    complete = loaded.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_FOR_IMPORTANCE:
        return {}, (f"importance needs at least {MIN_FOR_IMPORTANCE} finished trials "
                    f"({len(complete)} so far)")
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=study.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(loaded, evaluator=evaluator)
    except ImportError:
        return {}, "importance needs scikit-learn (pip install scikit-learn)"
    except (ValueError, RuntimeError) as exc:
        return {}, f"importance could not be computed: {str(exc).splitlines()[0][:120]}"
    return {k: round(float(v), 6) for k, v in values.items()}, ""


def table_lines(summary: dict) -> list[str]:
    """A study summary as text: a row per trial, the best trial, the importances."""
    lines = [f"study {summary['study']}: {summary['finished']} of {summary['budget']} "
             f"trials finished, {summary['objective']} ({summary['direction']})"]
    rows = [("trial", "state", summary["objective"], "seconds", "run", "parameters")]
    rows += [(str(t["number"]), t["state"].lower(), _number(t["value"]),
              _number(t["duration"], 1), t["run_id"] or "-", _params(t["params"]))
             for t in summary["trials"]]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5]
              for r in rows]
    best = summary["best"]
    if best:
        lines.append(f"best: trial {best['trial']}, {summary['objective']} "
                     f"{_number(best['value'])}, run {best['run_id'] or '-'}, "
                     f"{_params(best['params'])}")
    if summary["importance"]:
        lines.append("importance (fANOVA): " + ", ".join(
            f"{k} {v:.3f}" for k, v in summary["importance"].items()))
    elif summary.get("importance_note"):
        lines.append(f"importance: left out: {summary['importance_note']}")
    return lines


def _shape(study: StudyFile, trials: list[dict], best: dict | None,
           importance: dict[str, float], note: str) -> dict:
    finished = sum(t["state"] in ("COMPLETE", "PRUNED") for t in trials)
    out = {"study": study.name, "direction": study.direction, "objective": study.objective,
           "budget": study.trials, "finished": finished, "best": best, "trials": trials,
           "importance": importance}
    if note:
        out["importance_note"] = note
    if study.lecture:
        out["lecture"] = study.lecture
    return out


def _trial_row(trial: Any) -> dict:
    duration = None
    if trial.datetime_start and trial.datetime_complete:
        duration = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 3)
    return {"number": trial.number, "state": trial.state.name, "params": dict(trial.params),
            "value": _finite(trial.value), "run_id": str(trial.user_attrs.get("run_id", "")),
            "duration": duration, "worker": str(trial.user_attrs.get("worker", ""))}


def _best(loaded: Any) -> dict | None:
    try:
        best = loaded.best_trial
    except ValueError:  # no complete trial yet
        return None
    return {"trial": best.number, "run_id": str(best.user_attrs.get("run_id", "")),
            "value": _finite(best.value), "params": dict(best.params)}


def _default_file(study: StudyFile, workspace: Any) -> Path:
    from cnnlab.runs.workspace import resolve_workspace

    return resolve_workspace(workspace) / "studies" / f"{study.name}.db"


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

