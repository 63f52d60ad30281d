"""The runs view: browse the run store, compare runs, manage, resume and branch them.

Runs are a tree: a branch (forked from another run's checkpoint) sits under
its parent, its "What changed" is the steer against the parent, and in the
curve overlay its curves continue the parent's from the fork epoch. The
table's context menu offers "Branch from this run…" (the steer dialog).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnlab.runs import RunStore
from cnnlab.ui.views.plots import PALETTE, curve, make_plot, set_finite
from cnnlab.ui.views.run_labels import RunLabels
from cnnlab.ui.views.run_tree import BranchActions, branch_cells, curve_points
from cnnlab.ui.views.runs_table import RunsTable
from cnnlab.ui.views.worker import error_text

METRICS = ("val_accuracy", "accuracy", "val_loss", "loss", "lr")


class RunsView(BranchActions, QWidget):
    """Table of runs, overlaid curves, accuracy-vs-cost scatter and spec diff.

    Args:
        store: The window's one run store (read-only where the workspace is).

    Signals:
        open_experiment: The Experiment of a run, to open in the editor.
        resume_requested: A run id to resume (connect it to a TrainingView).
        branch_requested: ``(Experiment, "RUN@EPOCH")``: train this branch
            (connect it to a TrainingView: ``run_training(..., fork=)``).

    """

    open_experiment = Signal(object)
    resume_requested = Signal(str)
    branch_requested = Signal(object, str)

    def __init__(self, store: RunStore, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        read_only = store.read_only
        self.records: dict[str, object] = {}
        self.labels = RunLabels(self.store)
        self._steers: dict[str, tuple[str, str]] = {}  # branch id -> its "What changed" cell
        self.steer_dialog = None
        self._build()
        self.refresh()
        notes = ["This workspace is read-only: runs can be viewed and exported, not changed."
                 ] if read_only else []
        if (notes or self.store.notes) and not self.message.text():
            self._show(" ".join([*notes, *self.store.notes]), False)

    # -- layout ------------------------------------------------------------------

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name, change, id, architecture or tag")
        self.filter_edit.textChanged.connect(lambda _t: self.refresh())
        bar = QHBoxLayout()  # the buttons; the filter has a row of its own (room to type)
        actions = (("Refresh", self.refresh), ("Rename...", self._ask_rename),
                   ("Tag...", self._ask_tag), ("Delete", self._ask_delete),
                   ("Resume", self.resume_selected), ("Open in editor", self.open_selected),
                   ("Export…", self.export_selected),
                   ("Make fully convolutional…", self.fully_conv_selected),
                   ("Report…", self.report_selected))
        self.buttons: dict[str, QPushButton] = {}
        for text, slot in actions:
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=slot: s())
            bar.addWidget(button)
            self.buttons[text] = button
        self.export_button = self.buttons["Export…"]
        self.export_button.setToolTip("Export the selected run's trained model (.keras, .h5, "
                                      "SavedModel or a Python script), verified")
        self.export_dialog = None
        self.fully_conv_dialog = None
        self.buttons["Report…"].setToolTip("Write the selected run's report: one HTML page "
                                           "with its network, recipe, curves, test results, "
                                           "confusion matrix and attribution maps")
        self.report = None
        self.table = RunsTable()
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self._build_compare())
        split.setSizes([300, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

    def _build_compare(self) -> QWidget:
        self.metric_box = QComboBox()
        self.metric_box.addItems(METRICS)
        self.metric_box.currentTextChanged.connect(lambda _t: self._plot_overlay())
        self.overlay_plot = make_plot("Selected runs", "val_accuracy")
        over = QWidget()
        lay = QVBoxLayout(over)
        lay.addWidget(self.metric_box)
        lay.addWidget(self.overlay_plot, 1)
        self.cost_box = QComboBox()
        self.cost_box.addItems(("params", "macs"))
        self.cost_box.currentTextChanged.connect(lambda _t: self._plot_scatter())
        self.scatter_plot = make_plot("Accuracy vs cost", "best val accuracy", "parameters")
        self.scatter_plot.setLogMode(x=True, y=False)
        self.scatter = pg.ScatterPlotItem(size=10, pen=None, hoverable=True,
                                          tip=self._scatter_tip)
        self.scatter.sigClicked.connect(self._scatter_clicked)
        self.scatter_plot.addItem(self.scatter)
        scat = QWidget()
        lay2 = QVBoxLayout(scat)
        lay2.addWidget(self.cost_box)
        lay2.addWidget(self.scatter_plot, 1)
        self.diff_text = QPlainTextEdit()
        self.diff_text.setReadOnly(True)
        self.diff_text.setPlaceholderText("Select two runs to see what differs in their specs.")
        self.tabs = QTabWidget()
        self.tabs.addTab(over, "Curves")
        self.tabs.addTab(scat, "Accuracy vs cost")
        self.tabs.addTab(self.diff_text, "Spec diff")
        return self.tabs

    # -- data --------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the runs from the store (keeps the selection)."""
        try:
            records = self.store.list_runs()
        except Exception as exc:  # noqa: BLE001
            self._show(f"Cannot read the runs: {error_text(exc)}", True)
            return
        self.labels.update(records)  # every run: a label compares with the run before
        text = self.filter_edit.text().strip()
        records = [r for r in records if not text or self._matches(r, text)]
        self.records = {r.id: r for r in records}
        self.table.fill(records, self.labels, branch_cells(self.store, records, self._steers))
        self._plot_scatter()
        self._selection_changed()

    def _matches(self, rec, text: str) -> bool:
        """The filter: the store's fields (id, name, label, tags), the change, the layers."""
        from cnnlab.runs import matches

        needle = text.casefold()
        words = (self.labels.text(rec.id), self.labels.architectures.get(rec.id, ""))
        return matches(rec, text) or any(needle in w.casefold() for w in words)

    def selected_ids(self) -> list[str]:
        """Return the selected run ids."""
        return self.table.selected_ids()

    def select(self, ids: list[str]) -> None:
        """Select runs by id (updates the comparison)."""
        self.table.select_ids(ids)
        self._selection_changed()

    def _selection_changed(self) -> None:
        self._plot_overlay()
        self._show_diff()
        self.export_button.setEnabled(self.exportable() is not None)
        self.buttons["Make fully convolutional…"].setEnabled(self.exportable() is not None)

    def exportable(self):
        """The selected run's record when exactly one run with a trained model is selected."""
        ids = self.selected_ids()
        rec = self.records.get(ids[0]) if len(ids) == 1 else None
        return rec if rec is not None and rec.model_path.is_file() else None

    def _plot_overlay(self) -> None:
        plot = self.overlay_plot
        plot.clear()
        metric = self.metric_box.currentText()
        plot.setLabel("left", metric)
        ids = self.selected_ids()
        self.overlay_items = []
        if not ids:
            return
        parents = {getattr(self.records.get(i), "parent", None) for i in ids} - {None}
        try:
            data = self.store.metrics_many([*ids, *(parents - set(ids))])
        except Exception as exc:  # noqa: BLE001
            self._show(f"Cannot read metrics: {error_text(exc)}", True)
            return
        for i, (run_id, name) in enumerate(zip(ids, self._legend(ids), strict=True)):
            x, values = curve_points(self.records.get(run_id), data, metric)
            item = curve(plot, name, PALETTE[i % len(PALETTE)], symbol="o")
            set_finite(item, x, values)
            self.overlay_items.append(item)

    def _legend(self, ids: list[str]) -> list[str]:
        """The runs' names in the overlay and the diff: a branch by its steer."""
        return [self._steers[i][0] if i in self._steers else name
                for i, name in zip(ids, self.labels.legend(ids), strict=True)]

    def _plot_scatter(self) -> None:
        key = self.cost_box.currentText()
        self.scatter_plot.setLabel("bottom", "parameters" if key == "params" else "MACs")
        spots = []
        for i, rec in enumerate(self.records.values()):
            cost = getattr(rec, key)
            acc = rec.best_val_accuracy
            if not cost or acc is None or not math.isfinite(acc):
                continue
            spots.append({"pos": (np.log10(cost), acc), "data": rec.id,
                          "brush": pg.mkBrush(PALETTE[i % len(PALETTE)])})
        self.scatter.setData(spots)
        self.scatter_points = [s["pos"] for s in spots]

    def _scatter_tip(self, x: float, y: float, data: object) -> str:
        rec = self.records.get(data)
        name = getattr(rec, "name", data)
        if rec is not None and self.labels.text(rec.id) != name:
            name = f"{name}: {self.labels.text(rec.id)}"
        return f"{name}\nbest val acc {y:.3f}\ncost {10 ** x:,.0f}"

    def _scatter_clicked(self, _item, points, *_args) -> None:
        if points:
            self.select([points[0].data()])

    def _show_diff(self) -> None:
        """The older selected run's spec -> the newer one's, headed by their labels."""
        ids = self.selected_ids()
        if len(ids) != 2:
            self.diff_text.setPlainText("")
            return
        ids.sort(key=lambda i: (getattr(self.records.get(i), "created_at", 0.0), i))
        try:
            lines = self.store.diff(ids[0], ids[1]).lines()
        except Exception as exc:  # noqa: BLE001
            self.diff_text.setPlainText(f"Cannot compare the specs: {error_text(exc)}")
            return
        a, b = self._legend(ids)
        head = f"{a}  ->  {b}\n"
        self.diff_text.setPlainText(head + ("\n".join(lines) if lines else "The specs are equal."))

    # -- actions -----------------------------------------------------------------

    def rename(self, run_id: str, name: str) -> bool:
        """Rename a run; show the problem on failure."""
        return self._apply(lambda: self.store.rename(run_id, name), "rename")

    def add_tags(self, run_id: str, tags: list[str]) -> bool:
        """Add tags to a run."""
        return self._apply(lambda: self.store.tag(run_id, tags), "tag")

    def delete(self, run_ids: list[str]) -> bool:
        """Delete runs (not running ones) with their folders."""
        return self._apply(lambda: [self.store.delete(i) for i in run_ids], "delete")

    def _apply(self, action, what: str) -> bool:
        try:
            action()
        except Exception as exc:  # noqa: BLE001
            self._show(f"Could not {what}: {error_text(exc)}", True)
            return False
        self._show("", False)
        self.refresh()
        return True

    def _one_selected(self) -> str | None:
        ids = self.selected_ids()
        if len(ids) != 1:
            self._show("Select one run first.", True)
            return None
        return ids[0]

    def _ask_rename(self) -> None:
        run_id = self._one_selected()
        if run_id:
            old = getattr(self.records.get(run_id), "name", "")
            name, ok = QInputDialog.getText(self, "Rename run", "New name:", text=old)
            if ok:
                self.rename(run_id, name)

    def _ask_tag(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self._show("Select runs first.", True)
            return
        text, ok = QInputDialog.getText(self, "Tag runs", "Tags (comma separated):")
        tags = [t.strip() for t in text.split(",") if t.strip()]
        if ok and tags:
            for run_id in ids:
                self.add_tags(run_id, tags)

    def _ask_delete(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self._show("Select runs first.", True)
            return
        answer = QMessageBox.question(self, "Delete runs",
                                      f"Delete {len(ids)} run(s) and their folders?")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(ids)

    def resume_selected(self) -> None:
        """Ask to resume the selected interrupted (or stopped) run."""
        run_id = self._one_selected()
        if not run_id:
            return
        status = getattr(self.records.get(run_id), "status", "")
        if status not in ("interrupted", "stopped"):
            self._show(f"Only an interrupted or stopped run can be resumed (this one is "
                       f"{status}).", True)
            return
        self.resume_requested.emit(run_id)

    def open_selected(self) -> None:
        """Emit the selected run's experiment for the editor."""
        run_id = self._one_selected()
        if not run_id:
            return
        try:
            from cnnlab.spec import experiment_from_dict

            experiment = experiment_from_dict(self.store.spec(run_id))
        except Exception as exc:  # noqa: BLE001
            self._show(f"Cannot open the run's spec: {error_text(exc)}", True)
            return
        self.open_experiment.emit(experiment)

    def export_selected(self):
        """Open the export dialog for the selected run; return it (None when none fits)."""
        rec = self.exportable()
        if rec is None:
            self._show("Select one run with a trained model to export.", True)
            return None
        from cnnlab.ui.views.export_dialog import ExportDialog

        if self.export_dialog is not None and self.export_dialog.busy():
            self.export_dialog.raise_()
            return self.export_dialog
        if self.export_dialog is not None:
            self.export_dialog.deleteLater()
        self.export_dialog = ExportDialog(rec.run_dir, rec.name, self)
        self.export_dialog.open()
        return self.export_dialog

    def fully_conv_selected(self):
        """Open the FC-to-convolution dialog for the selected run (None when none fits)."""
        rec = self.exportable()
        if rec is None:
            self._show("Select one run with a trained model to convert.", True)
            return None
        from cnnlab.ui.fully_conv_action import open_for_run

        self.fully_conv_dialog = open_for_run(self, rec, self.fully_conv_dialog)
        return self.fully_conv_dialog

    def report_selected(self, path=None) -> bool:
        """Write the selected run's HTML report in the background (asks where unless ``path``)."""
        run_id = self._one_selected()
        if not run_id:
            return False
        if self.report is None:
            from cnnlab.ui.views.run_report import RunReport

            self.report = RunReport(self.store.workspace, self)
            self.report.message.connect(self._show)
        return self.report.start(self.records[run_id], path)

    def _show(self, text: str, error: bool) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "color: #333;")
        self.message.setText(text)
