"""``cnnlab plan``: estimate memory and time before training (placeholder)."""

from __future__ import annotations

import argparse

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("plan", help="estimate memory and time before training")
    p.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    """Refuse: not built yet."""
    raise CnnlabError("'cnnlab plan' is not available yet")
