"""``cnnlab study``: define, run and compare studies of many runs (Optuna).

- ``cnnlab study new STUDY.json --experiment EXP.json --param 'PATH=SPACE' ...``
- ``cnnlab study run STUDY.json [--workers N] [--storage URL] [--workspace DIR] [--json]``
- ``cnnlab study show STUDY.json [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cnnlab.cli.common import add_workspace
from cnnlab.errors import CnnlabError

SHOW_KEYS = ("study", "direction", "best", "trials", "importance")
TRIAL_KEYS = ("number", "state", "params", "value", "run_id")


def add_parser(sub) -> None:
    """Register the subcommand and its actions."""
    p = sub.add_parser("study", help="define, run and compare studies of many runs",
                       description="Studies: many runs from one experiment, sampled, pruned "
                       "and compared with Optuna, on one machine or many.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_new(actions)
    _add_run(actions)
    _add_show(actions)


def _add_new(actions) -> None:
    p = actions.add_parser("new", help="define a study from an experiment")
    p.add_argument("study", metavar="STUDY.json", help="the study file to write")
    p.add_argument("--experiment", metavar="EXP", required=True,
                   help="the experiment file (or a preset name) the trials start from")
    p.add_argument("--param", action="append", default=[], metavar="PATH=SPACE",
                   help="a sampled parameter: PATH as in the experiment file "
                   "(training.optimizer.learning_rate, model.nodes[conv1].params.filters), "
                   "SPACE loguniform(a,b), uniform(a,b), int(a,b) or choice(a,b,...)")
    p.add_argument("--trials", type=int, metavar="N", help="the budget of finished trials "
                   "(default: the grid's size for grid, else 10)")
    p.add_argument("--sampler", choices=("grid", "random", "tpe"), default=None,
                   help="how values are chosen (default: tpe; grid for --lecture)")
    p.add_argument("--objective", choices=("val_accuracy", "val_loss", "test_accuracy"),
                   default="val_accuracy", help="what a trial is judged by")
    p.add_argument("--prune", action="store_true", help="stop trials whose per-epoch "
                   "validation metric is below the median of earlier trials")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs per trial")
    p.add_argument("--lecture", metavar="NAME", help="a built-in lecture study (its "
                   "variants are sampled as the parameter 'variant')")
    p.add_argument("--name", help="the study's name (default: the file's name)")
    p.add_argument("--seed", type=int, help="the sampler's seed (default: the experiment's)")
    p.add_argument("--force", action="store_true", help="replace an existing study file")


def _add_run(actions) -> None:
    p = actions.add_parser("run", help="run trials until the budget is spent")
    p.add_argument("study", metavar="STUDY.json")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local worker processes on the same storage (default 1)")
    _add_storage(p)
    p.add_argument("--heartbeat", type=int, metavar="SECONDS", help="seconds between a "
                   "running trial's heartbeats; a trial silent for three is retried "
                   "(default 10)")
    p.add_argument("--json", action="store_true", help="end with one JSON summary")


def _add_show(actions) -> None:
    p = actions.add_parser("show", help="the trials, the best trial and the importances")
    p.add_argument("study", metavar="STUDY.json")
    _add_storage(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _add_storage(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", metavar="URL", help="the study's database, shared by "
                   "workers on several machines (postgresql://..., mysql://..., "
                   "sqlite:///FILE; default: WORKSPACE/studies/NAME.db)")
    add_workspace(p)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action."""
    return {"new": _new, "run": _run, "show": _show}[args.action](args)


def _new(args: argparse.Namespace) -> int:
    from cnnlab.cli.common import resolve_experiment
    from cnnlab.studies import new_study

    experiment = resolve_experiment(args.experiment).to_dict()
    variants = _lecture_variants(args.lecture, experiment) if args.lecture else None
    sampler = args.sampler or ("grid" if args.lecture else "tpe")
    study = new_study(args.study, experiment, args.param, trials=args.trials,
                      sampler=sampler, objective=args.objective, prune=args.prune,
                      variants=variants, lecture=args.lecture, epochs=args.epochs,
                      force=args.force, name=args.name, seed=args.seed,
                      experiment_path=args.experiment)
    print(f"wrote {args.study} (study {study.name}: {study.trials} trials, "
          f"{study.sampler} over {', '.join(study.param_names)})")
    return 0


def _lecture_variants(name: str, experiment: dict) -> dict:
    try:
        from cnnlab.studies.lecture import lecture_variants
    except ImportError:
        raise CnnlabError("lecture studies are not available in this version") from None
    return lecture_variants(name, experiment)


def _run(args: argparse.Namespace) -> int:
    from cnnlab.studies import load_study, run_study
    from cnnlab.train.events import Control
    from cnnlab.train.headless import stop_on_sigint

    if args.workers < 1:
        raise CnnlabError(f"--workers must be at least 1 (got {args.workers})")
    if args.heartbeat is not None and args.heartbeat < 1:
        raise CnnlabError(f"--heartbeat must be at least 1 second (got {args.heartbeat})")
    study = load_study(args.study)
    if args.workers == 1:
        from cnnlab.tfquiet import import_tensorflow

        import_tensorflow()
    control = Control()
    with stop_on_sigint(control):
        summary = run_study(study, workspace=args.workspace, storage=args.storage,
                            workers=args.workers, sink=_progress, control=control,
                            heartbeat=args.heartbeat)
    if args.json:
        print(json.dumps(summary), flush=True)
    if summary["interrupted"]:
        print(f"stopped: {summary['finished']} of {summary['budget']} trials finished; "
              f"'cnnlab study run {args.study}' continues", file=sys.stderr)
        return 130
    return 0


def _progress(event: Any) -> None:
    """One line on stderr per ended trial."""
    from cnnlab.studies.events import TrialEnded

    if not isinstance(event, TrialEnded):
        return
    value = "-" if event.value is None else f"{event.value:.4f}"
    params = ", ".join(f"{k}={_short(v)}" for k, v in event.params.items())
    why = f" ({event.message})" if event.message else ""
    print(f"trial {event.number} {event.state.lower()}{why}: {value}, run "
          f"{event.run_id or '-'}, {event.seconds:.1f} s [{event.finished}/{event.budget}] "
          f"{params}", file=sys.stderr, flush=True)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _show(args: argparse.Namespace) -> int:
    from cnnlab.studies import load_study, study_summary
    from cnnlab.studies.summary import table_lines

    study = load_study(args.study)
    summary = study_summary(study, storage=args.storage, workspace=args.workspace)
    if args.json:
        shown = {k: summary[k] for k in SHOW_KEYS}
        shown["trials"] = [{k: t[k] for k in TRIAL_KEYS} for t in summary["trials"]]
        print(json.dumps(shown))
        if summary.get("importance_note"):
            print(f"note: {summary['importance_note']}", file=sys.stderr)
        return 0
    lines = table_lines(summary) + _lecture_lines(summary, args.workspace)
    print("\n".join(lines))
    return 0


def _lecture_lines(summary: dict, workspace: str | None) -> list[str]:
    if not summary.get("lecture"):
        return []
    try:
        from cnnlab.studies.lecture import lecture_table
    except ImportError:
        return []
    return list(lecture_table(summary, workspace=workspace))
