"""Parameter declarations shared by the spec sections and the block catalogue.

A :class:`Param` states a parameter's name, kind, default, allowed range and a
one-line help text. The same declaration validates spec files (naming the path
of a bad value) and generates the forms in the window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import SpecError, brief, clip

MAX_PENALTY = 1000.0  # the largest regularization weight or max-norm radius accepted
KINDS = ("int", "float", "bool", "choice", "str", "int_or_pair", "int_list", "padding", "json")


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    Attributes:
        name: Keras's own name for it where Keras has one.
        kind: One of ``KINDS``: ``int``, ``float``, ``bool``, ``choice`` (one of
            ``choices``), ``str``, ``int_or_pair`` (``3`` or ``[3, 5]``),
            ``int_list`` (a list of ints, e.g. a shape), ``padding`` (``valid``,
            ``same``, or an explicit P as int or pair), ``json`` (any JSON value).
        default: Value used when the spec leaves it out.
        help: One line shown as a tooltip and in ``--help`` texts.
        min: Smallest allowed value (numbers, and each entry of pairs/lists).
        max: Largest allowed value.
        choices: Allowed values for ``choice``.
        optional: ``None`` (JSON ``null``) is allowed and means "not set".

    """

    name: str
    kind: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    optional: bool = False

    def validate(self, value: Any, path: str) -> Any:
        """Return ``value`` checked and normalised (pairs as lists), or raise SpecError."""
        if value is None:
            if self.optional:
                return None
            raise SpecError(path, f"{self.name} must be set (got null)")
        check = _CHECKS[self.kind]
        return check(self, value, path)

    def describe(self) -> str:
        """A short human description of the allowed values."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        bounds = []
        if self.min is not None:
            bounds.append(f">= {_fmt(self.min)}")
        if self.max is not None:
            bounds.append(f"<= {_fmt(self.max)}")
        return f"{self.kind}" + (f" ({', '.join(bounds)})" if bounds else "")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _range(p: Param, x: float, path: str) -> None:
    if p.min is not None and x < p.min:
        raise SpecError(path, f"{p.name} must be >= {_fmt(p.min)} (got {x})")
    if p.max is not None and x > p.max:
        raise SpecError(path, f"{p.name} must be <= {_fmt(p.max)} (got {x})")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(p: Param, v: Any, path: str) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not _is_int(v):
        raise SpecError(path, f"{p.name} must be an integer (got {brief(v)})")
    _range(p, v, path)
    return v


def _float(p: Param, v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SpecError(path, f"{p.name} must be a finite number (got {brief(v)})")
    _range(p, v, path)
    return float(v)


def _bool(p: Param, v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise SpecError(path, f"{p.name} must be true or false (got {brief(v)})")
    return v


def _choice(p: Param, v: Any, path: str) -> Any:
    if v not in p.choices:
        allowed = ", ".join(str(c) for c in p.choices)
        raise SpecError(path, f"{p.name} must be one of {allowed} (got {brief(v)})")
    return v


def _str(p: Param, v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise SpecError(path, f"{p.name} must be a string (got {brief(v)})")
    return v


def _int_or_pair(p: Param, v: Any, path: str) -> int | list[int]:
    if isinstance(v, Sequence) and not isinstance(v, str):
        if len(v) != 2:
            raise SpecError(path, f"{p.name} must be an integer or a pair [h, w] (got {brief(v)})")
        return [_int(p, x, f"{path}[{i}]") for i, x in enumerate(v)]
    return _int(p, v, path)


def _int_list(p: Param, v: Any, path: str) -> list[int]:
    if not isinstance(v, Sequence) or isinstance(v, str) or len(v) == 0:
        raise SpecError(path, f"{p.name} must be a non-empty list of integers (got {brief(v)})")
    return [_int(p, x, f"{path}[{i}]") for i, x in enumerate(v)]


def _padding(p: Param, v: Any, path: str) -> str | int | list[int]:
    if isinstance(v, str):
        if v not in ("valid", "same"):
            raise SpecError(path, f"{p.name} must be valid, same, or a number P (got {brief(v)})")
        return v
    return _int_or_pair(Param(p.name, "int_or_pair", 0, p.help, min=0, max=p.max), v, path)


def _json(p: Param, v: Any, path: str) -> Any:
    return v


_CHECKS = {
    "int": _int,
    "float": _float,
    "bool": _bool,
    "choice": _choice,
    "str": _str,
    "int_or_pair": _int_or_pair,
    "int_list": _int_list,
    "padding": _padding,
    "json": _json,
}


def validate_params(
    declared: Sequence[Param], given: Mapping[str, Any], path: str, what: str
) -> dict[str, Any]:
    """Check ``given`` against ``declared``; return the given params, normalised.

    Unknown names are errors that list the known ones; missing names are left
    out (callers fill defaults with :func:`with_defaults`).

    Args:
        declared: The parameter declarations.
        given: The values from the spec.
        path: Spec path of the params object, for messages.
        what: Name of the owner for messages (``Conv2D``).

    Raises:
        SpecError: On the first problem, naming its path.

    """
    if not isinstance(given, Mapping):
        raise SpecError(path, f"params must be an object (got {brief(given)})")
    by_name = {p.name: p for p in declared}
    out = {}
    for key in sorted(given):
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise SpecError(f"{path}.{clip(key)}", f"{what} has no parameter {brief(key)} "
                            f"(known: {known})")
        out[key] = by_name[key].validate(given[key], f"{path}.{key}")
    return out


def with_defaults(declared: Sequence[Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``given`` completed with the declared defaults."""
    out = {p.name: p.default for p in declared}
    out.update(given)
    return out
