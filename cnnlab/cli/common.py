"""Helpers shared by the subcommands: shapes, experiments, the run store, outputs."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.errors import CnnlabError
from cnnlab.spec import Experiment, load_experiment
from cnnlab.spec.edit import retarget


def parse_shape(text: str | None) -> list[int] | None:
    """``"224,224,3"`` -> ``[224, 224, 3]``.

    Raises:
        CnnlabError: For anything but comma-separated positive integers.

    """
    if text is None:
        return None
    try:
        shape = [int(part) for part in text.replace("x", ",").split(",")]
    except ValueError:
        shape = []
    if not shape or any(s <= 0 for s in shape):
        raise CnnlabError(f"--input must look like 224,224,3 (got {text!r})")
    return shape


def resolve_experiment(ref: str, input_shape=None, classes=None) -> Experiment:
    """An experiment from a file path or a preset name, re-targeted if asked."""
    if classes is not None and classes < 1:
        raise CnnlabError(f"--classes must be at least 1 (got {classes})")
    path = Path(ref)
    if path.suffix.lower() == ".json" or path.exists():
        exp = load_experiment(path)
        return retarget(exp, input_shape, classes)
    from cnnlab.presetlib import load_preset

    return load_preset(ref, input_shape=input_shape, classes=classes)


def open_store(args: argparse.Namespace):
    """The run store of ``--workspace`` (or the default workspace)."""
    from cnnlab.train.store import RunStore

    return RunStore(args.workspace)


def add_workspace(parser: argparse.ArgumentParser) -> None:
    """The ``--workspace DIR`` option."""
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder (default: "
                        "$CNNLAB_HOME or the user data folder)")
