"""The Training view's plots: loss, accuracy and learning-rate curves, drawn from buffers.

A mixin of :class:`~cnnlab.ui.views.training_view.TrainingView`: it builds the
plots and the health list, and redraws them from the view's
:class:`~cnnlab.train.curves.CurveBuffers` when they changed (the view's timer).
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

from cnnlab import format_duration
from cnnlab.train import eta_seconds, format_values
from cnnlab.ui.views.plots import Crosshair, curve, legend_in_title, make_plot, set_finite
from cnnlab.ui.views.training_health import HealthList


class TrainingPlots:
    """Plots and drawing of the Training view (needs ``buffers``, ``worker``, ``readout``)."""

    def _build_plots(self) -> QWidget:
        self.loss_plot = make_plot("Loss", "loss")
        self.acc_plot = make_plot("Accuracy", "accuracy")
        self.lr_plot = make_plot("Learning rate", "lr")
        self.acc_plot.setXLink(self.loss_plot)  # the rate plot is wider: its own range
        self.curves = {
            "batch": curve(self.loss_plot, "batch loss (smoothed)", "#9ecae1", 1.5),
            "loss": curve(self.loss_plot, "train loss", "#1f77b4", symbol="o"),
            "val_loss": curve(self.loss_plot, "val loss", "#ff7f0e", symbol="o"),
            "accuracy": curve(self.acc_plot, "train acc", "#1f77b4", symbol="o"),
            "val_accuracy": curve(self.acc_plot, "val acc", "#ff7f0e", symbol="o"),
            "lr": curve(self.lr_plot, "learning rate", "#2ca02c"),
        }
        for plot, title in ((self.loss_plot, "Loss"), (self.acc_plot, "Accuracy"),
                            (self.lr_plot, "Learning rate")):
            legend_in_title(plot, title)  # a legend box would cover the curves
            plot.on_reset = self._fit_views
        self.crosshairs = [Crosshair(p, self._readout_at, self.readout.setText)
                           for p in (self.loss_plot, self.acc_plot, self.lr_plot)]
        self.health = HealthList()  # the findings of the training-health check, live
        top, bottom = QSplitter(), QSplitter()
        top.addWidget(self.loss_plot)
        top.addWidget(self.acc_plot)
        bottom.addWidget(self.lr_plot)
        bottom.addWidget(self.health)
        split = QSplitter(Qt.Orientation.Vertical)  # the rate below: all three fit at 1280 px
        split.addWidget(top)
        split.addWidget(bottom)
        for s in (top, bottom, split):
            s.setChildrenCollapsible(False)
        split.setSizes([300, 170])
        bottom.setSizes([440, 440])  # the health list needs room for what to try
        return split

    def _fit_views(self) -> None:
        """The fitted view (the reset): the planned epochs across, every value in sight."""
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.user_moved = False
            plot.reset_button.hide()
            plot.getPlotItem().enableAutoRange(y=True)
        if self._epochs:
            for plot in (self.loss_plot, self.lr_plot):
                plot.setXRange(0, max(self._epochs, 1), padding=0.02)
        self._fit_lr_axis(self.buffers.lr)

    def _readout_at(self, x: float) -> str:
        for c in self.crosshairs:
            c.line.setPos(x)
            c.line.setVisible(True)
        return format_values(self.buffers.values_at(x))

    # -- drawing -----------------------------------------------------------------

    def redraw(self) -> None:
        """Redraw the curves from the buffers when they changed (timer slot)."""
        if self.worker.running:
            elapsed = self.elapsed()
            eta = eta_seconds(elapsed, self._run_fraction)
            self.time_label.setText(f"Elapsed {format_duration(elapsed, '--')}   "
                                    f"ETA {format_duration(eta, '--')}")
        b = self.buffers
        if not b.dirty:
            return
        b.dirty = False
        drawn = self._drawn
        if len(b.batch_x) != drawn.get("batches"):
            set_finite(self.curves["batch"], b.batch_x, b.batch_smooth)
        if self._rate_key() != drawn.get("rates"):
            self._draw_lr(b.lr_x, b.lr)
            b.dirty = self._rate_key() != drawn.get("rates")  # skipped: a later frame draws it
        if len(b.epoch_x) != drawn.get("epochs"):
            for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
                set_finite(self.curves[key], b.epoch_x, b.epoch[key])
        drawn.update(batches=len(b.batch_x), epochs=len(b.epoch_x))

    def _rate_key(self) -> tuple:
        """What the drawn rate line must match: its length and its last point."""
        b = self.buffers
        return len(b.lr_x), b.lr_x[-1:], b.lr[-1:]

    def _draw_lr(self, x: list[float], rates: list[float]) -> None:
        """Redraw the learning rate when it changed, else once a second (cheap to watch).

        A skipped frame is drawn by a later one: only a drawn line counts as drawn,
        and the end of the run draws the last stretch at once.
        """
        last = rates[-1] if rates else None
        now = time.monotonic()
        if last == self._drawn.get("lr") and now - self._drawn.get("lr_at", 0.0) < 1.0:
            return
        set_finite(self.curves["lr"], x, rates)
        self._fit_lr_axis(rates)
        self._drawn.update(lr=last, lr_at=now, rates=self._rate_key())

    def _fit_lr_axis(self, rates: list[float]) -> None:
        """Start the learning-rate axis at 0: a constant rate is a line, not noise at 0."""
        finite = [r for r in rates if math.isfinite(r)]
        if finite and not self.lr_plot.user_moved:
            self.lr_plot.setYRange(0.0, max(finite) * 1.15 or 1e-3, padding=0)
