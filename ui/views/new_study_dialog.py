"""The "New study" dialog: which fields to sweep over which spaces, how many trials, how.

A study is either a sweep (one row per experiment path and its space, as
``cnnlab study new --param PATH=SPACE`` takes them) or one of the built-in
lecture studies. "Sweep this…" on a field adds a row with a space suggested
from the field's declaration and current value (:func:`suggested_space`).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SAMPLERS = ("tpe", "random", "grid")
OBJECTIVES = ("val_accuracy", "val_loss", "test_accuracy")
LECTURES = {
    "": "A sweep of the fields below",
    "transfer": "Transfer strategies on your data (scratch, extractor, fine-tune, SVM, cut)",
    "batchnorm": "Batch-norm placement (none, before, after the activation)",
    "regularizers": "Regularizers (none, L2, sparsity, max-norm, noise, dropout)",
    "schedules": "Schedules (constant, step, cosine, restarts with a snapshot ensemble)",
}
ERROR_STYLE = "color: #d64545;"


def suggested_space(param: Any, value: Any) -> str:
    """A sensible first space for a field: a decade around a rate, every choice, ...

    Args:
        param: The field's :class:`cnnlab.Param`.
        value: Its value in the current experiment (None: the default).
    """
    value = param.default if value is None else value
    if param.kind == "bool":
        return "choice(true,false)"
    if param.kind == "choice":
        return "choice(" + ",".join(str(c) for c in param.choices) + ")"
    if param.kind == "int" and isinstance(value, int):
        lo = max(int(param.min if param.min is not None else 1), max(1, value // 2))
        hi = min(int(param.max if param.max is not None else value * 2), max(lo + 1, value * 2))
        return f"int({lo},{hi})"
    if param.kind == "float" and isinstance(value, (int, float)) and value > 0:
        lo = max(float(param.min or 0.0), value / 10)
        hi = min(float(param.max) if param.max is not None else math.inf, value * 10)
        kind = "loguniform" if lo > 0 else "uniform"
        return f"{kind}({lo:.3g},{hi:.3g})"
    if param.kind == "float" and param.min is not None and param.max is not None:
        return f"uniform({param.min:g},{param.max:g})"
    return f"choice({value})"


class NewStudyDialog(QDialog):
    """Ask for a study's parameters; :meth:`values` returns them for ``new_study``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New study")
        self.resize(640, 420)
        self.lecture = QComboBox()
        for key, text in LECTURES.items():
            self.lecture.addItem(text, key)
        self.lecture.currentIndexChanged.connect(self._lecture_changed)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Experiment path", "Space"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 320)
        self.table.setToolTip("Spaces: loguniform(a,b), uniform(a,b), int(a,b), choice(a,b,...)")
        self.trials = QSpinBox()
        self.trials.setRange(1, 10_000)
        self.trials.setValue(8)
        self.sampler = QComboBox()
        self.sampler.addItems(SAMPLERS)
        self.objective = QComboBox()
        self.objective.addItems(OBJECTIVES)
        self.prune = QCheckBox("Stop unpromising trials early (median pruner)")
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 10_000)
        self.epochs.setSpecialValueText("as the experiment")
        self.error = QLabel("")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self._layout()

    def _layout(self) -> None:
        rows = QHBoxLayout()
        for text, slot in (("Add row", lambda: self.add_param("", "")),
                           ("Remove row", self._remove_row)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            rows.addWidget(button)
        rows.addStretch(1)
        form = QFormLayout()
        form.addRow("Study", self.lecture)
        form.addRow("Trials", self.trials)
        form.addRow("Sampler", self.sampler)
        form.addRow("Objective", self.objective)
        form.addRow("Epochs per trial", self.epochs)
        form.addRow("", self.prune)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(rows)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def add_param(self, path: str, space: str) -> None:
        """Add a row (or replace the space of the row with this path)."""
        for row in range(self.table.rowCount()):
            if path and self.table.item(row, 0).text() == path:
                self.table.item(row, 1).setText(space)
                return
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(path))
        self.table.setItem(row, 1, QTableWidgetItem(space))

    def _remove_row(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def _lecture_changed(self) -> None:
        sweep = not self.lecture.currentData()
        self.table.setEnabled(sweep)
        if not sweep:
            self.sampler.setCurrentText("grid")

    def params(self) -> list[str]:
        """The rows as ``PATH=SPACE`` texts (empty rows left out)."""
        found = []
        for row in range(self.table.rowCount()):
            path = self.table.item(row, 0).text().strip()
            space = self.table.item(row, 1).text().strip()
            if path or space:
                found.append(f"{path}={space}")
        return found

    def values(self) -> dict[str, Any]:
        """The keyword arguments of ``cnnlab.studies.new_study`` (but the file and experiment)."""
        lecture = self.lecture.currentData() or None
        return {"params": [] if lecture else self.params(), "trials": self.trials.value(),
                "sampler": self.sampler.currentText(), "objective": self.objective.currentText(),
                "prune": self.prune.isChecked(), "lecture": lecture,
                "epochs": self.epochs.value() or None}

    def show_error(self, message: str) -> None:
        """Say why the study could not be made (the dialog stays open)."""
        self.error.setText(message)
