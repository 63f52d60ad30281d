"""``cnnlab convert RUN --fully-convolutional --out FCN.keras [--force]``.

The lectures' FC-to-convolution conversion: the run's Flatten+Dense head
becomes convolutions with the same weights rearranged, so a larger image
gives a map of class scores. Verified before it is written; a manifest
beside the file records the differences.
"""

from __future__ import annotations

import argparse

from cnnlab.cli.common import add_workspace, open_store
from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("convert", help="convert a run's model (to fully convolutional)",
                       description="Turn a trained run's Flatten+Dense head into convolutions "
                                   "with the same weights: the model then takes larger images "
                                   "and gives a map of class scores.")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--fully-convolutional", action="store_true",
                   help="every Dense layer after the Flatten becomes a Conv2D (the first "
                        "with FxF kernels over the FxFxC volume, the others 1x1)")
    p.add_argument("--out", required=True, metavar="FCN.keras")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file and manifest (after the new one passed "
                        "verification)")
    add_workspace(p)


def run(args: argparse.Namespace) -> int:
    """Check the target, then convert, verify and write."""
    if not args.fully_convolutional:
        raise CnnlabError("say what to convert to: --fully-convolutional (the only "
                          "conversion so far)")
    from cnnlab.modelio.targets import check_targets
    from cnnlab.tfquiet import import_tensorflow

    check_targets("keras", args.out, args.force)
    store = open_store(args, read_only=True)
    record = store.get(args.run)
    import_tensorflow()
    from cnnlab.modelio.fully_conv_file import convert_run

    result = convert_run(record.run_dir, args.out, force=args.force)
    print(f"converted {record.id} to a fully convolutional model in {result.path} "
          f"({result.seconds:.1f} s): {result.summary()}; manifest {result.manifest_path}")
    return 0
