"""CLI subcommands over runs and model files: runs, inspect, export, import."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from cnnlab.errors import CnnlabError

RUN_JSON_KEYS = ("id", "name", "status", "epochs_done", "epochs_planned", "best_val_accuracy",
                 "run_dir")


def _store(args: argparse.Namespace):
    from cnnlab.train.store import RunStore

    return RunStore(args.workspace)


def cmd_runs(args: argparse.Namespace) -> int:
    """``cnnlab runs [list|show ID|diff A B]``."""
    store = _store(args)
    if args.action == "list":
        return _runs_list(store, args)
    if args.action == "show":
        if len(args.ids) != 1:
            raise CnnlabError("runs show needs one run id")
        return _runs_show(store, args.ids[0], args.json)
    if len(args.ids) != 2:
        raise CnnlabError("runs diff needs two run ids")
    diff = store.diff(*args.ids)
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print("\n".join(diff.lines()) or "the two runs have the same experiment")
    return 0


def _runs_list(store, args: argparse.Namespace) -> int:
    runs = store.list_runs()
    if args.json:
        print(json.dumps([{k: r.to_json()[k] for k in RUN_JSON_KEYS} for r in runs], indent=2))
        return 0
    if not runs:
        print(f"no runs in {store.workspace}" if hasattr(store, "workspace") else "no runs")
        return 0
    print(f"{'id':<22} {'status':<11} {'epochs':>7} {'best val acc':>12}  name")
    for r in runs:
        acc = "" if r.best_val_accuracy is None else f"{r.best_val_accuracy:.4f}"
        epochs = f"{r.epochs_done}/{r.epochs_planned or '?'}"
        print(f"{r.id:<22} {r.status:<11} {epochs:>7} {acc:>12}  {r.name}")
    return 0


def _runs_show(store, run_id: str, as_json: bool) -> int:
    record = store.get(run_id)
    metrics = store.metrics(run_id)
    if as_json:
        print(json.dumps({**record.to_json(), "metrics": metrics}, indent=2, default=str))
        return 0
    started = _when(record.started_at or record.created_at)
    print(f"{record.id}  {record.name}\nstatus: {record.status}"
          + (f" ({record.message})" if record.message else "")
          + f"\nstarted: {started}\nepochs: {record.epochs_done}/{record.epochs_planned}"
          f"\ndevice: {record.device or '?'}\nfolder: {record.run_dir}")
    names = sorted(metrics)
    if names:
        print("epoch  " + "  ".join(f"{n:>12}" for n in names))
        for i in range(max(len(v) for v in metrics.values())):
            row = [metrics[n][i] if i < len(metrics[n]) else float("nan") for n in names]
            print(f"{i + 1:>5}  " + "  ".join(f"{v:>12.4g}" for v in row))
    return 0


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


def cmd_inspect(args: argparse.Namespace) -> int:
    """``cnnlab inspect RUN_OR_MODEL --method M --out FILE.png``."""
    from pathlib import Path

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
    from pathlib import Path

    from cnnlab.modelio.loader import load_model_file
    from cnnlab.spec import experiment_from_dict

    path = Path(args.target)
    if path.suffix.lower() in (".keras", ".h5", ".hdf5") or path.exists():
        return load_model_file(path)[0], None
    store = _store(args)
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


def cmd_export(args: argparse.Namespace) -> int:
    """``cnnlab export RUN --format F --out PATH``: export, verify, write a manifest."""
    from cnnlab.tfquiet import import_tensorflow

    store = _store(args)
    record = store.get(args.run)
    import_tensorflow()
    from cnnlab.modelio.export import export_run

    result = export_run(record.run_dir, args.format, args.out)
    print(f"exported {record.id} as {result.format} to {result.path} (verified on "
          f"{result.samples} inputs, max difference {result.max_abs_diff:.2g}); manifest "
          f"{result.manifest_path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``cnnlab import MODEL_FILE --out SPEC.json``: an editable experiment + its weights."""
    from pathlib import Path

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
