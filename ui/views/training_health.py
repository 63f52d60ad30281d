"""The Training view's health list, and the wiring that puts its warnings on the canvas.

The list shows the findings of the latest checked epoch (layer, what, what
to try; the full sentence in the tooltip), live from
:class:`~cnnlab.train.events.TrainingHealth` events. :func:`connect_badges`
sends the same findings to the canvas, where each block named shows a badge.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnlab.train import HEALTH_TITLES, HealthWarning, TrainingHealth

COLUMNS = ("Layer", "What", "What to try")
WHOLE_RUN = "(whole run)"  # the layer column of a finding about the run (a stalled loss)
IDLE_TEXT = "Training health: checked after every epoch."
# How each kind's measured value reads in the "What" column.
VALUE_TEXT = {"dead": "{:.0%} dead", "vanishing": "rel. gradient {:.1e}",
              "exploding": "gradient {:.3g}x weights", "large_updates": "{:.1%} per step",
              "stalled": "moved {:.2%}"}


def try_text(w: HealthWarning) -> str:
    """The "What to try" column: the remedy without its leading "try"."""
    text = w.remedy[4:] if w.remedy.startswith("try ") else w.remedy
    return text[:1].upper() + text[1:]


def what_text(w: HealthWarning) -> str:
    """The "What" column: the finding's name and its measured value."""
    title = HEALTH_TITLES.get(w.kind, w.kind)
    pattern = VALUE_TEXT.get(w.kind)
    if pattern is None or w.value != w.value or w.value in (float("inf"), float("-inf")):
        return title
    return f"{title} ({pattern.format(w.value)})"


def by_layer(warnings: Sequence[HealthWarning]) -> dict[str, list[HealthWarning]]:
    """The warnings grouped by the layer they name (a whole-run finding under "")."""
    out: dict[str, list[HealthWarning]] = {}
    for w in warnings:
        out.setdefault(w.layer, []).append(w)
    return out


class HealthList(QWidget):
    """A heading line and one row per finding of the latest checked epoch.

    Signals:
        changed(warnings, model): the findings now shown (a tuple of
            :class:`HealthWarning`) and the model spec of the run they are about
            (None: a resumed run, taken to be the graph on the canvas).
    """

    changed = Signal(object, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = None
        self.heading = QLabel(IDLE_TEXT)
        self.heading.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("health_list")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(1, 170)
        header.sectionResized.connect(lambda *_: self._fit_rows())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.tree, 1)
        self.warnings: tuple[HealthWarning, ...] = ()

    def start(self, model=None) -> None:
        """A new run of ``model`` (a model spec; None when resuming): no findings yet."""
        self.model = model
        self.warnings = ()
        self.tree.clear()
        self.heading.setText(IDLE_TEXT)
        self.heading.setStyleSheet("")
        self.changed.emit(self.warnings, self.model)

    def show_report(self, report: TrainingHealth) -> None:
        """Show one epoch's findings (they replace the previous epoch's)."""
        self.warnings = tuple(report.warnings)
        self.tree.clear()
        for w in report.warnings:
            row = QTreeWidgetItem([w.layer or WHOLE_RUN, what_text(w), try_text(w)])
            tip = f"{w.message}.\n{w.remedy[:1].upper()}{w.remedy[1:]}."
            for column in range(len(COLUMNS)):
                row.setToolTip(column, tip)
            self.tree.addTopLevelItem(row)
        self._fit_rows()
        epoch = report.epoch + 1
        if report.warnings:
            n = len(report.warnings)
            self.heading.setText(f"Training health, epoch {epoch}: {n} warning"
                                 f"{'s' if n != 1 else ''} (hover a row for details).")
            self.heading.setStyleSheet("color: #8a4b00;")
        else:
            self.heading.setText(f"Training health, epoch {epoch}: no warnings.")
            self.heading.setStyleSheet("color: #1b5e20;")
        self.changed.emit(self.warnings, self.model)


    def _fit_rows(self) -> None:
        """Make each row as tall as its wrapped text (Qt's rows do not grow by themselves)."""
        metrics = QFontMetrics(self.tree.font())
        flags = int(Qt.TextFlag.TextWordWrap)
        for i in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(i)
            height = max(metrics.boundingRect(
                QRect(0, 0, max(self.tree.columnWidth(c) - 10, 20), 10_000), flags,
                row.text(c)).height() for c in range(len(COLUMNS)))
            row.setSizeHint(0, QSize(self.tree.columnWidth(0), height + 4))


def connect_badges(training, scene) -> None:
    """Show the Training view's health findings as badges on the canvas ``scene``.

    Args:
        training: The :class:`~cnnlab.ui.views.training_view.TrainingView`.
        scene: The window's :class:`~cnnlab.ui.canvas.scene.GraphScene`.
    """
    def show(warnings, model) -> None:
        try:
            scene.set_health(by_layer(warnings), model)
        except RuntimeError:  # the window (and its canvas) is being deleted
            return

    training.health.changed.connect(show)
