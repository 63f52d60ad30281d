"""The study file (STUDY.json): what a study samples, from which experiment, for how long.

JSON data, written atomically, never over an existing file without
``force``. It holds the experiment snapshot itself (so every worker on every
machine trains exactly the same base), the parameters and their spaces, the
optional named variants (one categorical parameter ``variant``), the budget,
sampler, objective and pruning. Every parameter is checked when the study is
made: its path exists, and each bound or choice passes the spec's own loader.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_json
from cnnlab.errors import CnnlabError, SpecError, brief
from cnnlab.spec.experiment import Experiment
from cnnlab.studies.paths import PathError, set_value
from cnnlab.studies.space import Space, SpaceError, parse_space

FORMAT = "cnnlab-study"
VERSION = 1
SAMPLERS = ("grid", "random", "tpe")
OBJECTIVES = {"val_accuracy": "maximize", "val_loss": "minimize", "test_accuracy": "maximize"}
VARIANT = "variant"  # the parameter name of a study's variants
DEFAULT_TRIALS = 10
MAX_TRIALS = 100_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
KEYS = ("format", "version", "name", "experiment", "experiment_path", "params", "variants",
        "lecture", "trials", "sampler", "objective", "prune", "epochs", "seed")


class StudyError(CnnlabError):
    """A study file or a study's definition is wrong."""


@dataclass(frozen=True)
class Param:
    """One sampled parameter: an experiment path and its search space."""

    path: str
    space: Space


