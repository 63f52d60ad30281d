"""What changed between two experiment specs, as data and as readable lines.

:func:`diff_specs` is a pure function over two spec dicts. The model graph is
compared by block id (blocks added, removed, retyped, parameters changed) and
by edge; everything else (``data``, ``training``, module definitions, the
spec's name) is compared field by field with dotted paths
(``training.optimizer.learning_rate``). The ``ui`` section is ignored: layout
never changes what runs.

:func:`change_label` turns a diff into a few words (``lr 0.01``, ``+conv4``,
``dropout rate 0.5, epochs 20``) and :func:`label_runs` names each run of an
experiment by what changed since the one before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

IGNORED_SECTIONS = frozenset({"ui"})
SET_FIELDS = frozenset({"data.exclude"})  # lists of sample ids, compared as sets
EMPTY_DEFAULTS = {"data.exclude": list, "data.relabel": dict}  # the dataset revision
ITEMS_SHOWN = 3
_GRAPH_KEYS = ("nodes", "edges")
_MISSING: Any = object()


@dataclass(frozen=True)
class Change:
    """One value that differs; ``old``/``new`` is None where ``added``/``removed``."""

    path: str
    old: Any
    new: Any
    kind: str = "changed"  # "changed", "added" or "removed"

    def line(self) -> str:
        """Return ``path: old -> new`` with ``(unset)`` for a missing side.

        A set of ids (kind ``items``: ``old`` removed, ``new`` added) reads
        ``data.exclude: +2 (cat/a.png, cat/b.png), -1 (dog/c.png)``.
        """
        if self.kind == "items":
            return f"{self.path}: {_items_text(self.new, self.old)}"
        old = "(unset)" if self.kind == "added" else format_value(self.old)
        new = "(unset)" if self.kind == "removed" else format_value(self.new)
        return f"{self.path}: {old} -> {new}"


@dataclass(frozen=True)
class BlockRef:
    """A block by id and type (ids inside a module read ``module/block``)."""

    id: str
    type: str


@dataclass(frozen=True)
class EdgeRef:
    """An edge; ``detail`` holds its other keys (such as a port) as ``key=value``."""

    src: str
    dst: str
    detail: str = ""

    def text(self) -> str:
        """Return ``src -> dst`` plus the detail in parentheses."""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.src} -> {self.dst}{extra}"


@dataclass(frozen=True)
class SpecDiff:
    """The structured difference between spec ``a`` (old) and spec ``b`` (new)."""

    blocks_added: tuple[BlockRef, ...] = ()
    blocks_removed: tuple[BlockRef, ...] = ()
    block_changes: tuple[Change, ...] = ()
    edges_added: tuple[EdgeRef, ...] = ()
    edges_removed: tuple[EdgeRef, ...] = ()
    modules_added: tuple[str, ...] = ()
    modules_removed: tuple[str, ...] = ()
    field_changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    @property
    def empty(self) -> bool:
        """True when the two specs run the same experiment."""
        return not self

    def lines(self) -> list[str]:
        """Return one human-readable line per difference, graph first."""
        out = [f"+ module {name}" for name in self.modules_added]
        out += [f"- module {name}" for name in self.modules_removed]
        out += [f"+ block {b.id} ({b.type})" for b in self.blocks_added]
        out += [f"- block {b.id} ({b.type})" for b in self.blocks_removed]
        out += [change.line() for change in self.block_changes]
        out += [f"+ edge {edge.text()}" for edge in self.edges_added]
        out += [f"- edge {edge.text()}" for edge in self.edges_removed]
        out += [change.line() for change in self.field_changes]
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the diff as plain JSON-ready data, with its ``lines``."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            items = getattr(self, name)
            data[name] = [item if isinstance(item, str) else asdict(item) for item in items]
        data["lines"] = self.lines()
        return data


def format_value(value: Any) -> str:
    """Format a spec value for a diff line: strings bare, the rest as compact JSON."""
    if isinstance(value, str) and value:
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def diff_specs(a: dict[str, Any], b: dict[str, Any]) -> SpecDiff:
    """Compare two spec dicts; ``a`` is the old one and ``b`` the new one.

    Args:
        a: The reference spec (for example the earlier run's snapshot).
        b: The spec to compare with it.

    Returns:
        The :class:`SpecDiff`; ``diff.lines()`` reads like
        ``conv2.filters: 32 -> 64`` or ``+ block drop1 (Dropout)``.

    """
    acc = _Acc()
    model_a, model_b = _as_dict(a.get("model")), _as_dict(b.get("model"))
    _diff_graph(acc, "", model_a, model_b)
    _diff_modules(acc, _as_dict(model_a.get("modules")), _as_dict(model_b.get("modules")))
    for key in _keys(model_a, model_b):
        if key not in _GRAPH_KEYS and key != "modules":
            _diff_value(acc.fields, f"model.{key}", model_a.get(key, _MISSING),
                        model_b.get(key, _MISSING))
    for key in _keys(a, b):
        if key != "model" and key not in IGNORED_SECTIONS:
            _diff_value(acc.fields, key, a.get(key, _MISSING), b.get(key, _MISSING))
    return acc.result()


class _Acc:
    """Mutable collector turned into a frozen :class:`SpecDiff` at the end."""

    def __init__(self) -> None:
        self.added: list[BlockRef] = []
        self.removed: list[BlockRef] = []
        self.blocks: list[Change] = []
        self.edges_added: list[EdgeRef] = []
        self.edges_removed: list[EdgeRef] = []
        self.modules_added: list[str] = []
        self.modules_removed: list[str] = []
        self.fields: list[Change] = []

    def result(self) -> SpecDiff:
        return SpecDiff(
            tuple(self.added), tuple(self.removed), tuple(self.blocks),
            tuple(self.edges_added), tuple(self.edges_removed),
            tuple(self.modules_added), tuple(self.modules_removed), tuple(self.fields),
        )


def _diff_graph(acc: _Acc, prefix: str, graph_a: dict, graph_b: dict) -> None:
    nodes_a = _nodes_by_id(graph_a.get("nodes"))
    nodes_b = _nodes_by_id(graph_b.get("nodes"))
    for node_id, node in nodes_b.items():
        if node_id not in nodes_a:
            acc.added.append(BlockRef(prefix + node_id, str(node.get("type", "?"))))
    for node_id, node in nodes_a.items():
        if node_id not in nodes_b:
            acc.removed.append(BlockRef(prefix + node_id, str(node.get("type", "?"))))
        else:
            _diff_node(acc.blocks, prefix + node_id, node, nodes_b[node_id])
    edges_a, edges_b = _edges(graph_a.get("edges")), _edges(graph_b.get("edges"))
    acc.edges_added += [edge for edge in edges_b if edge not in edges_a]
    acc.edges_removed += [edge for edge in edges_a if edge not in edges_b]


def _diff_node(out: list[Change], path: str, node_a: dict, node_b: dict) -> None:
    for key in _keys(node_a, node_b):
        if key == "id":
            continue
        old, new = node_a.get(key, _MISSING), node_b.get(key, _MISSING)
        sub = path if key == "params" else f"{path}.{key}"
        _diff_value(out, sub, old, new)


def _diff_modules(acc: _Acc, mods_a: dict, mods_b: dict) -> None:
    acc.modules_added += [name for name in mods_b if name not in mods_a]
    acc.modules_removed += [name for name in mods_a if name not in mods_b]
    for name in mods_a:
        if name not in mods_b:
            continue
        mod_a, mod_b = _as_dict(mods_a[name]), _as_dict(mods_b[name])
        _diff_graph(acc, f"{name}/", mod_a, mod_b)
        for key in _keys(mod_a, mod_b):
            if key not in _GRAPH_KEYS:
                _diff_value(acc.fields, f"model.modules.{name}.{key}",
                            mod_a.get(key, _MISSING), mod_b.get(key, _MISSING))


def _diff_value(out: list[Change], path: str, old: Any, new: Any) -> None:
    """Append the changes between two JSON values, recursing into dicts and lists."""
    if path in EMPTY_DEFAULTS:  # a spec from before the field was added: no revision
        empty = EMPTY_DEFAULTS[path]
        old, new = (empty() if v is _MISSING else v for v in (old, new))
    if old is _MISSING and new is _MISSING:
        return
    if old is _MISSING:
        out.append(Change(path, None, new, "added"))
    elif new is _MISSING:
        out.append(Change(path, old, None, "removed"))
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in _keys(old, new):
            _diff_value(out, f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING))
    elif _keyed_list(old) and _keyed_list(new):
        _diff_value(out, path, _nodes_by_id(old), _nodes_by_id(new))
    elif _dict_list(old) and _dict_list(new) and len(old) == len(new):
        for index, (item_a, item_b) in enumerate(zip(old, new, strict=True)):
            _diff_value(out, f"{path}[{index}]", item_a, item_b)
    elif path in SET_FIELDS and isinstance(old, list) and isinstance(new, list):
        _diff_items(out, path, old, new)
    elif not _same(old, new):
        out.append(Change(path, old, new))


def _diff_items(out: list[Change], path: str, old: list, new: list) -> None:
    """One ``items`` change: what a list of ids lost (``old``) and gained (``new``)."""
    before, after = {format_value(v) for v in old}, {format_value(v) for v in new}
    added = [format_value(v) for v in new if format_value(v) not in before]
    removed = [format_value(v) for v in old if format_value(v) not in after]
    if added or removed:
        out.append(Change(path, removed, added, "items"))


def _items_text(added: list[str], removed: list[str]) -> str:
    """``+2 (a, b), -1 (c)``, naming at most ITEMS_SHOWN of each side."""
    parts = []
    for sign, items in (("+", added), ("-", removed)):
        if items:
            shown = ", ".join(items[:ITEMS_SHOWN])
            more = f", {len(items) - ITEMS_SHOWN} more" if len(items) > ITEMS_SHOWN else ""
            parts.append(f"{sign}{len(items)} ({shown}{more})")
    return ", ".join(parts)


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON values: ``1`` and ``1.0`` agree, ``True`` and ``1`` do not."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(old) == len(new) and all(_same(x, y) for x, y in zip(old, new, strict=True))
    return bool(old == new)


def _keys(a: dict, b: dict) -> list[str]:
    return list(a) + [key for key in b if key not in a]


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dict_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _keyed_list(value: Any) -> bool:
    if not _dict_list(value) or not all(isinstance(v.get("id"), str) for v in value):
        return False
    return len({v["id"] for v in value}) == len(value)


def _nodes_by_id(nodes: Any) -> dict[str, dict]:
    if not isinstance(nodes, list):
        return {}
    return {str(n["id"]): n for n in nodes if isinstance(n, dict) and "id" in n}


def _edges(edges: Any) -> list[EdgeRef]:
    out: list[EdgeRef] = []
    for edge in edges if isinstance(edges, list) else []:
        if not isinstance(edge, dict):
            continue
        extra = ", ".join(f"{k}={format_value(v)}" for k, v in sorted(edge.items())
                          if k not in ("src", "dst"))
        ref = EdgeRef(str(edge.get("src", "?")), str(edge.get("dst", "?")), extra)
        if ref not in out:
            out.append(ref)
    return out


# -- short labels: a run named by what changed -------------------------------------------

RELABEL_PREFIX = "data.relabel."
QUIET_FIELDS = frozenset({"name", "description", "schema_version"})  # never change what runs
LABEL_ITEMS = 3
_SECTIONS = ("training.", "data.", "model.")
_ALIASES = {"training.optimizer.learning_rate": "lr", "training.optimizer.name": "",
            "training.batch_size": "batch", "training.regularization.kernel_l2": "L2",
            "training.regularization.kernel_l1": "L1", "data.source": "data",
            "data.keras_name": "data", "training.transfer.strategy": "transfer"}


@dataclass(frozen=True)
class RunLabel:
    """What a run is called in lists: ``text``, the run it was compared with, the diff."""

    text: str
    previous: str | None = None  # the run id compared with; None for the first run
    lines: tuple[str, ...] = ()  # the full diff against ``previous``


def change_label(diff: SpecDiff, limit: int = LABEL_ITEMS) -> str:
    """Return a short label of what a diff changed: ``lr 0.01``, ``+conv4``, ``epochs 20``.

    The spec's name and description are left out (they do not change what
    runs); past ``limit`` items the label ends ``+N more``.

    Args:
        diff: The difference from the earlier spec to this one.
        limit: How many changes the label names.

    Returns:
        The label, or ``same spec`` when nothing that runs changed.

    """
    items = [f"+{b.id}" for b in diff.blocks_added] + [f"-{b.id}" for b in diff.blocks_removed]
    items += [_change_item(c, block=True) for c in diff.block_changes]
    items += [_change_item(c) for c in diff.field_changes if c.path not in QUIET_FIELDS]
    if not items:
        items = [f"+module {m}" for m in diff.modules_added]
        items += [f"-module {m}" for m in diff.modules_removed]
    if not items and (diff.edges_added or diff.edges_removed):
        items = ["rewired"]
    if not items:
        return "same spec"
    more = len(items) - limit
    return ", ".join(items[:limit] + ([f"+{more} more"] if more > 0 else []))


def label_runs(runs: Iterable[tuple[str, str, Mapping[str, Any] | None]]) -> dict[str, RunLabel]:
    """Label each run by what changed since the previous run of the same experiment.

    Args:
        runs: ``(run id, name, spec snapshot or None when unreadable)``, oldest
            first. Runs with the same name are one experiment.

    Returns:
        Run id -> :class:`RunLabel`; the first run of an experiment (and one
        whose spec cannot be read) is called by its name.

    """
    last: dict[str, tuple[str, Mapping[str, Any]]] = {}
    out: dict[str, RunLabel] = {}
    for run_id, name, spec in runs:
        before = last.get(name)
        if spec is None or before is None:
            out[run_id] = RunLabel(name)
        else:
            diff = diff_specs(dict(before[1]), dict(spec))
            out[run_id] = RunLabel(change_label(diff), before[0], tuple(diff.lines()))
        if spec is not None:
            last[name] = (run_id, spec)
    return out


def _change_item(change: Change, block: bool = False) -> str:
    """One change in a few words: ``lr 0.01``, ``conv2 filters 64``, ``no weight_decay``."""
    if change.kind == "items":  # data.exclude +2 -1
        counts = [f"+{len(change.new)}"] * bool(change.new) + [f"-{len(change.old)}"] * bool(
            change.old)
        return f"{change.path.split('.')[-1]} {' '.join(counts)}"
    if change.path.startswith(RELABEL_PREFIX):  # a sample id may hold dots
        return f"relabel {change.path[len(RELABEL_PREFIX):]}"
    key = _ALIASES.get(change.path)
    if key is None:
        parts = change.path.split(".")
        if not block and change.path.startswith(_SECTIONS):
            parts = parts[1:]
        switch = len(parts) > 1 and parts[-1] in ("enabled", "type")  # "mixup on"
        key = parts[-2] if switch else " ".join(parts[-2:])
    if change.kind == "removed":  # a block parameter back to its default, a field unset
        return f"{key} default" if block else f"no {key}".strip()
    value = _short_value(change.new)
    return f"{key} {value}".strip() if value else f"{key} changed"


def _short_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 24 else ""
