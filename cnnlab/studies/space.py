"""Search spaces: ``loguniform(a,b)``, ``uniform(a,b)``, ``int(a,b)``, ``choice(a,b,...)``.

A small parser, never ``eval``: every argument is a JSON literal (a number, a
string, true/false/null) or a bare word, which is taken as a string
(``choice(before,after)``). A :class:`Space` suggests its value through an
Optuna trial, lists the values the study checks against the spec when it is
made (the bounds, or every choice) and, for the grid sampler, its grid.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import CnnlabError, brief

KINDS = ("loguniform", "uniform", "int", "choice")
MAX_GRID = 1000  # the most values an int(a,b) space may have on a grid
_CALL = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$", re.DOTALL)
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class SpaceError(CnnlabError):
    """A search space cannot be parsed or does not make sense."""


@dataclass(frozen=True)
class Space:
    """One parameter's search space.

    Attributes:
        kind: ``loguniform``, ``uniform``, ``int`` or ``choice``.
        args: The bounds (low, high) or the choices, as parsed.
        text: The space as written (what the study file stores).
    """

    kind: str
    args: tuple[Any, ...]
    text: str

    def suggest(self, trial: Any, name: str) -> Any:
        """The trial's value for this space (``trial.suggest_*``)."""
        if self.kind == "choice":
            return trial.suggest_categorical(name, list(self.args))
        if self.kind == "int":
            return trial.suggest_int(name, self.args[0], self.args[1])
        return trial.suggest_float(name, self.args[0], self.args[1],
                                   log=self.kind == "loguniform")

    def probe_values(self) -> list[Any]:
        """The values a study checks against the spec: both bounds, or every choice."""
        return list(self.args)

    def grid(self) -> list[Any]:
        """The values of this space on a grid.

        Raises:
            SpaceError: For a continuous space, or an int range over MAX_GRID values.
        """
        if self.kind == "choice":
            return list(self.args)
        if self.kind == "int":
            low, high = self.args
            if high - low + 1 > MAX_GRID:
                raise SpaceError(f"{self.text}: a grid takes at most {MAX_GRID} integers")
            return list(range(low, high + 1))
        raise SpaceError(f"the grid sampler needs choice(...) or int(a,b), not {self.text}")


def parse_space(text: str) -> Space:
    """Parse a search space.

    Args:
        text: ``loguniform(1e-4,1e-1)``, ``uniform(0,0.5)``, ``int(8,64)`` or
            ``choice(a,b,...)``.

    Returns:
        The space.

    Raises:
        SpaceError: On anything else, in one line naming the problem.
    """
    if not isinstance(text, str):
        raise SpaceError(f"a search space must be text, not {brief(text)}")
    match = _CALL.match(text)
    if not match or match.group(1) not in KINDS:
        raise SpaceError(f"bad search space {brief(text)}: write loguniform(a,b), "
                         f"uniform(a,b), int(a,b) or choice(a,b,...)")
    kind, inner = match.groups()
    args = tuple(_literal(part, text) for part in _split(inner, text))
    _check(kind, args, text)
    if kind in ("loguniform", "uniform"):
        args = tuple(float(a) for a in args)
    return Space(kind, args, text.strip())


def _split(inner: str, text: str) -> list[str]:
    """Split the arguments at commas outside quotes."""
    parts, current, quote = [], "", False
    for char in inner:
        if char == '"':
            quote = not quote
        if char == "," and not quote:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if quote:
        raise SpaceError(f"bad search space {brief(text)}: an unclosed quote")
    return [p.strip() for p in parts]


def _literal(part: str, text: str) -> Any:
    if not part:
        raise SpaceError(f"bad search space {brief(text)}: an empty argument")
    try:
        value = json.loads(part)
    except ValueError:
        if _WORD.match(part):
            return part  # a bare word is a string: choice(before,after)
        raise SpaceError(f"bad search space {brief(text)}: {brief(part)} is not a "
                         f"number, a word or a quoted string") from None
    if isinstance(value, (dict, list)):
        raise SpaceError(f"bad search space {brief(text)}: {brief(part)} is not a "
                         f"number, a word or a quoted string")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpaceError(f"bad search space {brief(text)}: {part} is not finite")
    return value


def _check(kind: str, args: tuple[Any, ...], text: str) -> None:
    if kind == "choice":
        if not args:
            raise SpaceError(f"bad search space {brief(text)}: choice needs a value")
        if len(set(map(json.dumps, args))) != len(args):
            raise SpaceError(f"bad search space {brief(text)}: a choice is repeated")
        return
    if len(args) != 2:
        raise SpaceError(f"bad search space {brief(text)}: {kind} takes two bounds")
    numbers = all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
    if not numbers or (kind == "int" and not all(isinstance(a, int) for a in args)):
        what = "integers" if kind == "int" else "numbers"
        raise SpaceError(f"bad search space {brief(text)}: the bounds must be {what}")
    low, high = args
    if low >= high:
        raise SpaceError(f"bad search space {brief(text)}: the low bound must be below "
                         f"the high one")
    if kind == "loguniform" and low <= 0:
        raise SpaceError(f"bad search space {brief(text)}: loguniform needs bounds above 0")
