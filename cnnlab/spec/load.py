"""Strict loading and saving of experiment files.

Loading explains itself: every unknown key, wrong type or bad value raises
:class:`SpecError` naming its path; older schema versions are migrated first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_write_text
from cnnlab.errors import SpecError, brief, clip
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.graph import MODULE_INPUT, Edge, ModelSpec, ModuleDef, Node, check_id
from cnnlab.spec.jsonsafe import check_values, parse, read_text
from cnnlab.spec.migrate import migrate
from cnnlab.spec.schema import section_from_dict
from cnnlab.spec.sections import DataSpec, TrainingSpec

MAX_PORTS = 64  # the most inputs a merge block takes
TOP_KEYS = ("schema_version", "name", "description", "model", "data", "training", "ui")


def experiment_from_dict(raw: Any) -> Experiment:
    """Build an :class:`Experiment` from parsed JSON, migrating and validating it.

    Raises:
        SpecError: On the first problem, naming its path.

    """
    if not isinstance(raw, Mapping):
        raise SpecError("", "an experiment file must hold a JSON object")
    check_values(raw)
    data = migrate(dict(raw))
    for key in sorted(data):
        if key not in TOP_KEYS:
            raise SpecError(clip(key), f"unknown key {brief(key)} (known: "
                            f"{', '.join(TOP_KEYS)})")
    if "model" not in data:
        raise SpecError("model", "the experiment has no model section")
    exp = Experiment(
        model=_model(data["model"], "model"),
        name=_string(data.get("name", "Untitled experiment"), "name"),
        description=_string(data.get("description", ""), "description"),
        data=section_from_dict(DataSpec, data.get("data", {}), "data"),
        training=section_from_dict(TrainingSpec, data.get("training", {}), "training"),
        ui=_object(data.get("ui", {}), "ui"),
    )
    _check_transfer_ids(exp)
    return exp


def model_from_dict(raw: Any, path: str) -> ModelSpec:
    """Build and check the model section (graph structure and block parameters)."""
    check_values(raw, path)
    return _model(raw, path)


def _model(raw: Any, path: str) -> ModelSpec:
    raw = _object(raw, path)
    _only_keys(raw, ("nodes", "edges", "modules"), path)
    modules_raw = _object(raw.get("modules", {}), f"{path}.modules")
    modules = {name: _module(name, m, f"{path}.modules.{name}", set(modules_raw))
               for name, m in sorted(modules_raw.items())}
    nodes = _nodes(raw.get("nodes"), f"{path}.nodes", modules)
    edges = _edges(raw.get("edges", []), f"{path}.edges", {n.id for n in nodes})
    model = ModelSpec(tuple(nodes), tuple(edges), modules)
    model.expand()  # validates every block's parameters, instances included
    return model


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file.

    Raises:
        SpecError: When the file is missing, not JSON, or invalid.

    """
    p = Path(path)
    raw = parse(read_text(p), p)
    return experiment_from_dict(raw)


def dumps(exp: Experiment) -> str:
    """The experiment as pretty JSON with sorted keys (stable, diff-friendly)."""
    return json.dumps(exp.to_dict(), indent=2, sort_keys=True) + "\n"


def save_experiment(exp: Experiment, path: str | Path) -> None:
    """Write the experiment atomically."""
    atomic_write_text(path, dumps(exp))


def _nodes(raw: Any, path: str, types: Mapping | set, in_module: bool = False) -> list[Node]:
    """The ``nodes`` list of the model (``types``: module names) or of a module."""
    from cnnlab.spec.expand import MAX_BLOCKS

    if not isinstance(raw, list) or not raw:
        raise SpecError(path, "a module needs a non-empty list of blocks" if in_module
                        else "must be a non-empty list of blocks")
    if len(raw) > MAX_BLOCKS:
        raise SpecError(path, f"{len(raw):,} blocks are more than a model may have "
                        f"({MAX_BLOCKS:,})")
    nodes: list[Node] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        item = _object(item, where)
        _only_keys(item, ("id", "type", "params"), where)
        nid = check_id(item.get("id"), f"{where}.id")
        if nid in seen:
            raise SpecError(f"{where}.id", f"duplicate id {nid!r}" + (
                " in the module (two blocks would become one)" if in_module else ""))
        seen.add(nid)
        kind = _block_type(item.get("type"), f"{where}.type", types)
        nodes.append(Node(nid, kind, _object(item.get("params", {}), f"{where}.params")))
    return nodes


