"""``cnnlab runs samples RUN``: the per-sample records of a run (being built)."""

from __future__ import annotations

import argparse

from cnnlab.errors import CnnlabError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``runs samples`` to the ``runs`` parser."""


def run(store, args: argparse.Namespace) -> int:
    """Refuse: not built yet."""
    raise CnnlabError("'cnnlab runs samples' is not available yet")
