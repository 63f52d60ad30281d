"""Bounded JSON: parse an experiment file and check its values before anything uses them.

Python's ``json`` raises ``RecursionError`` on deeply nested brackets and
``ValueError`` on integers of more than 4,300 digits, and it accepts ``NaN``
and ``Infinity``. Here each of these becomes a :class:`SpecError` with one
readable line; :func:`check_values` walks a parsed value (iteratively) and
names the path of the first number or nesting the lab cannot use.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnlab.errors import SpecError, brief

MAX_FILE_BYTES = 64 * 2**20
MAX_NESTING = 64
MAX_INT = 2**63 - 1
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300
_LONG_NUMBER = re.compile(r"-?\d{" + str(_MAX_DIGITS + 1) + ",}")


def read_text(p: Path) -> str:
    """The text of an experiment file: a regular UTF-8 file of at most 64 MiB.

    Raises:
        SpecError: When it is missing, not a regular file, too large or unreadable.

    """
    try:
        if not p.is_file():
            raise SpecError("", f"{p}: no such file" if not p.exists()
                            else f"{p}: not a regular file")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError("", f"{p}: {size:,} bytes is more than an experiment file may "
                            f"hold ({MAX_FILE_BYTES:,})")
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("", f"{p}: cannot read it ({exc.__class__.__name__})") from None


def parse(text: str, source: Path | str) -> Any:
    """Parse JSON text, mapping every way ``json`` can fail to a :class:`SpecError`.

    ``NaN`` and ``Infinity`` parse to floats here; :func:`check_values` then
    refuses them with the path where they stand.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError("", f"{source}: not valid JSON (line {exc.lineno}, column "
                        f"{exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise SpecError("", f"{source}: brackets nest too deeply to read (an experiment "
                        f"file nests at most {MAX_NESTING} levels)") from None
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        raise SpecError("", f"{source}: {_long_number(text)}") from None


def _long_number(text: str) -> str:
    match = _LONG_NUMBER.search(text)
    if match is None:
        return "a number is too large to read"
    line = text.count("\n", 0, match.start()) + 1
    return f"a number on line {line} has {len(match.group().lstrip('-')):,} digits; " \
           f"numbers must be at most {MAX_INT:,}"


def check_values(value: Any, path: str = "") -> None:
    """Refuse NaN, infinities, huge integers and deep nesting anywhere in ``value``.

    Raises:
        SpecError: Naming the path of the first bad value.

    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_NESTING:
            raise SpecError(where, f"nests deeper than {MAX_NESTING} levels")
        if isinstance(item, Mapping):
            for key in reversed(list(item)):
                if not isinstance(key, str):
                    raise SpecError(where, f"keys must be strings (got {brief(key)})")
                stack.append((item[key], f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(item, (list, tuple)):
            for i in range(len(item) - 1, -1, -1):
                stack.append((item[i], f"{where}[{i}]", depth + 1))
        else:
            _check_number(item, where)


def _check_number(item: Any, where: str) -> None:
    if isinstance(item, float) and not math.isfinite(item):
        word = "NaN" if math.isnan(item) else "Infinity"
        raise SpecError(where, f"{word} is not a number an experiment can use; give a "
                        "finite number")
    if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
        digits = len(str(abs(item))) if abs(item).bit_length() < 14_000 else "thousands of"
        raise SpecError(where, f"a {digits}-digit integer is too large; numbers must be at "
                        f"most {MAX_INT:,}")
