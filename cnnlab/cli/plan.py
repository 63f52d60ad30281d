"""``cnnlab plan``: memory and time of training an experiment, before it trains."""

from __future__ import annotations

import argparse
import json
import sys

from cnnlab.cli.common import resolve_experiment
from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("plan", help="estimate memory and time before training")
    p.add_argument("spec", metavar="SPEC", help="experiment file or preset name")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-time", action="store_true", help="skip the micro-benchmark (memory "
                   "only; the times are null)")
    p.add_argument("--steps", type=int, default=15, metavar="N", help="training steps the "
                   "micro-benchmark times after a warm-up step, 10 to 20 (default 15)")


def run(args: argparse.Namespace) -> int:
    """Print the plan (or its JSON); exit 0, or 2 for an experiment that cannot train."""
    from cnnlab.plan import check_plannable, make_plan

    exp = resolve_experiment(args.spec)
    check_plannable(exp)
    if not args.no_time and not 10 <= args.steps <= 20:
        raise CnnlabError(f"--steps must be 10 to 20 (got {args.steps})")
    progress = None if args.json else _progress_line
    result = make_plan(exp, measure=not args.no_time, steps=args.steps, progress=progress)
    if progress is not None:
        print("", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(format_plan(result, exp))
    return 0


def _progress_line(what: str, done: int, total: int) -> None:
    print(f"\r{what}: {done}/{total}", end="", file=sys.stderr, flush=True)


def format_plan(result, exp) -> str:
    """The plan as a few lines of text."""
    from cnnlab.plan import human_bytes, human_seconds

    m = result.memory
    batch = exp.training.batch_size
    lines = [f"{exp.name}: training at batch size {batch} on {result.device}", "memory:"]
    for part in ("weights", "gradients", "optimizer", "activations", "data"):
        lines.append(f"  {part:<12}{human_bytes(getattr(m, part)):>12}")
    lines.append(f"  {'total':<12}{human_bytes(m.total):>12}")
    have = "unknown" if m.available is None else human_bytes(m.available)
    lines.append(f"  {'available':<12}{have:>12}")
    if result.max_batch_size is not None:
        lines.append(f"largest batch size that fits: {result.max_batch_size:,}")
    t = result.timing
    if t is not None:
        lines.append(f"time (measured on {t.device}, {t.steps_measured} steps after a warm-up):"
                     f" {human_seconds(t.step_seconds)} per step, "
                     f"{human_seconds(t.epoch_seconds)} per epoch, "
                     f"{human_seconds(t.run_seconds)} for {t.epochs} epochs, "
                     f"{t.samples_per_second:,.0f} samples/s")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
