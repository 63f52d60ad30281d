"""Edits of the experiment as pure functions: each returns a new Experiment.

The window never mutates a spec. Every edit builds a new value from the old
one; the document pushes it as one undo step. Layout (positions, collapsed
modules) lives in ``exp.ui`` and never changes what runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from cnnlab.blocks.registry import BLOCKS
from cnnlab.errors import SpecError
from cnnlab.spec import module_library
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.graph import Edge, ModelSpec, Node
from cnnlab.spec.ids import new_id

GRID = 10


class EditRefused(Exception):
    """An edit that would make no sense; the message says why (shown in the status bar)."""


def snap(value: float) -> int:
    """Round a coordinate to the canvas grid."""
    return int(round(value / GRID) * GRID)


def positions(exp: Experiment) -> dict[str, tuple[float, float]]:
    """The stored block positions ``{id: (x, y)}``."""
    raw = exp.ui.get("positions", {}) if isinstance(exp.ui, Mapping) else {}
    out = {}
    for key, value in raw.items():
        if isinstance(value, (list, tuple)) and len(value) == 2:
            out[key] = (float(value[0]), float(value[1]))
    return out


def collapsed(exp: Experiment) -> set[str]:
    """Ids of the module instances shown as one block."""
    raw = exp.ui.get("collapsed", []) if isinstance(exp.ui, Mapping) else []
    return {c for c in raw if isinstance(c, str)}


def with_ui(exp: Experiment, pos: Mapping[str, tuple[float, float]] | None = None,
            folded: Iterable[str] | None = None) -> Experiment:
    """A copy with new positions and/or collapsed set (other ui keys kept)."""
    ui = dict(exp.ui)
    if pos is not None:
        ui["positions"] = {k: [snap(x), snap(y)] for k, (x, y) in sorted(pos.items())}
    if folded is not None:
        ui["collapsed"] = sorted(folded)
    return dataclasses.replace(exp, ui=ui)


def with_graph(exp: Experiment, nodes: Iterable[Node], edges: Iterable[Edge],
               modules: Mapping | None = None) -> Experiment:
    """A copy with a new model graph, validated (raises SpecError on bad parameters)."""
    model = ModelSpec(tuple(nodes), tuple(edges),
                      dict(exp.model.modules if modules is None else modules))
    model.expand()
    return dataclasses.replace(exp, model=model)


def all_ids(exp: Experiment) -> set[str]:
    """Every id in use, top-level and expanded."""
    return set(exp.model.ids()) | {n.id for n in exp.model.expand().nodes}


def is_module(exp: Experiment, type_name: str) -> bool:
    """True when ``type_name`` names a module (defined here or in the library)."""
    return type_name in exp.model.modules or (
        type_name not in BLOCKS and type_name in module_library.TEMPLATES)


def add_block(exp: Experiment, type_name: str, pos: tuple[float, float]
              ) -> tuple[Experiment, str]:
    """Add a block (or module instance) of ``type_name`` at ``pos``; return (exp, id).

    Raises:
        EditRefused: For an unknown type.
    """
    modules = dict(exp.model.modules)
    if type_name not in BLOCKS and type_name not in modules:
        if type_name not in module_library.TEMPLATES:
            raise EditRefused(f"unknown block type {type_name!r}")
        modules[type_name] = module_library.template(type_name)
    nid = new_id(type_name, all_ids(exp))
    params = _initial_params(type_name, exp)
    out = with_graph(exp, [*exp.model.nodes, Node(nid, type_name, params)], exp.model.edges,
                     modules)
    folded = collapsed(exp) | ({nid} if type_name in modules else set())
    return with_ui(out, {**positions(exp), nid: pos}, folded), nid


def _initial_params(type_name: str, exp: Experiment) -> dict[str, Any]:
    """Start a new Output block with the data's class count (or the other Output's)."""
    if type_name == "Output":
        classes = data_classes(exp)
        if classes is not None:
            return {"units": classes}
        for node in exp.model.expand().nodes:
            if node.type == "Output":
                return {"units": node.params["units"]}
    return {}


def fit_output_classes(exp: Experiment, node_id: str) -> tuple[Experiment, str]:
    """Give an Output block as many units as the data has classes (a problem's fix).

    Raises:
        EditRefused: When the block is not a top-level Output or the count is unknown.
    """
    classes = data_classes(exp)
    node = next((n for n in exp.model.nodes if n.id == node_id), None)
    if node is None or node.type != "Output" or classes is None:
        raise EditRefused(f"cannot fit {node_id} to the data's classes")
    return set_params(exp, node_id, {**node.params, "units": classes}), node_id


def delete(exp: Experiment, node_ids: Iterable[str] = (),
           edges: Iterable[tuple[str, str]] = ()) -> Experiment:
    """Remove top-level blocks (with their connections) and connections.

    Raises:
        EditRefused: When nothing would be left (a model needs a block).
    """
    gone = set(node_ids)
    cut = set(edges)
    nodes = [n for n in exp.model.nodes if n.id not in gone]
    if not nodes:
        raise EditRefused("a model needs at least one block; add another before deleting "
                          "the last")
    kept = [e for e in exp.model.edges
            if e.src not in gone and e.dst not in gone and (e.src, e.dst) not in cut]
    inner = {n.id for n in exp.model.expand().nodes if n.group in gone}
    out = with_graph(exp, nodes, kept)
    out = _drop_transfer_keys(out)
    pos = {k: v for k, v in positions(exp).items() if k not in gone | inner}
    return with_ui(out, pos, collapsed(exp) - gone)


def _drop_transfer_keys(exp: Experiment) -> Experiment:
    """Forget per-layer learning-rate multipliers of blocks that no longer exist."""
    transfer = exp.training.transfer
    ids = {n.id for n in exp.model.expand().nodes}
    kept = {k: v for k, v in transfer.layer_multipliers.items() if k in ids}
    if len(kept) == len(transfer.layer_multipliers):
        return exp
    training = dataclasses.replace(
        exp.training, transfer=dataclasses.replace(transfer, layer_multipliers=kept))
    return dataclasses.replace(exp, training=training)


def connect(exp: Experiment, src: str, dst: str) -> Experiment:
    """Connect ``src``'s output to ``dst``'s input.

    A block with one input gets its old connection replaced; Add and
    Concatenate take one more input, numbered after the others.

    Raises:
        EditRefused: For a self-loop, a duplicate, an input into an Input
            block, or a cycle.
    """
    _check_connection(exp, src, dst)
    into = [e for e in exp.model.edges if e.dst == dst]
    others = [e for e in exp.model.edges if e.dst != dst]
    if _max_inputs(exp, dst) > 1:
        into = [Edge(e.src, e.dst, i) for i, e in enumerate(into)]
        into.append(Edge(src, dst, len(into)))
    else:
        into = [Edge(src, dst)]
    return with_graph(exp, exp.model.nodes, others + into)


def _max_inputs(exp: Experiment, node_id: str) -> int:
    node = exp.model.node(node_id)
    block = BLOCKS.get(node.type)
    return block.max_inputs if block else 1


def _check_connection(exp: Experiment, src: str, dst: str) -> None:
    ids = set(exp.model.ids())
    if src not in ids or dst not in ids:
        raise EditRefused("connections join top-level blocks; connect to the module itself")
    if src == dst:
        raise EditRefused("a block cannot feed itself")
    if any(e.src == src and e.dst == dst for e in exp.model.edges):
        raise EditRefused(f"{src} is already connected to {dst}")
    if _max_inputs(exp, dst) == 0:
        raise EditRefused(f"{dst} is an Input block and takes no inputs")
    if _reaches(exp, dst, src):
        raise EditRefused(f"{src} -> {dst} would make a cycle ({dst} already feeds {src})")


def _reaches(exp: Experiment, start: str, goal: str) -> bool:
    succ: dict[str, list[str]] = {}
    for e in exp.model.edges:
        succ.setdefault(e.src, []).append(e.dst)
    seen, stack = set(), [start]
    while stack:
        nid = stack.pop()
        if nid == goal:
            return True
        if nid not in seen:
            seen.add(nid)
            stack.extend(succ.get(nid, []))
    return False


def set_params(exp: Experiment, node_id: str, params: Mapping[str, Any]) -> Experiment:
    """Replace the parameters of one top-level block or module instance.

    Raises:
        SpecError: When a value is not allowed, naming its path.
    """
    nodes = [Node(n.id, n.type, dict(params)) if n.id == node_id else n
             for n in exp.model.nodes]
    return with_graph(exp, nodes, exp.model.edges)


def move(exp: Experiment, moved: Mapping[str, tuple[float, float]]) -> Experiment:
    """Store new positions for some blocks."""
    return with_ui(exp, {**positions(exp), **moved})


def rename_experiment(exp: Experiment, name: str) -> Experiment:
    """A copy with a new experiment name.

    Raises:
        SpecError: For an empty name.
    """
    if not name.strip():
        raise SpecError("name", "the experiment needs a name")
    return dataclasses.replace(exp, name=name.strip())

def set_node_params(model: ModelSpec, node_id: str, **params: Any) -> ModelSpec:
    """A model with some params of one top-level node replaced."""
    nodes = tuple(
        Node(n.id, n.type, {**n.params, **params}) if n.id == node_id else n for n in model.nodes
    )
    return replace(model, nodes=nodes)


def retarget(exp: Experiment, input_shape: list[int] | None = None,
             classes: int | None = None) -> Experiment:
    """The experiment with a new input shape and/or number of classes.

    The Input block takes the new shape and every Output block the new class
    count; everything between re-derives its shapes in the analysis.

    Raises:
        SpecError: When the model has no Input (for a shape) or no Output (for classes).

    """
    model = exp.model
    if input_shape is not None:
        ids = [n.id for n in model.nodes if n.type == "Input"]
        if not ids:
            raise SpecError("model.nodes", "the model has no Input block to resize")
        for nid in ids:
            model = set_node_params(model, nid, shape=list(input_shape))
    if classes is not None:
        ids = [n.id for n in model.nodes if n.type == "Output"]
        if not ids:
            raise SpecError("model.nodes", "the model has no Output block to set classes on")
        for nid in ids:
            model = set_node_params(model, nid, units=int(classes))
    from cnnlab.spec.load import model_from_dict

    return replace(exp, model=model_from_dict(model.to_dict(), "model"))


def data_classes(exp: Experiment) -> int | None:
    """The number of classes of an experiment's data, when known without loading it.

    ``shapes`` counts its class list and the Keras datasets have known counts; an
    ``npz`` file or an image folder is not opened here (None: the trainer checks).
    """
    data = exp.data
    if data.source == "shapes":
        return len(data.shapes.classes)
    if data.source == "keras":
        from cnnlab.data.keras_names import KERAS_CLASS_NAMES

        names = KERAS_CLASS_NAMES.get(data.keras_name)
        return len(names) if names else None
    return None
