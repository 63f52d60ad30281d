"""Expansion of module instances into flat blocks with validated parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnlab.blocks.registry import get_block
from cnnlab.errors import SpecError
from cnnlab.params import validate_params, with_defaults
from cnnlab.spec.graph import MODULE_INPUT, Edge, FlatGraph, FlatNode, ModelSpec, ModuleDef
from cnnlab.spec.toposort import cycle_text, topological_order

MAX_DEPTH = 8
MAX_BLOCKS = 100_000
MAX_EDGES = 1_000_000
COUNT_LIMIT = 10**15


def expand_model(model: ModelSpec) -> FlatGraph:
    """Expand ``model`` into a :class:`FlatGraph`.

    The size is counted first (instance counts multiplied, nothing built), so
    a module fan-out of 10^8 blocks is refused at once.

    Raises:
        SpecError: When a module instance gives bad parameters, modules nest
            too deep or use themselves, the expansion has more than
            ``MAX_BLOCKS`` blocks, or two blocks get the same id; naming the path.

    """
    check_expanded_size(model)
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
    _check_unique_ids(model, nodes)
    return FlatGraph(tuple(nodes), tuple(edges))


@dataclass(frozen=True)
class ModuleSize:
    """What one instance of a module becomes, counted without expanding it.

    Counts saturate at ``COUNT_LIMIT`` so that hostile nesting stays cheap.
    """

    blocks: int  # blocks after expansion
    edges: int  # connections after expansion, inside the module
    entries: int  # blocks fed by the module input @in
    depth: int  # levels of modules inside it (0: only blocks)


def check_expanded_size(model: ModelSpec) -> None:
    """Refuse modules that use themselves, nest too deep, or expand too far.

    Raises:
        SpecError: Naming the module (and the instance's path).

    """
    sizes = module_sizes(model)
    blocks = edges = 0
    for i, node in enumerate(model.nodes):
        size = sizes.get(node.type)
        if size is not None and size.blocks > MAX_BLOCKS:
            raise SpecError(f"model.nodes[{i}]", f"module {node.type} (instance {node.id}) "
                            f"expands to {_many(size.blocks)} blocks; a model may have at "
                            f"most {MAX_BLOCKS:,}")
        blocks += size.blocks if size else 1
        edges += size.edges if size else 0
    types = {n.id: n.type for n in model.nodes}
    edges += sum(_fed(types[e.dst], sizes) for e in model.edges)
    if blocks > MAX_BLOCKS or edges > MAX_EDGES:
        biggest = max(model.modules, key=lambda m: sizes[m].blocks + sizes[m].edges)
        what = (f"{_many(blocks)} blocks" if blocks > MAX_BLOCKS
                else f"{_many(edges)} connections")
        limit = f"{MAX_BLOCKS:,} blocks and {MAX_EDGES:,} connections"
        raise SpecError("model.nodes", f"the model expands to {what} (module {biggest}: "
                        f"{_many(sizes[biggest].blocks)} blocks each); a model may have at "
                        f"most {limit}")


def module_sizes(model: ModelSpec) -> dict[str, ModuleSize]:
    """The :class:`ModuleSize` of every module, in dependency order (used before users).

    Raises:
        SpecError: When modules use each other in a cycle or nest deeper than
            ``MAX_DEPTH`` levels, naming the module.

    """
    names = sorted(model.modules)
    used_by = [(used, name) for name in names  # a module's parts come before it
               for used in sorted({n.type for n in model.modules[name].nodes} & set(names))]
    order, cycle = topological_order(names, used_by)
    sizes: dict[str, ModuleSize] = {}
    for name in order:
        sizes[name] = _size(model.modules[name], sizes)
        if sizes[name].depth > MAX_DEPTH:
            raise SpecError(f"model.modules.{name}", f"module {name} nests modules "
                            f"{sizes[name].depth} levels deep; at most {MAX_DEPTH} are allowed")
    if cycle:
        path = _uses_path(cycle)
        raise SpecError(f"model.modules.{path[0]}", f"modules use each other in a cycle "
                        f"({cycle_text(path)}); a module cannot contain itself")
    return sizes


def _uses_path(cycle: list[str]) -> list[str]:
    """A cycle of "is used by" steps as "uses" steps, from its first name in sorted order."""
    ring = cycle[:0:-1]  # reversed, without the repeated end
    start = ring.index(min(ring))
    ring = ring[start:] + ring[:start]
    return [*ring, ring[0]]


def _size(mod: ModuleDef, sizes: Mapping[str, ModuleSize]) -> ModuleSize:
    types = {n.id: n.type for n in mod.nodes}
    inner = [sizes[t] for t in types.values() if t in sizes]
    blocks = sum(s.blocks for s in inner) + len(types) - len(inner)
    fed_in = [_fed(types[e.dst], sizes) for e in mod.edges if e.src == MODULE_INPUT]
    fed = [_fed(types[e.dst], sizes) for e in mod.edges if e.src != MODULE_INPUT]
    edges = sum(s.edges for s in inner) + sum(fed)
    depth = max((s.depth + 1 for s in inner), default=0)
    return ModuleSize(min(blocks, COUNT_LIMIT), min(edges, COUNT_LIMIT),
                      min(sum(fed_in), COUNT_LIMIT), depth)


def _fed(node_type: str, sizes: Mapping[str, ModuleSize]) -> int:
    """How many blocks a connection into a node of this type reaches."""
    size = sizes.get(node_type)
    return 1 if size is None else size.entries


def _many(count: int) -> str:
    return f"{count:,}" if count < COUNT_LIMIT else f"more than {COUNT_LIMIT:,}"


def _check_unique_ids(model: ModelSpec, nodes: list[FlatNode]) -> None:
    where = {n.id: f"model.nodes[{i}]" for i, n in enumerate(model.nodes)}
    seen: dict[str, FlatNode] = {}
    for node in nodes:
        first = seen.get(node.id)
        if first is not None:
            owner = node.group or first.group
            raise SpecError(where.get(owner, "model.nodes"), f"two blocks get the id "
                            f"{node.id!r} after expanding module instance {owner}; rename "
                            "the instance or the other block")
        seen[node.id] = node


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
