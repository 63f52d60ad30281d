"""``cnnlab data check SPEC [--json]``: the health of an experiment's dataset.

Class counts (with an imbalance warning), split sizes, image sizes and
channels, exact and near duplicates (within a class, across classes, across
splits) and every bad file, for the dataset the experiment's ``data``
section names, split as a run with its seed would split it. TensorFlow is
not loaded (except to read a cached Keras dataset).
"""

from __future__ import annotations

import argparse
import json
import sys

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand ``data`` and its ``check``."""
    p = sub.add_parser("data", help="check a dataset's health (duplicates, leaks, bad files)")
    actions = p.add_subparsers(dest="data_command", metavar="ACTION")
    check = actions.add_parser("check", help="class counts, sizes, duplicates, leaks and bad "
                               "files of an experiment's dataset")
    check.add_argument("spec", metavar="SPEC", help="experiment file (.json) or preset name")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--near", type=int, default=None, metavar="BITS",
                       help="largest perceptual-hash distance of near duplicates, 0..16 "
                       "(default 6; -1: exact duplicates only)")
    check.add_argument("--progress", action="store_true",
                       help="print progress on stderr")
    check.add_argument("--out-dir", metavar="DIR", help="also write each class's mean image "
                       "as DIR/mean-NNN.png (NNN: the class index)")
    check.add_argument("--force", action="store_true", help="replace files in --out-dir")


def run(args: argparse.Namespace) -> int:
    """Check the dataset and print the report."""
    from cnnlab.cli.common import resolve_experiment
    from cnnlab.data.health import check_data
    from cnnlab.data.health_near import NEAR_THRESHOLD

    if args.data_command != "check":
        raise CnnlabError("say what to do with the data: cnnlab data check SPEC")
    near = NEAR_THRESHOLD if args.near is None else args.near
    if not -1 <= near <= 16:
        raise CnnlabError(f"--near must be between -1 and 16 bits (got {near})")
    exp = resolve_experiment(args.spec)
    progress = _print_progress if args.progress else None
    report = check_data(exp.data, exp.training.seed, near_threshold=near, progress=progress)
    means = None
    if args.out_dir:
        from cnnlab.data.health_files import write_mean_images

        means = write_mean_images(report, args.out_dir, args.force)
    if args.json:
        print(json.dumps({**report.to_json(), **({"mean_images": means} if means else {})}))
    else:
        from cnnlab.data.health_text import health_text

        print(health_text(report))
        if means:
            print(f"Mean images: {len(means)} file(s) in {args.out_dir}")
    return 0


def _print_progress(done: int, total: int) -> None:
    print(f"\rchecked {done:,} of {total:,} images", end="" if done < total else "\n",
          file=sys.stderr, flush=True)
