"""``cnnlab import MODEL_FILE --out SPEC.json``: an editable experiment and its weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.errors import CnnlabError


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("import", help="turn a Keras model file into an experiment")
    p.add_argument("model", metavar="MODEL_FILE")
    p.add_argument("--out", required=True, metavar="SPEC.json")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    """Import the file (loaded with safe_mode) and write the experiment."""
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CnnlabError(f"{out} already exists; use --force to overwrite it")
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    from cnnlab.modelio.importer import import_model_file, write_weights
    from cnnlab.spec import save_experiment

    result = import_model_file(args.model)
    save_experiment(result.experiment, out)
    print(f"wrote {out} ({len(result.experiment.model.nodes)} blocks)")
    if result.weights:
        weights = out.with_suffix(".weights.npz")
        write_weights(result.weights, weights)
        print(f"wrote {weights} (the trained weights, by block id)")
    for line in result.report:
        print(f"note: {line}")
    return 0
