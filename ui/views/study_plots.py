"""The Studies view's two plots: parallel coordinates of the trials and parameter importance.

Both draw from the study summary (``cnnlab study show --json``): trials with
``params`` and ``value``, and ``importance`` by parameter path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg

from cnnlab.ui.views.plots import make_plot

BEST_COLOR = "#d62728"
TRIAL_COLOR = (31, 119, 180)
BAR_COLOR = "#1f77b4"


def axis_positions(values: Sequence[object]) -> tuple[list[float], list[tuple[float, str]]]:
    """Place one parameter's values on a 0..1 axis; return positions and a few tick labels.

    Numbers spread linearly, or on a log scale when they are positive and span
    more than two decades (learning rates); anything else is a category, in
    sorted order, evenly spaced.
    """
    numbers = [v for v in values if _is_number(v)]
    if values and len(numbers) == len(values):
        x = np.asarray(numbers, dtype=float)
        log = bool(np.all(x > 0) and x.max() / x.min() > 100)
        scaled = np.log10(x) if log else x
        lo, hi = float(scaled.min()), float(scaled.max())
        span = (hi - lo) or 1.0
        pos = [(s - lo) / span for s in scaled]
        ticks = [(0.0, f"{x.min():.3g}"), (1.0, f"{x.max():.3g}")] if hi > lo else \
            [(0.0, f"{x.min():.3g}")]
        return pos, ticks
    names = sorted({str(v) for v in values})
    step = 1.0 / max(1, len(names) - 1)
    where = {name: i * step for i, name in enumerate(names)}
    return [where[str(v)] for v in values], [(where[n], n) for n in names]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(float(value))


class ParallelCoordinates(pg.GraphicsLayoutWidget):
    """One vertical axis per parameter and one for the objective; one line per trial.

    Lines are drawn only for trials with a value; the best trial is red and on top.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.plot = self.addPlot(title="Trials (parallel coordinates)")
        self.plot.hideAxis("left")
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.lines: list[pg.PlotDataItem] = []
        self.labels: list[pg.TextItem] = []

    def set_trials(self, trials: Sequence[Mapping], best: int | None, objective: str) -> None:
        """Draw the trials that have a value (``best`` is the best trial's number)."""
        self.plot.clear()
        self.lines, self.labels = [], []
        done = [t for t in trials if t.get("value") is not None]
        names = sorted({k for t in done for k in t.get("params", {})})
        if not done or not names:
            return
        columns = [[t["params"].get(n) for t in done] for n in names]
        columns.append([t["value"] for t in done])
        axes = [*names, objective]
        positions = []
        for i, column in enumerate(columns):
            pos, ticks = axis_positions(column)
            positions.append(pos)
            self._axis(i, axes[i], ticks)
        order = sorted(range(len(done)), key=lambda k: done[k]["number"] == best)
        for k in order:
            is_best = done[k]["number"] == best
            pen = pg.mkPen(BEST_COLOR, width=3) if is_best else pg.mkPen((*TRIAL_COLOR, 140),
                                                                          width=1.5)
            line = self.plot.plot(list(range(len(axes))), [p[k] for p in positions], pen=pen,
                                  symbol="o", symbolSize=5, symbolBrush=pen.color(), symbolPen=None)
            self.lines.append(line)
        self.plot.setXRange(-0.3, len(axes) - 0.7, padding=0)
        self.plot.setYRange(-0.15, 1.1, padding=0)
        self.plot.getAxis("bottom").setTicks([[(i, short_name(a)) for i, a in enumerate(axes)]])

    def _axis(self, i: int, name: str, ticks: list[tuple[float, str]]) -> None:
        self.plot.addItem(pg.InfiniteLine(pos=i, angle=90, pen=pg.mkPen("#999", width=1)))
        for y, text in ticks:
            label = pg.TextItem(text, color="#333", anchor=(0, 0.5))
            label.setPos(i + 0.03, y)
            self.plot.addItem(label)
            self.labels.append(label)


def short_name(path: str) -> str:
    """A parameter's short name for axes and columns.

    ``conv1.filters`` for ``model.nodes[conv1].params.filters``,
    ``optimizer.learning_rate`` for ``training.optimizer.learning_rate``.
    """
    node = re.fullmatch(r"model\.nodes\[([^\]]+)\]\.params\.(.+)", path)
    if node:
        return f"{node.group(1)}.{node.group(2)}"
    parts = path.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else path


class ImportanceBars:
    """A horizontal bar per parameter: its fANOVA importance (they sum to 1)."""

    def __init__(self) -> None:
        self.widget = make_plot("Parameter importance", "", "importance")
        self.widget.getPlotItem().legend.hide() if self.widget.getPlotItem().legend else None
        self.widget.setMouseEnabled(False, False)
        self.bars: pg.BarGraphItem | None = None

    def set_importance(self, importance: Mapping[str, float], note: str = "") -> None:
        """Draw ``importance`` (largest at the top); with none, the title says why (``note``)."""
        plot = self.widget.getPlotItem()
        plot.clear()
        self.bars = None
        items = sorted(importance.items(), key=lambda kv: kv[1])
        if not items:
            plot.setTitle(f"Importance: {note or 'after two finished trials'}"[:70])
            return
        plot.setTitle("Parameter importance")
        self.bars = pg.BarGraphItem(x0=0, y=list(range(len(items))), height=0.6,
                                    width=[float(v) for _, v in items], brush=BAR_COLOR)
        plot.addItem(self.bars)
        plot.getAxis("left").setTicks([[(i, short_name(k)) for i, (k, _) in enumerate(items)]])
        plot.setXRange(0, max(1e-9, max(float(v) for _, v in items)) * 1.1)
        plot.setYRange(-0.6, len(items) - 0.4)
