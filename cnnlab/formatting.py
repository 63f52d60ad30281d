"""Number, shape and duration formatting shared by the canvas, the tables and the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence


def grouped(n: int) -> str:
    """``1234567`` -> ``1,234,567``."""
    return f"{n:,}"


def compact(n: float) -> str:
    """``1234567`` -> ``1.23M``; small numbers stay exact."""
    for size, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            value = n / size
            return f"{value:.3g}{unit}" if value < 1000 else f"{value:.0f}{unit}"
    return f"{n:g}" if isinstance(n, float) else str(n)


def shape_text(shape: Sequence[int] | None) -> str:
    """``(32, 32, 3)`` -> ``32×32×3``; unknown -> an en dash."""
    if not shape:
        return "–"
    return "×".join(str(s) for s in shape)


def field_text(rf: Sequence[int]) -> str:
    """A receptive field: ``11`` when square, ``11×7`` otherwise."""
    return str(rf[0]) if rf[0] == rf[1] else f"{rf[0]}×{rf[1]}"


def format_duration(seconds: float, unknown: str = "?") -> str:
    """``75`` -> ``"1:15"``; ``3700`` -> ``"1:01:40"``; an unknown time -> ``unknown``."""
    if not math.isfinite(seconds) or seconds < 0:
        return unknown
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
