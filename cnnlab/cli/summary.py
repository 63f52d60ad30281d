"""``cnnlab summary``: the lectures' per-layer table."""

from __future__ import annotations

import argparse
import json
import sys

from cnnlab.analysis import Analysis, analyze_experiment
from cnnlab.cli.common import parse_shape, resolve_experiment


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("summary", help="per-layer table: shapes, parameters, multiply-adds")
    p.add_argument("spec", metavar="SPEC_OR_PRESET", help="experiment file or preset name")
    p.add_argument("--input", metavar="H,W,C", help="input shape, e.g. 224,224,3")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON); exit 2 when the graph has errors."""
    exp = resolve_experiment(args.spec, parse_shape(args.input), args.classes)
    result = analyze_experiment(exp)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(format_table(result, exp.name))
    for problem in result.problems:
        if problem.severity != "error":
            print(f"cnnlab: warning: {problem}", file=sys.stderr)
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
