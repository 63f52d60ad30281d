"""``cnnlab study``: define, run and compare studies of many runs (placeholder)."""

from __future__ import annotations

import argparse

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("study", help="define, run and compare studies of many runs")
    p.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    """Refuse: not built yet."""
    raise CnnlabError("'cnnlab study' is not available yet")
