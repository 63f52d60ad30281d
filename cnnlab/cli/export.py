"""``cnnlab export RUN --format F --out PATH [--force]``: export, verify, write a manifest.

``onnx`` and ``litert`` need their optional extras (``pip install "cnnlab[onnx]"``);
a missing one is named in one line (exit 2) before anything is loaded or written.
"""

from __future__ import annotations

import argparse

from cnnlab.cli.common import add_workspace, open_store

FORMATS = ("keras", "h5", "savedmodel", "python", "onnx", "litert")


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("export", help="export a run's model")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="onnx (.onnx) and litert (.tflite) need the extras of the same name")
    p.add_argument("--out", required=True, metavar="PATH")
    p.add_argument("--force", action="store_true",
                   help="replace an existing export (a folder only if it is the lab's "
                        "SavedModel)")
    add_workspace(p)


def run(args: argparse.Namespace) -> int:
    """Check the targets and the format's extra, then export and verify."""
    from cnnlab.modelio.runtimes import require
    from cnnlab.modelio.targets import check_targets
    from cnnlab.tfquiet import import_tensorflow

    check_targets(args.format, args.out, args.force)
    require(args.format)
    store = open_store(args, read_only=True)
    record = store.get(args.run)
    import_tensorflow()
    from cnnlab.modelio.export import export_run

    result = export_run(record.run_dir, args.format, args.out, force=args.force)
    print(f"exported {record.id} as {result.format} to {result.path} in {result.seconds:.1f} s "
          f"(verified on {result.samples} inputs, max difference {result.max_abs_diff:.2g}); "
          f"manifest {result.manifest_path}")
    return 0