@dataclass(frozen=True)
class StudyFile:
    """A study definition, as read from (or written to) STUDY.json.

    Attributes:
        path: Where the study file is.
        name: The study's name (its Optuna name, its SQLite file's stem).
        experiment: The experiment snapshot (a validated experiment dict).
        experiment_path: The experiment file it came from ("" when none).
        params: The sampled parameters.
        variants: Named sets of ``{path: value}``, sampled as parameter ``variant``.
        lecture: The built-in lecture study it is ("" for none).
        trials: The budget: finished (complete or pruned) trials.
        sampler: ``grid``, ``random`` or ``tpe``.
        objective: ``val_accuracy``, ``val_loss`` or ``test_accuracy``.
        prune: Median pruning on the per-epoch objective.
        epochs: Epochs per trial (None: the experiment's).
        seed: The sampler's (and importance's) seed.
    """

    path: Path
    name: str
    experiment: dict
    params: tuple[Param, ...]
    trials: int
    sampler: str
    objective: str
    prune: bool = False
    experiment_path: str = ""
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    lecture: str = ""
    epochs: int | None = None
    seed: int = 0

    @property
    def direction(self) -> str:
        """``maximize`` or ``minimize``."""
        return OBJECTIVES[self.objective]

    @property
    def param_names(self) -> list[str]:
        """The Optuna parameter names: every path, then ``variant`` when there are variants."""
        return [p.path for p in self.params] + ([VARIANT] if self.variants else [])

    def grid(self) -> dict[str, list[Any]]:
        """The grid sampler's search space (raises StudyError for a continuous space)."""
        try:
            space = {p.path: p.space.grid() for p in self.params}
        except SpaceError as exc:
            raise StudyError(str(exc)) from None
        if self.variants:
            space[VARIANT] = list(self.variants)
        return space

    def grid_size(self) -> int:
        """How many points the grid has."""
        return math.prod(len(values) for values in self.grid().values())

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON data."""
        return {"format": FORMAT, "version": VERSION, "name": self.name,
                "experiment": self.experiment, "experiment_path": self.experiment_path,
                "params": [{"path": p.path, "space": p.space.text} for p in self.params],
                "variants": self.variants, "lecture": self.lecture or None,
                "trials": self.trials, "sampler": self.sampler, "objective": self.objective,
                "prune": self.prune, "epochs": self.epochs, "seed": self.seed}


def new_study(out: str | Path, experiment: Mapping, params: Sequence[str], *,
              trials: int | None = None, sampler: str = "tpe",
              objective: str = "val_accuracy", prune: bool = False,
              variants: Mapping[str, Mapping[str, Any]] | None = None,
              lecture: str | None = None, epochs: int | None = None, force: bool = False,
              name: str | None = None, experiment_path: str | Path | None = None,
              seed: int | None = None) -> StudyFile:
    """Define a study, check it against the spec and write STUDY.json atomically.

    Args:
        out: The study file to write.
        experiment: The experiment (a dict as in an experiment file).
        params: ``PATH=SPACE`` texts (``training.optimizer.learning_rate=loguniform(1e-4,1e-1)``).
        trials: The budget (default: the grid's size for ``grid``, else 10).
        sampler: ``grid``, ``random`` or ``tpe``.
        objective: ``val_accuracy``, ``val_loss`` or ``test_accuracy``.
        prune: Stop trials early that are worse than the median at the same epoch.
        variants: Named sets of ``{path: value}`` (a whole section may be a dict).
        lecture: The built-in lecture study the variants come from.
        epochs: Epochs per trial (default: the experiment's).
        force: Replace an existing file.
        name: The study's name (default: the file's stem).
        experiment_path: The experiment file, recorded for people.
        seed: The sampler's seed (default: the experiment's training seed).

    Returns:
        The written study.

    Raises:
        StudyError: On any problem, in one line (nothing is written then).
    """
    out = Path(out)
    if out.exists() and not force:
        raise StudyError(f"{out} exists; pass --force to replace it")
    snapshot = _snapshot(experiment)
    parsed = tuple(_param(text) for text in params)
    study = _assemble(out, snapshot, parsed, trials, sampler, objective, prune, variants,
                      lecture, epochs, name, experiment_path, seed)
    check_study(study)
    atomic_write_json(out, study.to_dict())
    return study


def load_study(path: str | Path) -> StudyFile:
    """Read and check a study file.

    Raises:
        StudyError: When it is missing, not a study file, or invalid.
    """
    from cnnlab.spec.jsonsafe import parse, read_text

    p = Path(path)
    try:
        raw = parse(read_text(p), p)
    except SpecError as exc:
        raise StudyError(str(exc)) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise StudyError(f"{p}: not a cnnlab study file (write one with 'cnnlab study new')")
    if raw.get("version") != VERSION:
        raise StudyError(f"{p}: study file version {brief(raw.get('version'))} is not "
                         f"{VERSION}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise StudyError(f"{p}: unknown key {brief(unknown[0])}")
    items = raw.get("params") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise StudyError(f"{p}: params must be a list of {{path, space}}")
    parsed = tuple(Param(str(i.get("path")), _space(i.get("space"), i.get("path")))
                   for i in items)
    study = _assemble(p, _snapshot(raw.get("experiment")), parsed, raw.get("trials"),
                      raw.get("sampler"), raw.get("objective"), raw.get("prune", False),
                      raw.get("variants") or {}, raw.get("lecture"), raw.get("epochs"),
                      raw.get("name"), raw.get("experiment_path"), raw.get("seed"))
    check_study(study)
    return study


def trial_experiment(study: StudyFile, params: Mapping[str, Any]) -> Experiment:
    """The experiment of one trial: the study's snapshot with the trial's values.

    Args:
        study: The study.
        params: Parameter name -> value (a path, or ``variant`` -> a variant's name).

    Raises:
        StudyError: When a value does not fit the experiment (names path and value).
    """
    from cnnlab.spec.load import experiment_from_dict

    tree = study.experiment
    for path, value in _assignments(study, params):
        try:
            tree = set_value(tree, path, value)
        except PathError as exc:
            raise StudyError(str(exc)) from None
    try:
        return experiment_from_dict(tree)
    except SpecError as exc:
        shown = ", ".join(f"{k}={brief(v, 30)}" for k, v in params.items())
        raise StudyError(f"{shown}: the experiment refuses it: {exc}") from None


def check_study(study: StudyFile) -> None:
    """Check every parameter's bounds or choices, and every variant, against the spec.

    Raises:
        StudyError: Naming the first path and value the spec refuses.
    """
    for param in study.params:
        for value in param.space.probe_values():
            trial_experiment(study, _base_values(study) | {param.path: value})
    for variant in study.variants:
        trial_experiment(study, {VARIANT: variant})
    if study.sampler == "grid" and study.trials > study.grid_size():
        raise StudyError(f"{study.trials} trials are more than the grid's "
                         f"{study.grid_size()} points")


def _assignments(study: StudyFile, params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if VARIANT in params:
        name = params[VARIANT]
        if name not in study.variants:
            raise StudyError(f"no variant {brief(name)} in the study")
        out.extend(study.variants[name].items())
    out.extend((k, v) for k, v in params.items() if k != VARIANT)
    return out


def _base_values(study: StudyFile) -> dict[str, Any]:
    """A variant to go with a probe (the first), so variants and params are checked together."""
    return {VARIANT: next(iter(study.variants))} if study.variants else {}


def _snapshot(experiment: Any) -> dict:
    from cnnlab.spec.load import experiment_from_dict

    if isinstance(experiment, Experiment):
        return experiment.to_dict()
    try:
        return experiment_from_dict(experiment).to_dict()
    except SpecError as exc:
        raise StudyError(f"the study's experiment is invalid: {exc}") from None


def _param(text: Any) -> Param:
    if not isinstance(text, str) or "=" not in text:
        raise StudyError(f"--param must look like PATH=SPACE, e.g. "
                         f"training.optimizer.learning_rate=loguniform(1e-4,1e-1) "
                         f"(got {brief(text)})")
    path, space = text.split("=", 1)
    return Param(path.strip(), _space(space, path.strip()))


def _space(text: Any, path: Any) -> Space:
    try:
        return parse_space(text)
    except SpaceError as exc:
        raise StudyError(f"{path}: {exc}") from None


def _assemble(out: Path, snapshot: dict, params: tuple[Param, ...], trials: Any, sampler: Any,
              objective: Any, prune: Any, variants: Any, lecture: Any, epochs: Any,
              name: Any, experiment_path: Any, seed: Any) -> StudyFile:
    """Check the plain fields and build the StudyFile (the parameters are checked later)."""
    if sampler not in SAMPLERS:
        raise StudyError(f"unknown sampler {brief(sampler)} (known: {', '.join(SAMPLERS)})")
    if objective not in OBJECTIVES:
        raise StudyError(f"unknown objective {brief(objective)} (known: "
                         f"{', '.join(OBJECTIVES)})")
    variants = _variants(variants if variants is not None else {})
    if not params and not variants:
        raise StudyError("a study needs at least one --param PATH=SPACE (or a lecture)")
    paths = [p.path for p in params]
    if len(set(paths)) != len(paths) or VARIANT in paths:
        raise StudyError("each parameter path may be given once (and 'variant' is taken)")
    if objective == "test_accuracy" and not snapshot["data"].get("test_split"):
        raise StudyError("objective test_accuracy needs a test split (data.test_split > 0)")
    name = _name(name if name is not None else out.stem)
    study = StudyFile(out, name, snapshot, params, 1, sampler, objective,
                      _flag(prune, "prune"), str(experiment_path or ""), variants,
                      _lecture(lecture), _count(epochs, "epochs", optional=True),
                      _seed(seed, snapshot))
    if trials is None:
        trials = study.grid_size() if sampler == "grid" else DEFAULT_TRIALS
    elif sampler == "grid":
        study.grid()  # a continuous space under the grid sampler is refused first
    return dataclasses.replace(study, trials=_count(trials, "trials"))


def _variants(raw: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise StudyError("variants must be an object of name -> {path: value}")
    out = {}
    for name, values in raw.items():
        if not isinstance(name, str) or not name or not isinstance(values, Mapping):
            raise StudyError(f"variant {brief(name)} must be a name with {{path: value}}")
        out[name] = dict(values)
    return out


def _name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise StudyError(f"study name {brief(name)} must be letters, digits, '_', '.' or "
                         f"'-' (at most 80), starting with a letter or digit")
    return name


def _lecture(lecture: Any) -> str:
    if lecture is not None and not isinstance(lecture, str):
        raise StudyError(f"lecture must be a name, not {brief(lecture)}")
    return lecture or ""


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise StudyError(f"{key} must be true or false, not {brief(value)}")
    return value


def _count(value: Any, key: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRIALS:
        raise StudyError(f"{key} must be a whole number from 1 to {MAX_TRIALS:,}, not "
                         f"{brief(value)}")
    return value


def _seed(seed: Any, snapshot: dict) -> int:
    if seed is None:
        seed = snapshot["training"].get("seed") or 0
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise StudyError(f"seed must be a whole number >= 0, not {brief(seed)}")
    return seed
