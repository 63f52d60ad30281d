"""``cnnlab inspect RUN_OR_MODEL --method M --out FILE.png``: a labelled picture of the inside."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.cli.common import add_workspace, open_store
from cnnlab.errors import CnnlabError
from cnnlab.inspect.settings import (
    DREAM_DEFAULTS,
    FANTASY_DEFAULTS,
    LIMITS,
    METHODS,
    check_setting,
)

CONFUSION_SAMPLES = 2000
ASCENT_METHODS = ("fantasy", "deep-dream")


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("inspect", help="look inside a trained model; write a labelled PNG",
                       description="Write one labelled figure (title, axes, colour bars) "
                       "of a trained model as a PNG.")
    p.add_argument("target", metavar="RUN_OR_MODEL", help="run id or .keras/.h5 file")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--layer", metavar="ID", help="block id (deep-dream: ids separated by "
                   "commas; default: the last convolution)")
    p.add_argument("--image", metavar="PATH", help="input image (default: the run's first "
                   "test sample)")
    p.add_argument("--class", dest="class_index", type=int, metavar="N",
                   help="class index (fantasy of a layer: the filter index)")
    _ascent_options(p)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--force", action="store_true", help="replace an existing FILE.png")
    add_workspace(p)


def _ascent_options(p: argparse.ArgumentParser) -> None:
    lo, hi = LIMITS["octaves"]
    p.add_argument("--octaves", type=int, metavar="N", help=f"deep-dream scales, {lo}..{hi} "
                   f"(default {DREAM_DEFAULTS['octaves']})")
    lo, hi = LIMITS["steps"]
    p.add_argument("--steps", type=int, metavar="N", help=f"gradient steps, {lo}..{hi}: per "
                   f"octave for deep-dream (default {DREAM_DEFAULTS['steps']}), fantasy "
                   f"(default {FANTASY_DEFAULTS['steps']})")
    lo, hi = LIMITS["step_size"]
    p.add_argument("--step-size", type=float, metavar="X", help=f"step as a fraction of the "
                   f"value range, {lo:g}..{hi:g} (default deep-dream "
                   f"{DREAM_DEFAULTS['step_size']}, fantasy {FANTASY_DEFAULTS['step_size']})")


def check_options(args: argparse.Namespace) -> None:
    """Refuse options the method does not use and values out of range (one line)."""
    if args.octaves is not None and args.method != "deep-dream":
        raise CnnlabError("--octaves is for --method deep-dream only")
    for name, value in (("steps", args.steps), ("step_size", args.step_size)):
        option = "--" + name.replace("_", "-")
        if value is not None and args.method not in ASCENT_METHODS:
            raise CnnlabError(f"{option} is for --method fantasy or deep-dream only")
    for name in ("octaves", "steps", "step_size"):
        value = getattr(args, name)
        if value is not None:
            check_setting(name, value, "--" + name.replace("_", "-"))


def run(args: argparse.Namespace) -> int:
    """Check the options and the output, then draw the method's figure and write it."""
    from cnnlab.inspect.figures import save_png

    figure, out = build_figure(args)
    save_png(figure, out)
    print(f"wrote {out}")
    return 0


def build_figure(args: argparse.Namespace):
    """The labelled figure the options ask for, and the checked output path.

    The options and the output path are checked before any model is loaded:
    a wrong suffix or an existing file without ``--force`` costs nothing.

    Raises:
        CnnlabError: For bad options, a refused output, or bad input.

    """
    from cnnlab.outputs import check_output

    check_options(args)
    out = check_output(args.out, force=args.force, suffixes=(".png",), what="the picture")
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    from cnnlab.inspect.report import Request, inspection_figure

    session = _session(args)
    fields = _inputs(args, session)
    request = Request(method=args.method, source=session.source, layer=args.layer,
                      class_index=args.class_index, steps=args.steps,
                      step_size=args.step_size, octaves=args.octaves, **fields)
    return inspection_figure(session.model, request), out


def _session(args: argparse.Namespace):
    """The inspection session of a model file or a run (its samples unless ``filters``)."""
    from cnnlab.inspect.session import is_model_file, open_model_file, open_run

    if is_model_file(args.target):
        return open_model_file(args.target, samples=False)
    count = CONFUSION_SAMPLES if args.method == "confusion" else 1
    count = 0 if args.method == "filters" else count
    return open_run(open_store(args, read_only=True), args.target, samples=count, strict=True)


def _inputs(args: argparse.Namespace, session) -> dict:
    """The Request fields that come from the data: image, labels, class names, range."""
    fields: dict = {"class_names": session.class_names, "value_range": session.value_range}
    if session.has_data:
        fields.update(image=session.samples[0], image_label=session.sample_label(0),
                      eval_data=(session.samples, session.sample_labels, session.split))
    if args.image:
        fields["image"] = session.fit(_read_image(args.image))
        fields["image_label"] = Path(args.image).name
    return fields


def _read_image(path: str):
    """An image file as a uint8 array (PNG, JPEG, BMP, GIF), or one line why not."""
    import tensorflow as tf

    try:
        data = tf.io.read_file(path)
        img = tf.io.decode_image(data, expand_animations=False).numpy()
    except (tf.errors.OpError, ValueError) as exc:
        raise CnnlabError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    return img
