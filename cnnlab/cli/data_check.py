"""``cnnlab data``: check a dataset's health (placeholder)."""

from __future__ import annotations

import argparse

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("data", help="check a dataset's health")
    p.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    """Refuse: not built yet."""
    raise CnnlabError("'cnnlab data' is not available yet")
