"""``cnnlab runs [list|show ID|diff A B]``: the run history.

Every action only reads: the workspace is opened read-only (nothing is
written or created in it), so ``runs`` works on a read-only workspace too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import datetime, timezone

from cnnlab.cli import runs_samples
from cnnlab.cli.common import add_workspace
from cnnlab.errors import CnnlabError

RUN_JSON_KEYS = ("id", "name", "status", "epochs_done", "epochs_planned", "best_val_accuracy",
                 "test_loss", "test_accuracy", "test_top5", "deterministic", "parent", "fork_epoch",
                 "run_dir")
# How `runs show` names the test metrics, in order.
TEST_LABELS = (("test_loss", "loss"), ("test_accuracy", "accuracy"), ("test_top5", "top-5"))


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("runs", help="list, show or compare runs")
    p.add_argument("action", nargs="?", default="list", choices=("list", "show", "diff", "samples"))
    p.add_argument("ids", nargs="*", metavar="ID")
    add_workspace(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    runs_samples.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    """List, show or diff; then any notes on the workspace, on stderr."""
    from cnnlab.runs.store import RunStore

    store = RunStore(args.workspace, read_only=True)
    try:
        return _dispatch(store, args)
    finally:
        for note in store.notes:
            print(f"cnnlab: note: {note}", file=sys.stderr)


def _dispatch(store, args: argparse.Namespace) -> int:
    if args.action == "samples":
        return runs_samples.run(store, args)
    if args.action == "list":
        return _runs_list(store, args)
    if args.action == "show":
        if len(args.ids) != 1:
            raise CnnlabError("runs show needs one run id")
        return _runs_show(store, args.ids[0], args.json)
    if len(args.ids) != 2:
        raise CnnlabError("runs diff needs two run ids")
    diff = store.diff(*args.ids)
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print("\n".join(diff.lines()) or "the two runs have the same experiment")
    return 0


def _runs_list(store, args: argparse.Namespace) -> int:
    """Runs newest first, each followed by its branches (indented under it)."""
    from cnnlab.runs.records import tree_order

    runs = tree_order(store.list_runs())
    if args.json:
        print(json.dumps([{k: r.to_json()[k] for k in RUN_JSON_KEYS} for r, _ in runs],
                         indent=2))
        return 0
    if not runs:
        print(f"no runs in {store.workspace}")
        return 0
    width = max(22, *(len(r.id) + 2 * depth for r, depth in runs))
    print(f"{'id':<{width}} {'status':<11} {'epochs':>7} {'best val acc':>12} {'test acc':>8} "
          f"{'repro':>5}  name")
    for r, depth in runs:
        epochs = f"{r.epochs_done}/{r.epochs_planned or '?'}"
        ident = "  " * depth + r.id
        branch = f" (branch @{r.fork_epoch} of {r.parent})" if r.parent else ""
        print(f"{ident:<{width}} {r.status:<11} {epochs:>7} {_number(r.best_val_accuracy):>12} "
              f"{_number(r.test_accuracy):>8} {'yes' if r.deterministic else '':>5}  "
              f"{r.name}{branch}")
    return 0


def _runs_show(store, run_id: str, as_json: bool) -> int:
    record = store.get(run_id)
    metrics = store.metrics(run_id)
    if as_json:
        print(json.dumps({**record.to_json(), "metrics": metrics}, indent=2, default=str))
        return 0
    started = _when(record.started_at or record.created_at)
    print(f"{record.id}  {record.name}\nstatus: {record.status}"
          + (f" ({record.message})" if record.message else "")
          + f"\nstarted: {started}\nepochs: {record.epochs_done}/{record.epochs_planned}"
          f"\ndevice: {record.device or '?'}\nfolder: {record.run_dir}")
    if record.parent:
        steer = record.metadata.get("fork", {}).get("steer") or ["the same spec"]
        print(f"branch of {record.parent} after epoch {record.fork_epoch}; steer: "
              + "; ".join(steer))
    print(f"test: {_test_line(record)}")
    print("reproducible: " + ("yes (training.deterministic)" if record.deterministic else "no"))
    names = sorted(metrics)
    if names:
        print("epoch  " + "  ".join(f"{n:>12}" for n in names))
        for i in range(record.fork_epoch or 0, max(len(v) for v in metrics.values())):
            row = [metrics[n][i] if i < len(metrics[n]) else float("nan") for n in names]
            print(f"{i + 1:>5}  " + "  ".join(f"{v:>12.4g}" for v in row))
    return 0


def _test_line(record) -> str:
    """``loss 0.4213  accuracy 0.8750  top-5 1.0000``, or why there is none."""
    parts = [f"{label} {getattr(record, key):.4f}" for key, label in TEST_LABELS
             if getattr(record, key) is not None]
    return "  ".join(parts) if parts else "not evaluated"


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4f}"


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
