"""``cnnlab import MODEL_FILE --out SPEC.json``: an editable experiment and its weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.outputs import check_output


def weights_path(out: Path) -> Path:
    """``NAME.weights.npz`` beside ``NAME.json``."""
    return out.with_suffix(".weights.npz")


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("import", help="turn a Keras model file into an experiment")
    p.add_argument("model", metavar="MODEL_FILE")
    p.add_argument("--out", required=True, metavar="SPEC.json")
    p.add_argument("--force", action="store_true",
                   help="replace an existing experiment and weights file")


def run(args: argparse.Namespace) -> int:
    """Import the file (loaded with safe_mode) and write the experiment."""
    out = check_output(args.out, force=args.force, suffixes=(".json",), what="the experiment")
    weights = weights_path(out)
    check_output(weights, force=args.force, suffixes=(".npz",), what="the weights")
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    from cnnlab.modelio.importer import import_model_file, write_weights
    from cnnlab.spec import save_experiment

    result = import_model_file(args.model)
    save_experiment(result.experiment, out)
    print(f"wrote {out} ({len(result.experiment.model.nodes)} blocks)")
    if result.weights:
        write_weights(result.weights, weights)
        print(f"wrote {weights} (the trained weights, by block id)")
    for line in result.report:
        print(f"note: {line}")
    return 0
