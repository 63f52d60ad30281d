"""``cnnlab report RUN --out REPORT.html [--force]``: one self-contained HTML page of a run."""

from __future__ import annotations

import argparse
import sys

from cnnlab.cli.common import add_workspace, open_store


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("report", help="write a run's report as one self-contained HTML file",
                       description="Write one HTML page of a run: the network's summary, "
                       "the recipe, the curves, the test results, the confusion matrix, a "
                       "few attribution maps and the environment, pictures embedded (it "
                       "opens offline).")
    p.add_argument("run", metavar="RUN", help="run id (see 'cnnlab runs')")
    p.add_argument("--out", required=True, metavar="REPORT.html")
    p.add_argument("--force", action="store_true", help="replace an existing REPORT.html")
    add_workspace(p)


def run(args: argparse.Namespace) -> int:
    """Check the target, then build the report and write it."""
    from cnnlab.report import check_report_target

    check_report_target(args.out, args.force)  # before any work: a refusal costs nothing
    store = open_store(args, read_only=True)
    store.get(args.run)  # an unknown run: one line, before TensorFlow loads
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    from cnnlab.report import write_report

    result = write_report(store, args.run, args.out, force=args.force)
    for note in result.notes:
        print(f"cnnlab: note: {note}", file=sys.stderr)
    print(f"wrote {result.path} (report of run {result.run_id}, {result.size / 1024:.0f} KiB, "
          f"{result.seconds:.1f} s)")
    return 0
