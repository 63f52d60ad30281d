"""``cnnlab train``: train an experiment headless, resume a run, or branch one."""

from __future__ import annotations

import argparse

from cnnlab.cli.common import add_workspace, resolve_experiment
from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("train", help="train an experiment headless")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="experiment file or preset name")
    p.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    add_workspace(p)
    p.add_argument("--resume", metavar="ID", help="resume a stopped or interrupted run from "
                   "its last complete epoch (or complete one killed while saving its model)")
    p.add_argument("--fork", metavar="RUN[@EPOCH]", help="branch run RUN: start a new run "
                   "from its checkpoint after EPOCH completed epochs (default: its last), "
                   "weights and optimizer state, trained with SPEC (default: RUN's own "
                   "spec); the epochs continue RUN's numbering and RUN is never changed")
    p.add_argument("--json", action="store_true", help="end with one JSON line (metrics "
                   "include test_loss and test_accuracy from the test split)")


def run(args: argparse.Namespace) -> int:
    """Train with a progress display."""
    from cnnlab.train.headless import train_command

    if args.epochs is not None and args.epochs < 1:
        raise CnnlabError(f"--epochs must be at least 1 (got {args.epochs})")
    if not args.spec and not args.resume and not args.fork:
        raise CnnlabError("train needs an experiment file (or --resume ID, or --fork RUN)")
    if args.resume and args.fork:
        raise CnnlabError("a run is either resumed or branched: give --resume or --fork")
    exp = resolve_experiment(args.spec) if args.spec else None
    return train_command(exp, epochs=args.epochs, workspace=args.workspace,
                         json_out=args.json, resume=args.resume, fork=args.fork)
