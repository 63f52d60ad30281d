"""The ``cnnlab`` command: the window with no arguments, headless work with a subcommand.

Every user error prints one line and exits 2; anything unexpected (a bug in
the lab) prints one line naming a log file with the traceback and exits 1.
Nothing here imports TensorFlow until a subcommand needs it, so ``cnnlab
--help`` is instant.

Modules:
    COMMANDS below is the table: command name -> module with ``add_parser`` and ``run``.
    common: helpers the commands share (shapes, experiments, the run store, outputs).
    presets, summary, validate, new: light commands on experiment files.
    train, runs, inspect, export, convert, report, import_model: work on runs and models.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cnnlab.errors import CnnlabError

EPILOG = "Run 'cnnlab COMMAND --help' for the options of a command. With no command, " \
         "cnnlab opens the window."


# The subcommands in the order of ``cnnlab --help``: name -> module (``add_parser``, ``run``).
COMMANDS = {
    "presets": "presets", "summary": "summary", "validate": "validate", "new": "new",
    "train": "train", "runs": "runs", "inspect": "inspect", "export": "export",
    "convert": "convert", "report": "report", "import": "import_model",
    "study": "study", "data": "data_check", "plan": "plan", "lr-find": "lr_find",
}
TENSORFLOW_COMMANDS = ("train", "inspect", "export", "convert", "report", "import", "plan",
                       "lr-find")
# Options of the window (cnnlab.ui.app.parse_args) that may come first: `cnnlab --workspace D`.
WINDOW_OPTIONS = ("--workspace", "--startup-probe", "--tensorflow-probe", "--no-tensorflow")


def _module(command: str):
    import importlib

    return importlib.import_module(f"cnnlab.cli.{COMMANDS[command]}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="cnnlab", description="CNN Lab: build, train and "
                                     "understand convolutional networks.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        _module(command).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnlab`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or _opens_a_file(argv[0]) or _window_option(argv[0]):
        return _open_window(argv)  # `cnnlab`, `cnnlab experiment.json`, `cnnlab --workspace D`
    args = build_parser().parse_args(argv)
    if args.command is None:
        return _open_window(argv)
    from cnnlab.tfquiet import quiet_environment

    quiet_environment()
    try:
        return _dispatch(args)
    except CnnlabError as exc:
        print(f"cnnlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cnnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cnnlab summary vgg16 | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback in a log
        return _internal_error(exc, args, argv)


def _opens_a_file(first: str) -> bool:
    """True for ``cnnlab experiment.json``: open that file in the window."""
    return first not in COMMANDS and first.lower().endswith(".json")


def _window_option(first: str) -> bool:
    """True for ``cnnlab --workspace DIR`` and the window's other options: open the window."""
    return first.split("=", 1)[0] in WINDOW_OPTIONS


def _internal_error(exc: Exception, args: argparse.Namespace, argv: list[str]) -> int:
    """Print one line naming the log file that holds the traceback; exit status 1."""
    from cnnlab.cli.common import write_error_log

    log = write_error_log(exc, getattr(args, "workspace", None), argv)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    where = f"the traceback is in {log}" if log else "no log file could be written"
    print(f"cnnlab: error: internal error (a bug in the lab, please report it): {what}; "
          f"{where}", file=sys.stderr)
    return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in TENSORFLOW_COMMANDS:
        from cnnlab.tfquiet import import_tensorflow

        import_tensorflow()  # without TensorFlow's start-up lines on stderr
    return _module(args.command).run(args)


def _open_window(argv: list[str]) -> int:
    """Open the window, or say in one line why it cannot start here (exit 2).

    The display and Qt's system libraries are checked before anything of Qt
    loads: Qt itself would abort the process with a screenful of advice.
    """
    from cnnlab.startup_check import window_start_problem

    problem = window_start_problem()
    if problem is not None:
        print(f"cnnlab: error: {problem}", file=sys.stderr)
        return 2
    try:
        from cnnlab.ui.app import main as ui_main
    except ImportError as exc:
        print(f"cnnlab: error: the window needs PySide6 and pyqtgraph ({exc})",
              file=sys.stderr)
        return 2
    return ui_main(argv)


def _version() -> str:
    from cnnlab import __version__

    return f"cnnlab {__version__}"


if __name__ == "__main__":
    sys.exit(main())
