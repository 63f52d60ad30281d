"""``cnnlab lr-find``: find a learning rate with Smith's range test."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cnnlab.cli.common import resolve_experiment
from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("lr-find", help="find a learning rate with a range test")
    p.add_argument("spec", metavar="SPEC", help="experiment file or preset name")
    p.add_argument("--json", action="store_true", help='print {"suggested", "rates", "losses"}')
    p.add_argument("--steps", type=int, default=100, metavar="N", help="steps of the ramp "
                   "(default 100)")
    p.add_argument("--start", type=float, default=1e-7, metavar="RATE", help="first rate "
                   "(default 1e-7)")
    p.add_argument("--end", type=float, default=10.0, metavar="RATE", help="last rate "
                   "(default 10)")
    p.add_argument("--apply", action="store_true", help="write the experiment with the "
                   "suggested rate: to --out, or over SPEC with --force")
    p.add_argument("--out", metavar="FILE", help="with --apply: the experiment file to write")
    p.add_argument("--force", action="store_true", help="with --apply: replace an existing file")


def run(args: argparse.Namespace) -> int:
    """Run the test; print the suggestion (or the JSON); write the experiment if asked."""
    from cnnlab.plan import check_plannable, find_learning_rate

    exp = resolve_experiment(args.spec)
    target = _apply_target(args) if args.apply else None
    check_plannable(exp)
    progress = None if args.json else _progress_line
    result = find_learning_rate(exp, args.steps, args.start, args.end, progress=progress)
    if progress is not None:
        print("", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(_summary(result, exp))
    if target is not None:
        _write(exp, result.suggested, target)
    return 0


def _apply_target(args: argparse.Namespace) -> Path:
    """Where ``--apply`` writes; refused before the test runs."""
    target = Path(args.out) if args.out else Path(args.spec)
    if not args.out and not (target.suffix.lower() == ".json" and target.is_file()):
        raise CnnlabError(f"--apply needs --out FILE for {args.spec!r} (not an experiment file)")
    if target.suffix.lower() != ".json":
        raise CnnlabError(f"--out must name a .json experiment file (got {target})")
    if target.exists() and not args.force:
        raise CnnlabError(f"{target} exists; add --force to replace it, or give another --out")
    if target.exists() and not target.is_file():
        raise CnnlabError(f"{target} is not a file")
    return target


def _write(exp, rate: float | None, target: Path) -> None:
    from cnnlab.plan import with_learning_rate
    from cnnlab.spec import save_experiment

    if rate is None:
        raise CnnlabError("the range test found no clearly falling loss to suggest a rate "
                          "from; nothing was written (try more steps: --steps 300)")
    save_experiment(with_learning_rate(exp, rate), target)
    print(f"wrote {target} (learning_rate {rate:g})", file=sys.stderr)


def _summary(result, exp) -> str:
    now = exp.training.optimizer.learning_rate
    tried = f"{len(result.rates)} steps from {result.rates[0]:.3g} to {result.rates[-1]:.3g}"
    end = ", stopped when the loss exploded" if result.stopped_early else ""
    if result.suggested is None:
        return (f"range test: {tried}{end}; no rate to suggest: the smoothed loss never fell "
                f"clearly; the model learns too little in {len(result.rates)} steps, so try "
                f"more (--steps 300)")
    return (f"range test: {tried}{end}\nsuggested learning rate: {result.suggested:g} "
            f"(steepest descent of the smoothed loss; the experiment has {now:g})")


def _progress_line(done: int, total: int) -> None:
    print(f"\rrange test: step {done}/{total}", end="", file=sys.stderr, flush=True)
