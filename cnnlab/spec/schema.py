"""Declarative spec sections: frozen dataclasses whose fields carry a :class:`Param`.

``section_from_dict`` and ``section_to_dict`` turn any such dataclass into and
out of JSON-ready dicts with strict checking: unknown keys, wrong types and
out-of-range values raise :class:`SpecError` naming the path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from cnnlab.errors import SpecError, brief, clip
from cnnlab.params import Param

T = TypeVar("T")


def param_field(kind: str, default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field described by a :class:`Param` (name filled in later)."""
    param = Param("", kind, default, help, **kw)
    if isinstance(default, (list, dict)):
        return dataclasses.field(
            default_factory=lambda: _copy(default), metadata={"param": param}
        )
    return dataclasses.field(default=default, metadata={"param": param})


def section_field(cls: type, help: str) -> Any:
    """A dataclass field holding a nested section."""
    return dataclasses.field(default_factory=cls, metadata={"section": cls, "help": help})


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def field_param(f: dataclasses.Field) -> Param:
    """The :class:`Param` of a section field, named after the field."""
    return dataclasses.replace(f.metadata["param"], name=f.name)


def section_params(cls: type) -> list[Param]:
    """The parameters of a section (its non-section fields), for forms and docs."""
    return [field_param(f) for f in dataclasses.fields(cls) if "param" in f.metadata]


def section_from_dict(cls: type[T], data: Any, path: str) -> T:
    """Build a section from a JSON object, strictly.

    Args:
        cls: The section dataclass.
        data: The parsed JSON value (must be an object).
        path: The spec path of ``data`` for messages.

    Raises:
        SpecError: On an unknown key or a bad value, naming its path.

    """
    if not isinstance(data, Mapping):
        raise SpecError(path, f"must be an object (got {type(data).__name__})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key in sorted(data):
        sub = f"{path}.{clip(key)}" if path else clip(key)
        if key not in fields:
            raise SpecError(sub, f"unknown key {brief(key)} (known: "
                            f"{', '.join(sorted(fields))})")
        values[key] = _field_from_json(fields[key], data[key], sub)
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(path)
    return obj


def _field_from_json(f: dataclasses.Field, value: Any, path: str) -> Any:
    if "section" in f.metadata:
        return section_from_dict(f.metadata["section"], value, path)
    if "param" in f.metadata:
        return field_param(f).validate(value, path)
    return value


def section_to_dict(obj: Any) -> dict[str, Any]:
    """The JSON-ready dict of a section (every field, nested sections included)."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = section_to_dict(value) if "section" in f.metadata else _copy(value)
    return out
