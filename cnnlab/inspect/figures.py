"""Labelled figures that stand on their own (matplotlib, headless Agg).

Every figure has a title (where from, which layer, method and class), labelled
axes (class names, filter and channel indices) and a colour bar wherever
colour encodes a number. A figure is a ``matplotlib.figure.Figure`` with its
own Agg canvas: pyplot's global state is never touched, so figures can be
made in any thread without a display. matplotlib is imported lazily.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DPI = 110
TITLE_SIZE = 11
MAX_TICKS = 16
MAX_CELL_TEXTS = 40  # classes; beyond this the counts would not be readable


def new_figure(width: float, height: float):
    """A blank figure (inches) on its own Agg canvas, laid out by matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG data."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def save_png(fig, path: str | Path) -> Path:
    """Write the figure as a PNG atomically (temp file + rename); return the path."""
    from cnnlab.atomic import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, png_bytes(fig))
    return path


def title(fig, text: str) -> None:
    """Set the figure's title (several lines allowed)."""
    fig.suptitle(text, fontsize=TITLE_SIZE)


def show_image(ax, image: np.ndarray, caption: str) -> None:
    """Draw a model input (grey or RGB, stretched to 0..1 when outside) without axes."""
    from cnnlab.inspect.scaling import display_image

    img = display_image(image)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(caption, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def show_map(fig, ax, values: np.ndarray, caption: str, cbar_label: str | None,
             cmap: str = "jet", vmin: float | None = None, vmax: float | None = None,
             under=None):
    """Draw a scalar map with a colour bar (none when ``cbar_label`` is None).

    ``under`` is an image drawn beneath a half-transparent map (an overlay).
    """
    if under is not None:
        show_image(ax, under, caption)
        mappable = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.45,
                             interpolation="bilinear")
    else:
        mappable = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(caption, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if cbar_label is None:
        return None
    bar = fig.colorbar(mappable, ax=ax, shrink=0.8)
    bar.set_label(cbar_label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return bar


def symmetric(values: np.ndarray) -> tuple[float, float]:
    """A colour range centred on zero that holds every value."""
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    peak = peak or 1.0
    return -peak, peak


def assemble(tiles: np.ndarray, cols: int, pad: int = 1) -> np.ndarray:
    """Tiles ``(n, h, w[, 3])`` as one grid image; the gaps are NaN (drawn white)."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape[:3]
    rows = max(1, math.ceil(n / cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *tiles.shape[3:]), np.nan,
                  np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tiles[i]
    if out.ndim == 3:  # RGB: white gaps
        out = np.where(np.isnan(out), 1.0, out)
    return out


def _ticks(count: int) -> list[int]:
    every = max(1, math.ceil(count / MAX_TICKS))
    return [i for i in range(count) if i % every == 0]


def label_grid(ax, tiles_shape: tuple[int, ...], cols: int, xlabel: str, ylabel: str,
               row_step: int, pad: int = 1) -> None:
    """Tick every tile column (``0..cols-1``) and row (``row * row_step``) at its centre."""
    n, h, w = tiles_shape[:3]
    rows = max(1, math.ceil(n / cols))
    xs = _ticks(cols)
    ys = _ticks(rows)
    ax.set_xticks([c * (w + pad) + (w - 1) / 2 for c in xs], [str(c) for c in xs])
    ax.set_yticks([r * (h + pad) + (h - 1) / 2 for r in ys], [str(r * row_step) for r in ys])
    ax.tick_params(labelsize=8, length=0)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    for spine in ax.spines.values():
        spine.set_visible(False)


def default_columns(n: int) -> int:
    """Tiles per row: a power of two near the square root, so rows start at round indices."""
    if n <= 4:
        return max(1, n)
    return 2 ** math.ceil(math.log2(math.sqrt(n)))


def grid_figure(tiles: np.ndarray, heading: str, *, cols: int | None = None,
                xlabel: str = "", ylabel: str = "", row_step: int | None = None,
                cbar_label: str | None = None, cmap: str = "viridis",
                vrange: tuple[float, float] | None = None, note: str = ""):
    """A grid of tiles with index ticks and, for scalar tiles, one colour bar.

    Args:
        tiles: ``(n, h, w)`` values (one colour scale) or ``(n, h, w, 3)`` RGB in 0..1.
        heading: The figure title.
        cols: Tiles per row (default: :func:`default_columns`).
        xlabel: Label of the column ticks.
        ylabel: Label of the row ticks.
        row_step: Index step between rows (default ``cols``: tile = row + column).
        cbar_label: What the colour means (scalar tiles).
        cmap: Colour map of scalar tiles.
        vrange: Colour range (default: the tiles' min..max).
        note: A line under the grid.

    Returns:
        The figure.

    """
    n = len(tiles)
    cols = cols or default_columns(n)
    image = assemble(tiles, cols)
    if n <= cols:  # one row: the column is the index
        xlabel = xlabel.split(" = ")[0]
    rows_px, cols_px = image.shape[:2]
    width = min(14.0, max(7.5, 0.35 * cols + 2.0))
    height = min(12.0, max(3.2, width * rows_px / max(cols_px, 1) * 0.85 + 1.0))
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    title(fig, heading)
    if image.ndim == 2:
        import matplotlib as mpl

        cm = mpl.colormaps[cmap].with_extremes(bad="white")
        lo, hi = vrange or (float(np.nanmin(image)), float(np.nanmax(image)))
        mappable = ax.imshow(image, cmap=cm, vmin=lo, vmax=hi if hi > lo else lo + 1,
                             interpolation="nearest")
        bar = fig.colorbar(mappable, ax=ax, shrink=min(0.8, 5.0 / height))
        bar.set_label(cbar_label or "value", fontsize=9)
        bar.ax.tick_params(labelsize=8)
    else:
        ax.imshow(image, interpolation="nearest")
    label_grid(ax, tiles.shape, cols, xlabel, ylabel, row_step or cols)
    if note:
        fig.supxlabel(note, fontsize=8)
    return fig


def confusion_figure(cm: np.ndarray, names: Sequence[str], heading: str):
    """The confusion matrix: class names on both axes, the count in every cell.

    Cells are coloured by the fraction of their true class (row), with a colour bar.
    """
    cm = np.asarray(cm, dtype=np.int64)
    k = len(cm)
    side = min(16.0, max(4.8, 0.42 * k + 2.6))
    fig = new_figure(side + 1.2, side)
    ax = fig.add_subplot()
    title(fig, heading)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    mappable = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    bar = fig.colorbar(mappable, ax=ax, shrink=0.8)
    bar.set_label("fraction of the true class", fontsize=9)
    size = max(5.0, min(11.0, 260 / max(k, 1) / 2.2))
    ax.set_xticks(range(k), list(names), rotation=45 if k > 4 else 0, ha="right" if k > 4
                  else "center", fontsize=size)
    ax.set_yticks(range(k), list(names), fontsize=size)
    ax.set_xlabel("predicted class", fontsize=9)
    ax.set_ylabel("true class", fontsize=9)
    if k <= MAX_CELL_TEXTS:
        for (i, j), count in np.ndenumerate(cm):
            ax.text(j, i, str(count), ha="center", va="center", fontsize=size,
                    color="white" if rows[i, j] > 0.5 else "black")
    return fig


def curve(ax, values: np.ndarray, caption: str, ylabel: str = "objective") -> None:
    """The objective over the steps of a gradient ascent."""
    ax.plot(np.arange(1, len(values) + 1), values, color="#c0392b", linewidth=1.5)
    ax.set_title(caption, fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
