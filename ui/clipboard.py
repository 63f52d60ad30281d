"""Copy, paste and duplicate: selected blocks as a JSON fragment of the spec.

A fragment holds the blocks, the connections between them, their positions
and the module definitions they use. Pasting gives every block a fresh
readable id (``conv1`` pasted next to ``conv1``..``conv3`` becomes ``conv4``)
and puts the copies at the first free spot beside the originals.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from cnnlab import Edge, Experiment, Node, model_from_dict
from cnnlab.diagram import free_offset, occupied
from cnnlab.spec import all_ids, collapsed, new_id, positions, with_graph, with_ui

MIME_FRAGMENT = "application/x-cnnlab-fragment"


def fragment(exp: Experiment, ids: Iterable[str]) -> dict[str, Any]:
    """The selected top-level blocks as a JSON-ready fragment."""
    chosen = set(ids)
    nodes = [n for n in exp.model.nodes if n.id in chosen]
    pos = positions(exp)
    return {
        "nodes": [n.to_dict() for n in nodes],
        "edges": [e.to_dict() for e in exp.model.edges if e.src in chosen and e.dst in chosen],
        "positions": {n.id: list(pos[n.id]) for n in nodes if n.id in pos},
        "modules": _modules_used(exp, {n.type for n in nodes}),
    }


def _modules_used(exp: Experiment, types: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    todo = [t for t in types if t in exp.model.modules]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        mod = exp.model.modules[name]
        found[name] = mod.to_dict()
        todo += [n.type for n in mod.nodes if n.type in exp.model.modules]
    return found


def paste(exp: Experiment, frag: Mapping[str, Any], offset: tuple[float, float] | None = None
          ) -> tuple[Experiment, list[str]]:
    """Add a fragment's blocks with fresh ids; return (new experiment, their ids).

    Args:
        exp: The experiment to paste into.
        frag: A fragment from :func:`fragment`.
        offset: How far from the fragment's positions the blocks land; None: at
            the first free spot beside them, overlapping no block already there.

    Raises:
        SpecError: When the fragment is not a valid piece of a spec.
    """
    modules = dict(exp.model.modules)
    for name, mod in _parse_modules(frag.get("modules", {})).items():
        modules.setdefault(name, mod)
    taken = all_ids(exp)
    renamed: dict[str, str] = {}
    nodes = list(exp.model.nodes)
    for raw in frag.get("nodes", []):
        nid = new_id(raw["type"], taken)
        taken.add(nid)
        renamed[raw["id"]] = nid
        nodes.append(Node(nid, raw["type"], dict(raw.get("params", {}))))
    edges = list(exp.model.edges) + [
        Edge(renamed[e["src"]], renamed[e["dst"]], e.get("port"))
        for e in frag.get("edges", []) if e["src"] in renamed and e["dst"] in renamed]
    out = with_graph(exp, nodes, edges, modules)
    pos = positions(exp)
    placed = {old: xy for old, value in frag.get("positions", {}).items()
              if old in renamed and (xy := _point(value)) is not None}
    if offset is None:
        offset = free_offset(occupied(exp), list(placed.values()))
    for old, (x, y) in placed.items():
        pos[renamed[old]] = (x + offset[0], y + offset[1])
    fresh = list(renamed.values())
    folded = collapsed(exp) | {n for n in fresh if out.model.node(n).type in modules}
    return with_ui(out, pos, folded), fresh


def _point(value: Any) -> tuple[float, float] | None:
    """A fragment's position as two finite numbers, or None (the block gets none)."""
    x, y = (float(v) for v in value)
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def _parse_modules(raw: Mapping[str, Any]) -> dict:
    if not raw:
        return {}
    model = model_from_dict({"nodes": [{"id": "x", "type": "Input"}], "modules": dict(raw)},
                            "clipboard")
    return dict(model.modules)


def put_on_clipboard(frag: Mapping[str, Any]) -> None:
    """Copy a fragment to the system clipboard (JSON text as well)."""
    text = json.dumps(frag, indent=1, sort_keys=True)
    mime = QMimeData()
    mime.setData(MIME_FRAGMENT, text.encode("utf-8"))
    mime.setText(text)
    QGuiApplication.clipboard().setMimeData(mime)


def from_clipboard() -> dict[str, Any] | None:
    """The fragment on the clipboard, if there is one."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None or not mime.hasFormat(MIME_FRAGMENT):
        return None
    try:
        frag = json.loads(bytes(mime.data(MIME_FRAGMENT)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return frag if isinstance(frag, dict) else None
