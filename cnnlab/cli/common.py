"""Helpers shared by the subcommands: shapes, experiments, the run store, outputs."""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from cnnlab.atomic import atomic_write_text
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


def open_store(args: argparse.Namespace, read_only: bool = False):
    """The run store of ``--workspace`` (or the default workspace).

    Commands that only read (inspect, export, runs) pass ``read_only=True``:
    they then work on a read-only workspace and never write into it.
    """
    from cnnlab.runs.store import RunStore

    return RunStore(args.workspace, read_only=read_only)


def add_workspace(parser: argparse.ArgumentParser) -> None:
    """The ``--workspace DIR`` option."""
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder (default: "
                        "$CNNLAB_HOME or the user data folder)")


def write_error_log(exc: BaseException, workspace: str | None, argv: Sequence[str]) -> Path | None:
    """Write the traceback of an unexpected error to ``logs/error-TIMESTAMP.log``.

    The folder is the workspace's (``--workspace``, else ``$CNNLAB_HOME``, else
    the user data folder), or the temp dir when that cannot be written.

    Returns:
        The log file, or None when no folder could take it.

    """
    from cnnlab import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S-%fZ")
    text = (f"cnnlab {__version__}, Python {sys.version.split()[0]}\n"
            f"command: cnnlab {' '.join(argv)}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    for folder in _log_folders(workspace):
        target = folder / f"error-{stamp}.log"
        try:
            if not target.exists():  # a new name each time: never replaces a file
                atomic_write_text(target, text)
                return target
        except (OSError, ValueError):
            continue
    return None


def _log_folders(workspace: str | None) -> list[Path]:
    folders = []
    try:
        from cnnlab.runs.workspace import resolve_workspace

        folders.append(resolve_workspace(workspace) / "logs")
    except (OSError, RuntimeError, ValueError):
        pass
    folders.append(Path(tempfile.gettempdir()) / "cnnlab-logs")
    return folders
