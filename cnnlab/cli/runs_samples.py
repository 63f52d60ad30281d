"""``cnnlab runs samples RUN``: a run's per-sample records, sorted and filtered.

Lists each recorded sample (every validation sample and the training
sample the run recorded) as the last recorded epoch saw it: its id (the
file's path under the dataset folder, or ``train[N]``), split, true and
predicted class, loss, confidence, the first epoch it was learned and how
often it was forgotten. Read-only, like every ``runs`` action.
"""

from __future__ import annotations

import argparse
import json
import math

from cnnlab.errors import CnnlabError

SORT_CHOICES = ("loss", "wrong-confident", "ambiguous", "forgotten")
ID_WIDTH = 40


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``runs samples`` to the ``runs`` parser."""
    group = p.add_argument_group("runs samples RUN")
    group.add_argument("--sort", choices=SORT_CHOICES, default="loss",
                       help="order: highest loss, wrong and confident, ambiguous (two classes "
                       "nearly tied) or most often forgotten first (default: loss)")
    group.add_argument("--class", dest="class_name", metavar="NAME",
                       help="only samples whose true class is NAME")
    group.add_argument("--predicted", metavar="NAME", help="only samples predicted as NAME")
    group.add_argument("--split", choices=("val", "train"), help="only validation or only "
                       "training samples")
    group.add_argument("--limit", type=int, metavar="N", help="at most N samples")


def run(store, args: argparse.Namespace) -> int:
    """Print the samples of one run as a table or JSON."""
    from cnnlab.runs.samples import read_samples

    if len(args.ids) != 1:
        raise CnnlabError("runs samples needs one run id")
    if args.limit is not None and args.limit < 1:
        raise CnnlabError(f"--limit must be at least 1 (got {args.limit})")
    run_id = args.ids[0]
    record = store.get(run_id)
    table = read_samples(store.run_dir(run_id), max_epochs=record.epochs_done)
    rows = table.rows(sort=args.sort, true_class=args.class_name,
                      predicted_class=args.predicted, split=args.split, limit=args.limit)
    if args.json:
        print(json.dumps({"run_id": run_id, "epochs": table.epochs,
                          "first_epoch": table.first_epoch, "class_names": table.class_names,
                          "sort": args.sort, "samples": [_json_row(r) for r in rows]},
                         indent=2))
        return 0
    print(f"{run_id}: {len(rows)} of {len(table)} recorded samples after epoch "
          f"{table.first_epoch + table.epochs - 1}, sorted by {args.sort}")
    if rows:
        _print_table(rows)
    return 0


def _json_row(row) -> dict:
    data = row.to_json()
    for key in ("loss", "confidence"):
        if not math.isfinite(data[key]):
            data[key] = None
    return data


def _print_table(rows) -> None:
    width = min(max(len(r.id) for r in rows), ID_WIDTH)
    true_w = max(4, *(len(r.true) for r in rows))
    pred_w = max(9, *(len(r.predicted) for r in rows))
    print(f"{'id':<{width}}  {'split':<5}  {'true':<{true_w}}  {'predicted':<{pred_w}}  "
          f"{'loss':>8}  {'conf':>6}  {'learned':>7}  {'forgotten':>9}")
    for r in rows:
        learned = "-" if r.first_learned is None else str(r.first_learned)
        print(f"{_clip(r.id, width):<{width}}  {r.split:<5}  {r.true:<{true_w}}  "
              f"{r.predicted:<{pred_w}}  {r.loss:>8.4f}  {r.confidence:>6.3f}  "
              f"{learned:>7}  {r.forgotten:>9}")


def _clip(text: str, width: int) -> str:
    """Keep the end of a long id (the file name), marked with an ellipsis."""
    return text if len(text) <= width else "..." + text[-(width - 3):]
