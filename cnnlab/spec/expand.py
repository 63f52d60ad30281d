"""Expansion of module instances into flat blocks with validated parameters."""

from __future__ import annotations

from typing import Any

from cnnlab.blocks.registry import get_block
from cnnlab.errors import SpecError
from cnnlab.params import validate_params, with_defaults
from cnnlab.spec.graph import MODULE_INPUT, Edge, FlatGraph, FlatNode, ModelSpec, ModuleDef

MAX_DEPTH = 8


def expand_model(model: ModelSpec) -> FlatGraph:
    """Expand ``model`` into a :class:`FlatGraph`.

    Raises:
        SpecError: When a module instance gives bad parameters, naming its path.

    """
    nodes: list[FlatNode] = []
    edges: list[Edge] = []
    outputs: dict[str, str] = {}
    inputs: dict[str, list[str]] = {}
    for i, node in enumerate(model.nodes):
        path = f"model.nodes[{i}]"
        if node.type in model.modules:
            out, entry = _expand_instance(model, node.id, node.type, node.params, path,
                                          None, nodes, edges, 0)
            outputs[node.id], inputs[node.id] = out, entry
        else:
            block = get_block(node.type)
            params = with_defaults(block.params, validate_params(
                block.params, node.params, f"{path}.params", node.type))
            nodes.append(FlatNode(node.id, node.type, params))
            outputs[node.id], inputs[node.id] = node.id, [node.id]
    for edge in model.edges:
        src = outputs.get(edge.src, edge.src)
        for dst in inputs.get(edge.dst, [edge.dst]):
            edges.append(Edge(src, dst, edge.port))
    return FlatGraph(tuple(nodes), tuple(edges))


def _expand_instance(model, prefix, module_name, given, path, group, nodes, edges, depth):
    """Expand one instance; return (output id, ids fed by the module input)."""
    if depth > MAX_DEPTH:
        raise SpecError(path, f"modules nest deeper than {MAX_DEPTH} levels (a module "
                        "that uses itself?)")
    mod: ModuleDef = model.modules[module_name]
    unknown = sorted(set(given) - set(mod.params))
    if unknown:
        raise SpecError(f"{path}.params.{unknown[0]}", f"module {module_name} has no "
                        f"parameter {unknown[0]!r} (known: {', '.join(sorted(mod.params))})")
    args = {**mod.params, **given}
    group = group or prefix
    local_out: dict[str, str] = {}
    local_in: dict[str, list[str]] = {}
    for inner in mod.nodes:
        nid = f"{prefix}_{inner.id}"
        params = _substitute(inner.params, args, path, module_name)
        if inner.type in model.modules:
            out, entry = _expand_instance(model, nid, inner.type, params, path, group,
                                          nodes, edges, depth + 1)
            local_out[inner.id], local_in[inner.id] = out, entry
            continue
        block = get_block(inner.type)
        checked = validate_params(block.params, params, f"{path}.params",
                                  f"{module_name}.{inner.id} ({inner.type})")
        nodes.append(FlatNode(nid, inner.type, with_defaults(block.params, checked), group))
        local_out[inner.id], local_in[inner.id] = nid, [nid]
    entry: list[str] = []
    for e in mod.edges:
        dsts = local_in[e.dst]
        if e.src == MODULE_INPUT:
            entry.extend(dsts)
        else:
            edges.extend(Edge(local_out[e.src], d, e.port) for d in dsts)
    return local_out[mod.output], entry


def _substitute(params: Any, args: dict, path: str, module_name: str) -> dict:
    out = {}
    for key, value in params.items():
        out[key] = _sub_value(value, args, f"{path}.params", module_name)
    return out


def _sub_value(value: Any, args: dict, path: str, module_name: str) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:]
        if name not in args:
            raise SpecError(path, f"module {module_name} refers to unknown parameter {value}")
        return args[name]
    if isinstance(value, list):
        return [_sub_value(v, args, path, module_name) for v in value]
    return value
