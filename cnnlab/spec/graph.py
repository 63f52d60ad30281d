"""The model graph: nodes, edges and reusable modules, and their expansion.

A node is ``{id, type, params}`` where ``type`` is a block type of the
catalogue or the name of a module defined in ``model.modules``. A module is a
named sub-graph with parameters; its inner nodes refer to them as ``"$name"``.
Expansion replaces every module instance by its blocks with prefixed ids
(``stage2_block1`` + ``add`` -> ``stage2_block1_add``), so the builder and the
analysis see one flat graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnnlab.errors import SpecError, brief

ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,199}$")
MODULE_INPUT = "@in"


@dataclass(frozen=True)
class Node:
    """One block of the graph."""

    id: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "type": self.type, "params": dict(self.params)}


@dataclass(frozen=True)
class Edge:
    """A connection from ``src``'s output to ``dst``; ``port`` orders multiple inputs."""

    src: str
    dst: str
    port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``port`` only when set)."""
        d: dict[str, Any] = {"src": self.src, "dst": self.dst}
        if self.port is not None:
            d["port"] = self.port
        return d


@dataclass(frozen=True)
class ModuleDef:
    """A reusable sub-graph with parameters (residual block, inception module...)."""

    params: Mapping[str, Any]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    output: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "description": self.description,
            "params": dict(self.params),
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "output": self.output,
        }


@dataclass(frozen=True)
class FlatNode:
    """A node of the expanded graph: a catalogue block with validated params."""

    id: str
    type: str
    params: Mapping[str, Any]
    group: str | None = None  # the module instance it came from


@dataclass(frozen=True)
class FlatGraph:
    """The expanded graph the builder and the analysis work on."""

    nodes: tuple[FlatNode, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> FlatNode:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True)
class ModelSpec:
    """The model section: a graph of blocks and module instances."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    modules: Mapping[str, ModuleDef] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        """The top-level node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def ids(self) -> list[str]:
        """Top-level node ids in order."""
        return [n.id for n in self.nodes]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "modules": {k: self.modules[k].to_dict() for k in sorted(self.modules)},
        }

    def expand(self) -> FlatGraph:
        """The flat graph with every module instance replaced by its blocks (cached)."""
        cached = self.__dict__.get("_flat")
        if cached is None:
            from cnnlab.spec.expand import expand_model

            cached = expand_model(self)
            object.__setattr__(self, "_flat", cached)
        return cached


def check_id(value: Any, path: str) -> str:
    """Check that ``value`` is a readable block id."""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise SpecError(path, f"id must start with a letter and use letters, digits and _ "
                        f"(at most 200 characters; got {brief(value)})")
    return value
