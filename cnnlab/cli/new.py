"""``cnnlab new``: write a starting experiment file."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.cli.common import parse_shape
from cnnlab.errors import CnnlabError
from cnnlab.spec import save_experiment


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("new", help="write a starting experiment file")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (default: the "
                   "small CNN on shapes)")
    p.add_argument("--input", metavar="H,W,C", help="input shape")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    """Write the file, never overwriting by accident."""
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CnnlabError(f"{out} already exists; use --force to overwrite it")
    from cnnlab.presetlib import load_preset, match_data

    exp = load_preset(args.preset or "default", input_shape=parse_shape(args.input),
                      classes=args.classes)
    exp, note = match_data(exp)
    save_experiment(exp, out)
    print(f"wrote {out} ({exp.name})" + (f"; {note}" if note else ""))
    return 0
