"""The ``cnnlab`` command: the window with no arguments, headless work with a subcommand.

Every user error prints one line and exits 2; nothing here imports TensorFlow
until a subcommand needs it, so ``cnnlab --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cnnlab.errors import CnnlabError

EPILOG = "Run 'cnnlab COMMAND --help' for the options of a command. With no command, " \
         "cnnlab opens the window."


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="cnnlab", description="CNN Lab: build, train and "
                                     "understand convolutional networks.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_light_commands(sub)
    _add_run_commands(sub)
    _add_model_commands(sub)
    return parser


def _add_light_commands(sub) -> None:
    p = sub.add_parser("presets", help="list the network presets")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("summary", help="per-layer table: shapes, parameters, multiply-adds")
    p.add_argument("spec", metavar="SPEC_OR_PRESET", help="experiment file or preset name")
    p.add_argument("--input", metavar="H,W,C", help="input shape, e.g. 224,224,3")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = sub.add_parser("validate", help="check an experiment file")
    p.add_argument("spec", metavar="SPEC")
    p = sub.add_parser("new", help="write a starting experiment file")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (default: the "
                   "small CNN on shapes)")
    p.add_argument("--input", metavar="H,W,C", help="input shape")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def _add_run_commands(sub) -> None:
    p = sub.add_parser("train", help="train an experiment headless")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="experiment file or preset name")
    p.add_argument("--epochs", type=int, metavar="N", help="override the number of epochs")
    p.add_argument("--workspace", metavar="DIR", help="workspace folder (default: "
                   "$CNNLAB_HOME or the user data folder)")
    p.add_argument("--resume", metavar="ID", help="resume an interrupted run")
    p.add_argument("--json", action="store_true", help="end with one JSON line")
    p = sub.add_parser("runs", help="list, show or compare runs")
    p.add_argument("action", nargs="?", default="list", choices=("list", "show", "diff"))
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--workspace", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_model_commands(sub) -> None:
    p = sub.add_parser("inspect", help="look inside a trained model; write a PNG")
    p.add_argument("target", metavar="RUN_OR_MODEL", help="run id or .keras/.h5 file")
    p.add_argument("--method", required=True, choices=(
        "filters", "feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam",
        "fantasy", "confusion"))
    p.add_argument("--layer", metavar="ID", help="block id")
    p.add_argument("--image", metavar="PATH", help="input image (default: a sample)")
    p.add_argument("--class", dest="class_index", type=int, metavar="N", help="class index")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--workspace", metavar="DIR")
    p = sub.add_parser("export", help="export a run's model")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--format", required=True, choices=("keras", "h5", "savedmodel", "python"))
    p.add_argument("--out", required=True, metavar="PATH")
    p.add_argument("--workspace", metavar="DIR")
    p = sub.add_parser("import", help="turn a Keras model file into an experiment")
    p.add_argument("model", metavar="MODEL_FILE")
    p.add_argument("--out", required=True, metavar="SPEC.json")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnlab`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return _open_window([])
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


def _dispatch(args: argparse.Namespace) -> int:
    import importlib

    if args.command in ("train", "inspect", "export", "import"):
        from cnnlab.tfquiet import import_tensorflow

        import_tensorflow()  # without TensorFlow's start-up lines on stderr
    light = ("presets", "summary", "validate", "new", "train")
    module = "cnnlab.cli_commands" if args.command in light else "cnnlab.cli_models"
    handler = getattr(importlib.import_module(module), f"cmd_{args.command}")
    return handler(args)


def _open_window(argv: list[str]) -> int:
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
