"""``cnnlab inspect RUN_OR_MODEL --method M --out FILE.png``: a picture of the inside."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.cli.common import add_workspace, open_store
from cnnlab.errors import CnnlabError

METHODS = ("filters", "feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam",
           "fantasy", "confusion")


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("inspect", help="look inside a trained model; write a PNG")
    p.add_argument("target", metavar="RUN_OR_MODEL", help="run id or .keras/.h5 file")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--layer", metavar="ID", help="block id")
    p.add_argument("--image", metavar="PATH", help="input image (default: a sample)")
    p.add_argument("--class", dest="class_index", type=int, metavar="N", help="class index")
    p.add_argument("--out", required=True, metavar="FILE.png")
    add_workspace(p)


def run(args: argparse.Namespace) -> int:
    """Render the method's picture and write it."""
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    from cnnlab.inspect.report import render, write_png

    model, exp = _inspection_target(args)
    image, eval_data = None, None
    if args.image:
        image = _read_image(args.image, model)
    elif exp is not None and args.method != "filters":
        image, eval_data = _run_samples(exp, model, args.method)
    picture = render(model, args.method, image=image, layer=args.layer,
                     class_index=args.class_index, eval_data=eval_data)
    out = write_png(Path(args.out), picture)
    print(f"wrote {out}")
    return 0


def _inspection_target(args: argparse.Namespace):
    """(model, experiment or None) for a run id or a model file."""
    from cnnlab.modelio.loader import load_model_file
    from cnnlab.spec import experiment_from_dict

    path = Path(args.target)
    if path.suffix.lower() in (".keras", ".h5", ".hdf5") or path.exists():
        return load_model_file(path)[0], None
    store = open_store(args)
    record = store.get(args.target)
    if not record.model_path.exists():
        raise CnnlabError(f"run {record.id} has no saved model yet ({record.model_path})")
    return load_model_file(record.model_path)[0], experiment_from_dict(store.spec(record.id))


def _read_image(path: str, model):
    import numpy as np
    import tensorflow as tf

    from cnnlab.inspect.images import fit_image

    try:
        data = tf.io.read_file(path)
        img = tf.io.decode_image(data, expand_animations=False).numpy()
    except (tf.errors.OpError, ValueError) as exc:
        raise CnnlabError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    return fit_image(np.asarray(img), tuple(model.input_shape[1:]))


def _run_samples(exp, model, method: str):
    from cnnlab.data import load_data

    shape = tuple(model.input_shape[1:])
    splits = load_data(exp.data, shape, exp.training.seed)
    x, y = splits.samples("val", 512 if method == "confusion" else 1)
    return x[0], (x, y, list(splits.class_names))
