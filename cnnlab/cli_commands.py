"""Implementations of the light CLI subcommands (no TensorFlow needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cnnlab.analysis import Analysis, analyze, analyze_experiment
from cnnlab.errors import CnnlabError, SpecError
from cnnlab.spec import Experiment, load_experiment, save_experiment
from cnnlab.spec.edit import retarget


def parse_shape(text: str | None) -> list[int] | None:
    """``"224,224,3"`` -> ``[224, 224, 3]``.

    Raises:
        CnnlabError: For anything but comma-separated positive integers.

    """
    if text is None:
        return None
    try:
        shape = [int(part) for part in text.replace("x", ",").split(",")]
    except ValueError:
        shape = []
    if not shape or any(s <= 0 for s in shape):
        raise CnnlabError(f"--input must look like 224,224,3 (got {text!r})")
    return shape


def resolve_experiment(ref: str, input_shape=None, classes=None) -> Experiment:
    """An experiment from a file path or a preset name, re-targeted if asked."""
    if classes is not None and classes < 1:
        raise CnnlabError(f"--classes must be at least 1 (got {classes})")
    path = Path(ref)
    if path.suffix.lower() == ".json" or path.exists():
        exp = load_experiment(path)
        return retarget(exp, input_shape, classes)
    from cnnlab.presetlib import load_preset

    return load_preset(ref, input_shape=input_shape, classes=classes)


def cmd_presets(args: argparse.Namespace) -> int:
    """``cnnlab presets``."""
    from cnnlab.presetlib import list_presets

    infos = list_presets()
    if args.json:
        print(json.dumps([{"name": i.name, "title": i.title, "description": i.description,
                           "params": i.params, "input_shape": list(i.input_shape),
                           "classes": i.classes} for i in infos], indent=2))
        return 0
    width = max(len(i.name) for i in infos)
    for i in infos:
        print(f"{i.name:<{width}}  {i.params:>12,} params  {i.description}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``cnnlab summary``."""
    exp = resolve_experiment(args.spec, parse_shape(args.input), args.classes)
    result = analyze_experiment(exp)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(format_table(result, exp.name))
    if not result.ok:
        for problem in result.errors():
            print(f"cnnlab: error: {problem}", file=sys.stderr)
        return 2
    return 0


def format_table(result: Analysis, title: str = "") -> str:
    """The lectures' per-layer table as text."""
    head = ("id", "type", "output", "params", "mult-adds", "activations", "RF")
    rows = [head]
    for layer in result.layers:
        rf = layer.receptive_field
        rows.append((layer.id, layer.type, "x".join(map(str, layer.output_shape)),
                     f"{layer.params:,}", f"{layer.macs:,}", f"{layer.activations:,}",
                     str(rf[0]) if rf[0] == rf[1] else f"{rf[0]}x{rf[1]}"))
    t = result.totals
    rows.append(("total", "", "", f"{t.params:,}", f"{t.macs:,}", f"{t.activations:,}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [title] if title else []
    for n, row in enumerate(rows):
        if n in (1, len(rows) - 1):
            lines.append("  ".join("-" * w for w in widths))
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    lines.append(f"trainable parameters: {t.trainable_params:,}; activation memory per image: "
                 f"{t.activation_bytes / 2**20:.2f} MiB")
    if t.state:
        lines.append(f"batch-norm statistics (moving mean and variance, not parameters): "
                     f"{t.state:,}; Keras's count_params() = {t.params + t.state:,}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    """``cnnlab validate``: ``ok`` or one line per problem, exit 2."""
    try:
        exp = load_experiment(args.spec)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = analyze(exp.model, exp.training.regularization.batchnorm)
    if result.ok:
        print("ok")
        for warning in result.problems:
            print(f"warning: {warning}", file=sys.stderr)
        return 0
    for problem in result.errors():
        print(str(problem), file=sys.stderr)
    return 2


def cmd_new(args: argparse.Namespace) -> int:
    """``cnnlab new``: write a starting experiment file without overwriting by accident."""
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CnnlabError(f"{out} already exists; use --force to overwrite it")
    from cnnlab.presetlib import load_preset, match_data

    exp = load_preset(args.preset or "default", input_shape=parse_shape(args.input),
                      classes=args.classes)
    exp, note = match_data(exp)
    save_experiment(exp, out)
    print(f"wrote {out} ({exp.name})" + (f"; {note}" if note else ""))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``cnnlab train``."""
    from cnnlab.train.headless import train_command

    if args.epochs is not None and args.epochs < 1:
        raise CnnlabError(f"--epochs must be at least 1 (got {args.epochs})")
    if not args.spec and not args.resume:
        raise CnnlabError("train needs an experiment file (or --resume ID)")
    exp = resolve_experiment(args.spec) if args.spec else None
    return train_command(exp, epochs=args.epochs, workspace=args.workspace,
                         json_out=args.json, resume=args.resume)
