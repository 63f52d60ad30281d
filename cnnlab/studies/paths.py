"""Experiment-file paths: ``training.optimizer.learning_rate``, ``model.nodes[conv1].params.x``.

A path is dot-separated keys; ``[x]`` picks a list element: the one whose
``id`` is ``x`` (a block by id), or the element at index ``x`` when ``x`` is a
number. Setting a value returns a new dict; the experiment is never changed
in place.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from cnnlab.errors import CnnlabError, brief

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]]+\])*)$")
_INDEX = re.compile(r"\[([^\[\]]+)\]")
MAX_PATH = 300


class PathError(CnnlabError):
    """A parameter path is malformed or does not exist in the experiment."""


def split_path(path: str) -> list[str | tuple[str]]:
    """``model.nodes[conv1].params.filters`` -> ``[model, nodes, (conv1,), params, filters]``.

    A key is a string; a list pick is a one-element tuple.

    Raises:
        PathError: When the path is not keys and ``[...]`` picks.
    """
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise PathError(f"bad parameter path {brief(path)}")
    parts: list[str | tuple[str]] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if not match:
            raise PathError(f"bad parameter path {brief(path)}: write keys separated by "
                            f"dots, a block as nodes[ID] (training.optimizer.learning_rate, "
                            f"model.nodes[conv1].params.filters)")
        parts.append(match.group(1))
        parts.extend((pick.strip(),) for pick in _INDEX.findall(match.group(2)))
    return parts


def get_value(tree: Any, path: str) -> Any:
    """The value at ``path``.

    Raises:
        PathError: When the path does not exist.
    """
    node = tree
    for part in split_path(path):
        node = _child(node, part, path)
    return node


def set_value(tree: dict, path: str, value: Any) -> dict:
    """A deep copy of ``tree`` with ``value`` at ``path``.

    Every step but the last must exist; the last must exist too, except a
    block parameter (``...nodes[ID].params.NAME``) that the file leaves at its
    default: the spec's own validation judges that name.

    Raises:
        PathError: When the path does not exist.
    """
    parts = split_path(path)
    out = copy.deepcopy(tree)
    parent = out
    for part in parts[:-1]:
        parent = _child(parent, part, path)
    last = parts[-1]
    if isinstance(last, tuple):
        if not isinstance(parent, list):
            raise PathError(f"{path}: {_where(parts[:-1])} is not a list")
        parent[_index(parent, last[0], path)] = copy.deepcopy(value)
        return out
    if not isinstance(parent, dict):
        raise PathError(f"{path}: {_where(parts[:-1])} has no keys")
    block_param = len(parts) >= 3 and parts[-2] == "params" and isinstance(parts[-3], tuple)
    if last not in parent and not block_param:
        known = ", ".join(sorted(map(str, parent))[:12])
        raise PathError(f"{path}: no {last!r} in {_where(parts[:-1]) or 'the experiment'}"
                        f" (known: {known})")
    parent[last] = copy.deepcopy(value)
    return out


def _child(node: Any, part: str | tuple[str], path: str) -> Any:
    if isinstance(part, tuple):
        if not isinstance(node, list):
            raise PathError(f"{path}: [{part[0]}] picks from a list, and this is not one")
        return node[_index(node, part[0], path)]
    if not isinstance(node, dict) or part not in node:
        known = ", ".join(sorted(map(str, node))[:12]) if isinstance(node, dict) else ""
        raise PathError(f"{path}: no {part!r} here" + (f" (known: {known})" if known else ""))
    return node[part]


def _index(items: list, pick: str, path: str) -> int:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == pick:
            return i
    if pick.isdigit() and int(pick) < len(items):
        return int(pick)
    ids = [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
    hint = f" (ids: {', '.join(ids[:12])})" if ids else ""
    raise PathError(f"{path}: no element {pick!r}{hint}")


def _where(parts: list) -> str:
    text = ""
    for part in parts:
        text += f"[{part[0]}]" if isinstance(part, tuple) else (f".{part}" if text else part)
    return text
