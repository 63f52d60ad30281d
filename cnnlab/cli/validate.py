"""``cnnlab validate``: ``ok``, or one line per problem and exit 2.

Besides loading and the graph analysis, the transfer recipe is checked
against the graph (:func:`cnnlab.recipe.transfer.check_transfer`), the same
check ``train`` and the window make when they build the model.
"""

from __future__ import annotations

import argparse
import sys

from cnnlab.analysis import analyze_experiment
from cnnlab.errors import SpecError
from cnnlab.spec import load_experiment


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("validate", help="check an experiment file")
    p.add_argument("spec", metavar="SPEC")


def run(args: argparse.Namespace) -> int:
    """Check the file and its graph."""
    try:
        exp = load_experiment(args.spec)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = analyze_experiment(exp)  # with the recipe: batch size, precision, frozen base
    mismatch = _output_mismatch(exp)
    if mismatch:
        print(mismatch, file=sys.stderr)
        return 2
    if result.ok:
        from cnnlab.recipe.transfer import check_transfer

        try:
            check_transfer(exp)
        except SpecError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print("ok")
        for warning in result.problems:
            print(f"warning: {warning}", file=sys.stderr)
        return 0
    for problem in result.errors():
        print(str(problem), file=sys.stderr)
    return 2


def _output_mismatch(exp) -> str:
    """The Output's units against the data's class count, where that is known without loading.

    (Shapes and Keras datasets; ``train`` checks npz and folder data once loaded.)
    """
    from cnnlab.analysis import output_classes_problems
    from cnnlab.spec.edit import data_classes

    problems = output_classes_problems(exp.model, data_classes(exp))
    return str(problems[0]) if problems else ""