def _block_type(kind: Any, path: str, modules: Mapping | set) -> str:
    from cnnlab.blocks.registry import BLOCKS

    if not isinstance(kind, str):
        raise SpecError(path, f"type must be the name of a block type or module (got "
                        f"{brief(kind)})")
    if kind not in BLOCKS and kind not in modules:
        known = f" (modules: {', '.join(sorted(modules))[:200]})" if modules else ""
        raise SpecError(path, f"unknown block type {brief(kind)}{known}")
    return kind


def _edges(raw: Any, path: str, ids: set[str], extra: tuple[str, ...] = ()) -> list[Edge]:
    if not isinstance(raw, list):
        raise SpecError(path, "must be a list of {src, dst} objects")
    edges, seen = [], set()
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        item = _object(item, where)
        _only_keys(item, ("src", "dst", "port"), where)
        for key in ("src", "dst"):
            _edge_end(item.get(key), key, f"{where}.{key}", ids, extra)
        port = item.get("port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool)
                                 or not 0 <= port < MAX_PORTS):
            raise SpecError(f"{where}.port", f"port must be an input index from 0 to "
                            f"{MAX_PORTS - 1} (got {brief(port)})")
        key = (item["src"], item["dst"])
        if key in seen:
            raise SpecError(where, f"duplicate connection {key[0]} -> {key[1]}")
        seen.add(key)
        edges.append(Edge(item["src"], item["dst"], port))
    return edges


def _edge_end(ref: Any, key: str, path: str, ids: set[str], extra: tuple[str, ...]) -> None:
    if not isinstance(ref, str):
        raise SpecError(path, f"{key} must be a block id (got {brief(ref)})")
    if key == "dst" and ref == MODULE_INPUT:
        raise SpecError(path, f"{MODULE_INPUT} is the module's input: connections start "
                        "there, none can end there")
    if ref not in ids and ref not in extra:
        raise SpecError(path, f"no block with id {brief(ref)}")


def _module(name: str, raw: Any, path: str, module_names: set[str]) -> ModuleDef:
    from cnnlab.blocks.registry import BLOCKS

    check_id(name, path)
    if name in BLOCKS:
        raise SpecError(path, f"module name {name!r} is already a block type")
    raw = _object(raw, path)
    _only_keys(raw, ("description", "params", "nodes", "edges", "output"), path)
    nodes = _nodes(raw.get("nodes"), f"{path}.nodes", module_names, in_module=True)
    ids = {n.id for n in nodes}
    edges = _edges(raw.get("edges", []), f"{path}.edges", ids, (MODULE_INPUT,))
    output = raw.get("output")
    if not isinstance(output, str) or output not in ids:
        raise SpecError(f"{path}.output", f"output must name one of the module's blocks "
                        f"(got {brief(output)})")
    return ModuleDef(_object(raw.get("params", {}), f"{path}.params"), tuple(nodes),
                     tuple(edges), output, _string(raw.get("description", ""),
                                                   f"{path}.description"))


def _check_transfer_ids(exp: Experiment) -> None:
    ids = {n.id for n in exp.model.expand().nodes}
    for key in exp.training.transfer.layer_multipliers:
        if key not in ids:
            raise SpecError(f"training.transfer.layer_multipliers.{key}",
                            f"no block with id {key!r}")


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, Mapping):
        raise SpecError(path, f"must be an object (got {type(value).__name__})")
    return dict(value)


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise SpecError(path, f"must be a string (got {brief(value)})")
    return value


def _only_keys(obj: Mapping, allowed: tuple[str, ...], path: str) -> None:
    for key in sorted(obj):
        if key not in allowed:
            raise SpecError(f"{path}.{clip(key)}" if path else clip(key),
                            f"unknown key {brief(key)} (known: {', '.join(allowed)})")
