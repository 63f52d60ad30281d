"""``cnnlab new``: write a starting experiment file, optionally with a pretrained base.

``--base`` splices the base into the graph with the same function as the
window's Recipe > Transfer > Insert base (:func:`cnnlab.modelio.splice.insert_base`),
so the file holds the base's blocks and trains as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.cli.common import parse_shape
from cnnlab.errors import CnnlabError
from cnnlab.spec import save_experiment

STRATEGIES = ("none", "scratch", "feature_extractor", "fine_tune", "multipliers")
BASE_ONLY = ("base_source", "weights", "weights_file", "cut_at")


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("new", help="write a starting experiment file")
    p.add_argument("out", metavar="OUT.json")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (default: the "
                   "small CNN on shapes)")
    p.add_argument("--input", metavar="H,W,C", help="input shape")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    t = p.add_argument_group("transfer learning")
    t.add_argument("--base", metavar="NAME_OR_FILE", help="pretrained base: a Keras "
                   "application (MobileNetV2, ResNet50, ...), a preset, or a .keras/.h5 file; "
                   "it replaces the network's feature extractor and keeps its head")
    t.add_argument("--base-source", choices=("application", "preset", "file"),
                   help="what --base names (default: guessed)")
    t.add_argument("--weights", choices=("imagenet", "random"), help="application weights "
                   "(default imagenet, from Keras's cache)")
    t.add_argument("--weights-file", metavar="PATH", help="local weights file for the "
                   "application")
    t.add_argument("--cut-at", metavar="LAYER", help="last base layer kept (default: the "
                   "last with an image output)")
    t.add_argument("--strategy", choices=STRATEGIES, help="how the base trains (default "
                   "with --base: feature_extractor)")
    t.add_argument("--head", choices=("softmax", "svm"), help="classifier: softmax or a "
                   "linear SVM (squared hinge, L2 on its weights)")
    t.add_argument("--svm-l2", type=float, metavar="X", help="L2 of the SVM head")
    t.add_argument("--multiplier", action="append", default=[], metavar="BLOCK=M",
                   help="multipliers strategy: learning-rate multiplier of a block (0 "
                   "freezes it); repeatable")


def run(args: argparse.Namespace) -> int:
    """Write the file, never overwriting by accident and never an inconsistent one."""
    from cnnlab.outputs import check_output

    out = check_output(args.out, force=args.force, suffixes=(".json",),
                       what="the experiment file")
    from cnnlab.presetlib import load_preset, match_data

    exp = load_preset(args.preset or "default", input_shape=parse_shape(args.input),
                      classes=args.classes)
    exp, note = match_data(exp)
    exp, base_note = _transfer(exp, args)
    _refuse_broken(exp)
    save_experiment(exp, out)
    notes = [n for n in (note, base_note) if n]
    print(f"wrote {out} ({exp.name})" + "".join(f"; {n}" for n in notes))
    return 0


def _refuse_broken(exp) -> None:
    """Refuse to write a file that ``cnnlab validate`` would refuse (say, a huge --input)."""
    from cnnlab.analysis import analyze_experiment
    from cnnlab.errors import SpecError

    errors = analyze_experiment(exp).errors()
    if errors:
        raise SpecError(errors[0].node or "model", errors[0].message)


def _transfer(exp, args: argparse.Namespace):
    """Splice the base and set the transfer fields; refuse a recipe that does not fit."""
    from cnnlab.modelio.splice import guess_source, insert_base, with_transfer
    from cnnlab.recipe.transfer import base_block_ids, check_transfer

    note = None
    if args.base:
        source = args.base_source or guess_source(args.base)
        _check_weights_args(args, source)
        weights = "file" if args.weights_file else (args.weights or "imagenet")
        exp = insert_base(exp, args.base, source=source, cut_at=args.cut_at, weights=weights,
                          weights_path=args.weights_file)
        note = (f"base {Path(args.base).name}: {len(base_block_ids(exp))} blocks (ids start "
                f"with {exp.training.transfer.prefix!r})")
    else:
        given = [f"--{n.replace('_', '-')}" for n in BASE_ONLY if getattr(args, n)]
        if given:
            raise CnnlabError(f"{given[0]} needs --base")
    exp = with_transfer(exp, strategy=args.strategy, head=args.head, svm_l2=args.svm_l2,
                        layer_multipliers=_multipliers(args.multiplier) or None)
    check_transfer(exp)
    t = exp.training.transfer
    if args.base or t.strategy != "none" or t.head != "softmax":
        note = ", ".join(filter(None, [note, f"strategy {t.strategy}", f"head {t.head}"]))
    hidden = [n.id for n in exp.model.nodes if n.type == "Dense"
              and not n.id.startswith(t.prefix)]
    if t.head == "svm" and hidden:
        one = len(hidden) == 1
        note += (f" (the Dense block{'' if one else 's'} {', '.join(hidden)} before the SVM "
                 f"also train{'s' if one else ''}; delete {'it' if one else 'them'} for a "
                 "linear SVM on the features)")
    return exp, note


def _check_weights_args(args: argparse.Namespace, source: str) -> None:
    """``--weights``/``--weights-file`` fit the base; one of them; the file exists."""
    if source == "file" and (args.weights or args.weights_file):
        raise CnnlabError("a model file base brings its own weights; leave out --weights "
                          "and --weights-file")
    if source == "preset" and (args.weights_file or args.weights == "imagenet"):
        raise CnnlabError("a preset base starts from random weights; leave out --weights "
                          "and --weights-file (or use --weights random)")
    if args.weights_file and args.weights:
        raise CnnlabError("give --weights or --weights-file, not both")
    if args.weights_file and not Path(args.weights_file).is_file():
        raise CnnlabError(f"{args.weights_file}: no such file")


def _multipliers(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        block, sep, value = item.partition("=")
        try:
            out[block.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not block.strip():
            raise CnnlabError(f"--multiplier must look like BLOCK=0.1 (got {item!r})")
    return out
