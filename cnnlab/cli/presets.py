"""``cnnlab presets``: the network presets with their parameter counts."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    """Register the subcommand."""
    p = sub.add_parser("presets", help="list the network presets")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """List the presets."""
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
