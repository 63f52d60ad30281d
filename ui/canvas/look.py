"""What a canvas item says: title, key parameters, output shape, state and tooltip.

Computed from the visible node and the analysis; pure Python, so the text a
block shows is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cnnlab import BLOCKS, Analysis, Problem
from cnnlab.ui.canvas.visible import VisibleGraph, VisibleNode
from cnnlab.ui.numbers import compact, shape_text


@dataclass(frozen=True)
class Look:
    """The text and state of one item."""

    title: str
    ident: str
    summary: str
    shape: str
    params: str
    state: str  # ok | warning | error
    tooltip: str
    group: str
    problem: str = ""  # the first problem's message, shown on the block


def problems_by_item(graph: VisibleGraph, analysis: Analysis) -> dict[str, list[Problem]]:
    """The analysis's problems grouped by the canvas item that shows their block."""
    out: dict[str, list[Problem]] = {}
    for problem in analysis.problems:
        if problem.node is None:
            continue
        item = graph.owner.get(problem.node, problem.node)
        out.setdefault(item, []).append(problem)
    return out


def look(node: VisibleNode, graph: VisibleGraph, analysis: Analysis,
         problems: Sequence[Problem]) -> Look:
    """The look of one item."""
    info = analysis.layer(node.flat_id)
    if node.kind == "module":
        title, summary, group = node.type, _module_summary(node.params), "Modules"
        params = sum((analysis.layer(m).params if analysis.layer(m) else 0)
                     for m in graph.members.get(node.id, []))
        helptext = f"module {node.type}: {len(graph.members.get(node.id, []))} blocks"
    else:
        block = BLOCKS[node.type]
        title, summary, group = node.type, block.summary(node.params), block.group
        params = info.params if info else 0
        helptext = block.help
    state = _state(problems)
    shape = shape_text(info.output_shape) if info else "?"
    tip = _tooltip(node, helptext, shape, problems)
    ident = node.id
    if node.kind == "inner" and node.group and ident.startswith(f"{node.group}_"):
        ident = ident[len(node.group) + 1:]  # the frame already names the instance
    first = min(problems, key=_priority, default=None)
    return Look(title, ident, summary, shape, f"{compact(params)} params" if params else "",
                state, tip, group, first.message if first else "")


def _priority(problem: Problem) -> int:
    """Errors about the block itself before whole-graph ones, then warnings."""
    if problem.severity != "error":
        return 2
    return 1 if problem.code in ("many_outputs", "no_output") else 0


def _state(problems: Sequence[Problem]) -> str:
    if any(p.severity == "error" for p in problems):
        return "error"
    return "warning" if problems else "ok"


def _module_summary(params: Mapping) -> str:
    parts = []
    for key, value in params.items():
        short = key.replace("_filters", "").replace("filters", "f").replace("strides", "s")
        parts.append(f"{short}={value}")
    return " ".join(parts)


def _tooltip(node: VisibleNode, helptext: str, shape: str,
             problems: Sequence[Problem]) -> str:
    lines = [f"<b>{node.id}</b> — {node.type}", helptext, f"output: <tt>{shape}</tt>"]
    if node.kind == "inner":
        lines.append(f"inside module instance <b>{node.group}</b>")
    for p in problems:
        colour = "#d64545" if p.severity == "error" else "#b07800"
        lines.append(f"<span style='color:{colour}'>{p.severity}: {_escape(p.message)}</span>")
    return "<br>".join(line for line in lines if line)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
