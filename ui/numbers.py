"""Number and shape formatting shared by the canvas and the tables."""

from __future__ import annotations

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
