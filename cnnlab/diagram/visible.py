"""The graph the canvas shows: blocks, collapsed modules and expanded module insides.

A collapsed module instance is one item whose output is the instance's output
block; an expanded one shows its inner blocks (expanded ids, such as
``stage2_block1_conv1``) inside a group frame. Pure Python, no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnlab import Experiment, ModelSpec
from cnnlab.spec.edit import collapsed


@dataclass(frozen=True)
class VisibleNode:
    """One item of the canvas.

    Attributes:
        id: The item id: a top-level id, or an expanded id inside an open module.
        kind: ``block``, ``module`` (a collapsed instance) or ``inner``.
        type: Block type, or the module's name for a module.
        params: Resolved block parameters, or the instance's own parameters.
        group: The module instance an inner block belongs to.
        flat_id: The expanded block whose analysis the item shows.
    """

    id: str
    kind: str
    type: str
    params: Mapping[str, Any]
    group: str | None
    flat_id: str
    exit: bool = False  # an inner block that is its module's output


@dataclass(frozen=True)
class VisibleEdge:
    """An arrow; ``top`` is the spec connection it draws (None inside a module)."""

    src: str
    dst: str
    port: int | None
    top: tuple[str, str] | None


@dataclass
class VisibleGraph:
    """Items, arrows, and the map from expanded ids to the item showing them."""

    nodes: dict[str, VisibleNode] = field(default_factory=dict)
    edges: list[VisibleEdge] = field(default_factory=list)
    owner: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    module_of: dict[str, str] = field(default_factory=dict)

    def top_id(self, item_id: str) -> str:
        """The top-level block or instance an item belongs to."""
        node = self.nodes[item_id]
        return node.group or node.id


def module_output(model: ModelSpec, module: str, prefix: str) -> str:
    """The expanded id of an instance's output block (following nested modules)."""
    mod = model.modules[module]
    inner = next(n for n in mod.nodes if n.id == mod.output)
    nid = f"{prefix}_{inner.id}"
    if inner.type in model.modules:
        return module_output(model, inner.type, nid)
    return nid


def visible_graph(exp: Experiment) -> VisibleGraph:
    """Build the canvas graph of ``exp`` (collapsed instances per ``exp.ui``)."""
    model = exp.model
    flat = model.expand()
    folded = collapsed(exp)
    by_id = {n.id: n for n in flat.nodes}
    out = VisibleGraph()
    for fn in flat.nodes:
        if fn.group is not None:
            out.members.setdefault(fn.group, []).append(fn.id)
    for node in model.nodes:
        if node.type in model.modules:
            out.module_of[node.id] = node.type
        if node.type not in model.modules:
            fn = by_id[node.id]
            out.nodes[node.id] = VisibleNode(node.id, "block", node.type, fn.params, None,
                                             node.id)
            out.owner[node.id] = node.id
        elif node.id in folded:
            flat_out = module_output(model, node.type, node.id)
            out.nodes[node.id] = VisibleNode(node.id, "module", node.type,
                                             dict(node.params), None, flat_out)
            out.owner.update({m: node.id for m in out.members.get(node.id, [])})
        else:
            _add_inner(out, by_id, node.id, module_output(model, node.type, node.id))
    _add_edges(out, flat)
    return out


def _add_inner(out: VisibleGraph, by_id: Mapping[str, Any], instance: str,
               exit_id: str) -> None:
    members = out.members.get(instance, [])
    out.groups[instance] = list(members)
    for mid in members:
        fn = by_id[mid]
        out.nodes[mid] = VisibleNode(mid, "inner", fn.type, fn.params, instance, mid,
                                     mid == exit_id)
        out.owner[mid] = mid


def _add_edges(out: VisibleGraph, flat) -> None:
    seen = set()
    for e in flat.edges:
        src, dst = out.owner.get(e.src), out.owner.get(e.dst)
        if src is None or dst is None or src == dst or (src, dst) in seen:
            continue
        seen.add((src, dst))
        top = (out.top_id(src), out.top_id(dst))
        inside = top[0] == top[1]
        out.edges.append(VisibleEdge(src, dst, e.port, None if inside else top))
