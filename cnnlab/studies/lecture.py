"""The built-in lecture studies: the comparisons the lectures make, on the user's data.

``cnnlab study new STUDY.json --experiment EXP.json --lecture NAME`` asks
:func:`lecture_variants` for sibling trials (one ``variant`` choice, each a
set of experiment paths and values); ``cnnlab study show`` prints
:func:`lecture_table` under the trial table.

- ``transfer``: scratch / feature extractor / fine-tune at a lower rate /
  linear SVM head / cut at an earlier layer, from the experiment's base; the
  table is the lectures' rule of thumb (data size x similarity) with the
  measured accuracy of each strategy in its cell.
- ``batchnorm``: none / before / after the activation, in the layout of the
  caffenet benchmark table the lecture shows (Name, Accuracy, LogLoss, Comments).
- ``regularizers``: none / L2 / KL sparsity / max-norm / Gaussian noise /
  dropout on the MLP-128 and the small CNN (twelve trials).
- ``schedules``: constant / step / cosine / cosine with restarts, and for
  restarts the snapshot ensemble against the single final model
  (:mod:`cnnlab.train.snapshots`).

Pure Python: no Keras import.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from cnnlab.errors import CnnlabError, SpecError
from cnnlab.studies import lecture_tables
from cnnlab.studies import lecture_variants as variants

LECTURES: dict[str, str] = {
    "transfer": "transfer strategies from the experiment's base",
    "batchnorm": "batch-norm placement: none, before or after the activation",
    "regularizers": "none, L2, KL sparsity, max-norm, Gaussian noise, dropout on MLP-128 and a "
                    "small CNN",
    "schedules": "constant, step, cosine and cosine with restarts (with its snapshot ensemble)",
}
VARIANT_PARAM = "variant"  # the study's one parameter: choice(variant names)
_BUILDERS = {
    "transfer": variants.transfer,
    "batchnorm": variants.batchnorm,
    "regularizers": variants.regularizers,
    "schedules": variants.schedules,
}


def lecture_names() -> tuple[str, ...]:
    """The built-in lecture studies, in the order the lectures come."""
    return tuple(LECTURES)


def lecture_variants(name: str, experiment: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The sibling trials of lecture study ``name`` for ``experiment``.

    Args:
        name: One of :func:`lecture_names`.
        experiment: The experiment file's content (a dict, as loaded from JSON).

    Returns:
        Variant name -> {experiment path: value}; a path is dotted
        (``training.transfer.strategy``) or a whole section (``model``). Each
        variant applied to ``experiment`` is a valid experiment (checked here).

    Raises:
        CnnlabError: An unknown lecture, or an experiment that cannot take it
            (the transfer study without ``training.transfer.base``), one line.
    """
    if name not in _BUILDERS:
        raise CnnlabError(f"unknown lecture study {name!r}; choose one of "
                          f"{', '.join(LECTURES)}")
    exp = _load(experiment)
    found = _BUILDERS[name](exp)
    for variant, changes in found.items():
        _check(apply_changes(experiment, changes), f"the {name} study's {variant} variant")
    return found


def lecture_table(summary: Mapping[str, Any],
                  run_metrics: Mapping[str, Mapping[str, float]] | None = None, *,
                  workspace: Any = None) -> list[str]:
    """The lecture's table for a study summary (``cnnlab study show --json``'s shape).

    Args:
        summary: ``{"study", "direction", "best", "trials": [{"number", "state",
            "params": {"variant": NAME}, "value", "run_id", "metrics"?}], ...}``;
            ``"lecture"`` names the study when present, otherwise the variant
            names tell it.
        run_metrics: Run id -> metrics (the run's last epoch and test results,
            see :func:`trial_metrics`), for trials without ``metrics``; None
            reads them from the run store of ``workspace``.
        workspace: Where the trials' runs are (None: the default workspace);
            opened read-only.

    Returns:
        The table's lines; empty when the summary is no lecture study.
    """
    lecture = summary.get("lecture") or lecture_of(summary)
    if lecture not in LECTURES:
        return []
    if run_metrics is None:
        run_metrics = stored_metrics(summary, workspace)
    return lecture_tables.table(lecture, summary, run_metrics)


def stored_metrics(summary: Mapping[str, Any], workspace: Any = None) -> dict[str, dict]:
    """:func:`trial_metrics` of every trial's run, from the workspace's store ({} if none)."""
    from cnnlab.runs.store import RunStore
    from cnnlab.runs.workspace import resolve_workspace

    ids = [str(t.get("run_id")) for t in summary.get("trials", []) if t.get("run_id")]
    try:
        folder = resolve_workspace(workspace)
        if not ids or not folder.is_dir():
            return {}
        store = RunStore(folder, read_only=True)
    except (CnnlabError, OSError):
        return {}
    return {run_id: trial_metrics(store, run_id) for run_id in ids}


def lecture_of(summary: Mapping[str, Any]) -> str | None:
    """The lecture whose variant names the summary's trials use (None: no lecture)."""
    names = {str((t.get("params") or {}).get(VARIANT_PARAM)) for t in summary.get("trials", [])}
    names.discard("None")
    for lecture, known in variants.VARIANT_NAMES.items():
        if names and names <= set(known):
            return lecture
    return None


def trial_metrics(store: Any, run_id: str) -> dict[str, float]:
    """A run's last-epoch metrics and test results, for a summary's ``metrics``.

    Args:
        store: A :class:`cnnlab.runs.RunStore`.
        run_id: The trial's run.

    Returns:
        ``{"val_accuracy": ..., "test_accuracy": ..., "test_snapshot_ensemble_accuracy": ...}``
        (what the run has; {} for an unknown run).
    """
    try:
        table = store.metrics(run_id)
        record = store.get(run_id)
    except CnnlabError:
        return {}
    out = {}
    for name, values in table.items():
        finite = [v for v in values if v is not None and math.isfinite(v)]
        if finite:
            out[name] = float(finite[-1])
    for key in ("test_loss", "test_accuracy", "test_top5"):
        value = getattr(record, key, None)
        if value is not None:
            out[key] = float(value)
    from cnnlab.studies.ensemble import read_ensemble

    ensemble = read_ensemble(store, run_id)  # an early-stopped run has it in its folder only
    out.update({k: v for k, v in ensemble.items() if k != "note" and k not in out})
    return out


def apply_changes(experiment: Mapping[str, Any], changes: Mapping[str, Any]) -> dict:
    """``experiment`` with each dotted path of ``changes`` set (a copy; sections created)."""
    out = copy.deepcopy(dict(experiment))
    for path, value in changes.items():
        *parents, key = path.split(".")
        where = out
        for part in parents:
            where = where.setdefault(part, {})
        where[key] = copy.deepcopy(value)
    return out


def _load(experiment: Mapping[str, Any]) -> Any:
    from cnnlab.spec.load import experiment_from_dict

    if not isinstance(experiment, Mapping):
        raise CnnlabError("the experiment must be a JSON object")
    return experiment_from_dict(dict(experiment))


def _check(experiment: dict, what: str) -> None:
    """Refuse a variant that ``cnnlab validate`` would refuse (a bug here, said plainly)."""
    from cnnlab.analysis import analyze_experiment
    from cnnlab.recipe.transfer import check_transfer

    try:
        exp = _load(experiment)
        errors = analyze_experiment(exp).errors()
        if errors:
            raise SpecError(errors[0].node or "model", errors[0].message)
        check_transfer(exp)
    except SpecError as exc:
        raise CnnlabError(f"{what} does not fit this experiment: {exc}") from None
