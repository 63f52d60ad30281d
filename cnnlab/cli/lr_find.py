"""``cnnlab lr-find``: find a learning rate with a range test (placeholder)."""

from __future__ import annotations

import argparse

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("lr-find", help="find a learning rate with a range test")
    p.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    """Refuse: not built yet."""
    raise CnnlabError("'cnnlab lr-find' is not available yet")
