"""What a canvas item says: title, key parameters, output shape, state and tooltip.

Computed from the visible node and the analysis; pure Python, so the text a
block shows is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnnlab import BLOCKS, Analysis, Problem
from cnnlab.diagram.visible import VisibleGraph, VisibleNode
from cnnlab.formatting import compact, shape_text


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
    frozen: bool = False  # its weights do not train (transfer base, multiplier 0)
    badge: str = ""  # short regularization label: "L2", "L1+L2", "max-norm", "KL"


@dataclass(frozen=True)
class Marks:
    """What the recipe adds to a block's look: frozen weights and penalties."""

    frozen: bool = False
    badge: str = ""
    detail: str = ""  # the penalties with their values, for the tooltip
    summary: str = ""  # replaces the block's own summary ("6 linear SVM")
    note: str = ""  # one more tooltip line


NO_MARKS = Marks()
REG_NAMES = ("kernel_l1", "kernel_l2", "bias_l2", "max_norm", "activity_l1", "sparsity_rho",
             "sparsity_beta")


def problems_by_item(graph: VisibleGraph, analysis: Analysis,
                     extra: Sequence[Problem] = ()) -> dict[str, list[Problem]]:
    """The problems grouped by the canvas item that shows their block.

    Args:
        graph: The visible items.
        analysis: The model's analysis, whose problems come first.
        extra: More problems to show on the blocks (the model against its data,
            such as an Output whose units differ from the data's classes).
    """
    out: dict[str, list[Problem]] = {}
    for problem in dict.fromkeys([*analysis.problems, *extra]):
        if problem.node is None:
            continue
        item = graph.owner.get(problem.node, problem.node)
        out.setdefault(item, []).append(problem)
    return out


def look(node: VisibleNode, graph: VisibleGraph, analysis: Analysis,
         problems: Sequence[Problem], marks: Marks = NO_MARKS) -> Look:
    """The look of one item (``marks``: frozen state and penalties from the recipe)."""
    info = analysis.layer(node.flat_id)
    if node.kind == "module":
        title, summary, group = node.type, _module_summary(node.params), "Modules"
        params = sum((analysis.layer(m).params if analysis.layer(m) else 0)
                     for m in graph.members.get(node.id, []))
        helptext = f"module {node.type}: {len(graph.members.get(node.id, []))} blocks"
    else:
        block = BLOCKS[node.type]
        title, group = node.type, block.group
        summary = marks.summary or block.summary(node.params)
        params = info.params if info else 0
        helptext = block.help
    state = _state(problems)
    shape = shape_text(info.output_shape) if info else "?"
    tip = _tooltip(node, (summary, helptext), shape, problems, marks)
    ident = node.id
    if node.kind == "inner" and node.group and ident.startswith(f"{node.group}_"):
        ident = ident[len(node.group) + 1:]  # the frame already names the instance
    first = min(problems, key=_priority, default=None)
    return Look(title, ident, summary, shape, f"{compact(params)} params" if params else "",
                state, tip, group, first.message if first else "", marks.frozen, marks.badge)


def block_marks(experiment: Any, graph: VisibleGraph, analysis: Analysis) -> dict[str, Marks]:
    """Frozen state and regularization badge of every block item that has one.

    A block is frozen when the analysis says its parameters do not train, or
    when the transfer recipe freezes it (base blocks with ``feature_extractor``
    or ``fine_tune``, or a learning-rate multiplier of 0) and it has parameters.
    With the SVM head (``transfer.head = "svm"``) the Output block says
    "linear SVM" and carries the L2 badge of ``svm_l2``.
    Cheap: one pass over the visible items, no analysis.
    """
    if experiment is None:
        return {}
    training = experiment.training
    svm = training.transfer.head == "svm"
    frozen_ids = _recipe_frozen(training.transfer)
    base_prefix = training.transfer.prefix if training.transfer.strategy in (
        "feature_extractor", "fine_tune") and training.transfer.prefix else None
    defaults = {n: getattr(training.regularization, n) for n in REG_NAMES}
    out: dict[str, Marks] = {}
    for nid, node in graph.nodes.items():
        if node.kind == "module" or node.type not in BLOCKS:
            continue
        info = analysis.layer(node.flat_id)
        params = info.params if info else 0
        frozen = params > 0 and (info.trainable_params == 0 or node.flat_id in frozen_ids or (
            base_prefix is not None and node.flat_id.startswith(base_prefix)))
        if svm and node.type == "Output":
            out[nid] = svm_marks(node.params, training.transfer.svm_l2, frozen)
            continue
        badge, detail = _penalties(node.params, defaults, BLOCKS[node.type].weighted)
        if frozen or badge:
            out[nid] = Marks(frozen, badge, detail)
    return out


def svm_marks(params: Mapping, svm_l2: float, frozen: bool = False) -> Marks:
    """The Output block as the linear SVM head: summary, L2 badge and tooltip line."""
    detail = f"svm_l2 = {svm_l2:g} on the kernel" if svm_l2 else ""
    return Marks(frozen, "L2" if svm_l2 else "", detail,
                 summary=f"{params.get('units', '?')} linear SVM",
                 note="linear SVM head: no softmax, the outputs are class margins, trained "
                      "with the squared hinge on +-1 labels")


def _recipe_frozen(transfer: Any) -> frozenset[str]:
    return frozenset(i for i, m in transfer.layer_multipliers.items() if m == 0)


def _penalties(params: Mapping, defaults: Mapping[str, Any], weighted: bool) -> tuple[str, str]:
    """The badge text and the tooltip detail for a block's effective penalties."""
    v = {n: params.get(n) if params.get(n) is not None or not weighted else defaults[n]
         for n in REG_NAMES}
    labels, parts = [], []
    if v["kernel_l1"] or v["activity_l1"]:
        labels.append("L1")
    if v["kernel_l2"] or v["bias_l2"]:
        labels.append("L2")
    if v["max_norm"]:
        labels.append("max-norm")
    if v["sparsity_rho"] is not None and v["sparsity_beta"]:
        labels.append("KL")
    for name in REG_NAMES:
        if v[name] and (name != "sparsity_rho" or "KL" in labels):
            own = "" if params.get(name) is not None else " (default)"
            parts.append(f"{name} = {v[name]:g}{own}")
    return "+".join(labels), ", ".join(parts)


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


def _tooltip(node: VisibleNode, text: tuple[str, str], shape: str,
             problems: Sequence[Problem], marks: Marks = NO_MARKS) -> str:
    """The full title and id, the key parameters, the help, shape, marks and problems.

    ``text`` is (key parameters, help); the card may cut the title and the
    parameters short, the tooltip never does.
    """
    summary, helptext = text
    lines = [f"<b>{_escape(node.id)}</b> — {_escape(node.type)}", _escape(summary), helptext,
             f"output: <tt>{shape}</tt>"]
    if marks.frozen:
        lines.append("<span style='color:#2f6fa8'>❄ frozen: its weights do not train</span>")
    if marks.detail:
        lines.append(f"regularization: {marks.detail}")
    if marks.note:
        lines.append(marks.note)
    if node.kind == "inner":
        lines.append(f"inside module instance <b>{node.group}</b>")
    for p in problems:
        colour = "#d64545" if p.severity == "error" else "#b07800"
        lines.append(f"<span style='color:{colour}'>{p.severity}: {_escape(p.message)}</span>")
    return "<br>".join(line for line in lines if line)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
