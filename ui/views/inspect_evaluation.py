"""Evaluation panel: confusion matrix, per-class figures, confident mistakes, own images.

Evaluation runs on the run's test split (or validation) in the worker;
clicking a confusion cell lists its examples with their confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnlab.inspect import Session
from cnnlab.ui.views.inspect_confusion import EMPTY_TEXT, ConfusionView
from cnnlab.ui.views.inspect_source import IMAGE_FILTER, read_image
from cnnlab.ui.views.inspect_widgets import Thumbnails, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

MAX_CELL_EXAMPLES = 60
COLUMNS = ("class", "precision", "recall", "support")
NO_DATA_TEXT = ("No confusion matrix for a model file: it needs the run's dataset. Load a "
                "run to evaluate it; Predict my image... works for any model.")


@dataclass(eq=False)
class EvalResult:
    """An evaluation with the per-example predictions behind it."""

    split: str
    evaluation: Any
    x: np.ndarray
    y: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray


def run_evaluation(model: Any, data: Any, split: str, names: list[str]) -> EvalResult:
    """Evaluate ``model`` on one split of ``data`` (a DataSplits)."""
    from cnnlab.inspect import evaluate, probabilities

    x, y = data.arrays(split)
    if not len(y):
        raise ValueError(f"the {split} split is empty")
    evaluation = evaluate(model, x, y, names)
    probs = probabilities(model.predict(x, batch_size=64, verbose=0))
    return EvalResult(split, evaluation, x, np.asarray(y), probs.argmax(axis=1), probs.max(axis=1))


def cell_examples(result: EvalResult, true: int, predicted: int) -> list[int]:
    """Indices of the examples of one confusion cell, most confident first."""
    idx = np.flatnonzero((result.y == true) & (result.predicted == predicted))
    return [int(i) for i in idx[np.argsort(-result.confidence[idx], kind="stable")]]


class EvaluationPanel(QWidget):
    """Evaluate the loaded run on its test or validation split."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.result: EvalResult | None = None
        self.prediction: Any = None
        self.worker = Worker(self)
        self.worker.result.connect(self._result)
        self.worker.failed.connect(lambda m: self.note.setText(f"Cannot evaluate: {m}"))
        self.split_box = QComboBox()
        self.split_box.addItems(["test", "val"])
        self.eval_button = QPushButton("Evaluate")
        self.eval_button.clicked.connect(self.evaluate)
        predict = QPushButton("Predict my image...")
        predict.clicked.connect(self._open_image)
        self.summary = QLabel("")
        self.confusion = ConfusionView()
        self.heatmap = self.confusion.heatmap
        self.heatmap.cell_clicked.connect(self.show_cell)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.cell_label = QLabel("Click a cell of the matrix to see its examples.")
        self.cell_examples = Thumbnails(48)
        self.wrong = Thumbnails(48)
        self.predict_label = note_label("")
        self.note = note_label("Load a run, then press Evaluate.")
        self._lay_out(predict)

    def _lay_out(self, predict: QPushButton) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Split"), self.split_box, self.eval_button, self.summary,
                             predict))
        grid = QGridLayout()
        grid.addWidget(self.confusion, 0, 0, 2, 1)
        grid.addWidget(self.table, 0, 1)
        grid.addWidget(self.predict_label, 1, 1)
        grid.addWidget(self.cell_label, 2, 0)
        grid.addWidget(QLabel("Most confidently wrong"), 2, 1)
        grid.addWidget(self.cell_examples, 3, 0)
        grid.addWidget(self.wrong, 3, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(3, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid, 1)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model; evaluation needs the run's dataset."""
        self.session, self.result = session, None
        has_data = session.data is not None
        self.eval_button.setEnabled(has_data)
        self.note.setText("Press Evaluate." if has_data else
                          "No dataset with this model: evaluation needs a run; "
                          "you can still predict your own image.")
        self.confusion.clear(EMPTY_TEXT if has_data else NO_DATA_TEXT)

    def evaluate(self) -> bool:
        """Evaluate on the chosen split in the worker."""
        session = self.session
        if session is None or session.data is None or self.worker.running:
            return False
        split, model, data = self.split_box.currentText(), session.model, session.data
        names = list(session.class_names)
        self.note.setText(f"Evaluating on the {split} split...")
        return call_in_thread(self.worker, lambda: run_evaluation(model, data, split, names))

    def predict_file(self, path: str) -> bool:
        """Classify an image file in the worker; the top 5 appear beside the table."""
        session = self.session
        if session is None or self.worker.running:
            return False
        try:
            image = read_image(path)
        except ValueError as exc:
            self.predict_label.setText(str(exc))
            return False
        from cnnlab.inspect import predict_image

        model, names, vr = session.model, list(session.class_names), session.value_range
        return call_in_thread(self.worker, lambda: predict_image(model, image, names, 5, vr))

    def _open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Predict an image", "", IMAGE_FILTER)
        if path:
            self.predict_file(path)

    def _result(self, value: Any) -> None:
        if isinstance(value, EvalResult):
            self._show_evaluation(value)
        else:
            self.prediction = value
            top = "\n".join(f"{name}: {p:.1%}" for name, p in value.top)
            self.predict_label.setText(f"Your image: {value.class_name} "
                                       f"({value.confidence:.1%})\n{top}")

    def _show_evaluation(self, result: EvalResult) -> None:
        self.result = result
        ev = result.evaluation
        self.confusion.set_matrix(ev.confusion, ev.class_names)
        self._fill_table(ev)
        self.summary.setText(f"accuracy {ev.overall_accuracy:.1%} on {len(result.y)} "
                             f"{result.split} samples")
        wrong = [w.index for w in ev.wrong]
        self.wrong.set_images([result.x[i] for i in wrong],
                              [self._caption(i) for i in wrong], wrong)
        self.cell_examples.clear()
        self.note.setText("Rows: true class, columns: predicted; colour is the share of the row.")

    def _fill_table(self, ev: Any) -> None:
        self.table.setRowCount(len(ev.class_names))
        for r, name in enumerate(ev.class_names):
            values = (name, f"{ev.precision[r]:.2f}", f"{ev.recall[r]:.2f}", str(ev.support[r]))
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _caption(self, index: int) -> str:
        assert self.result is not None
        names = self.result.evaluation.class_names
        r = self.result
        return (f"pred {names[r.predicted[index]]}\ntrue {names[r.y[index]]}\n"
                f"{r.confidence[index]:.0%}")

    def show_cell(self, true: int, predicted: int) -> list[int]:
        """List the examples of one confusion cell; returns their indices."""
        if self.result is None:
            return []
        names = self.result.evaluation.class_names
        idx = cell_examples(self.result, true, predicted)
        shown = idx[:MAX_CELL_EXAMPLES]
        self.cell_examples.set_images([self.result.x[i] for i in shown],
                                      [self._caption(i) for i in shown], shown)
        more = f" (first {len(shown)})" if len(idx) > len(shown) else ""
        self.cell_label.setText(f"true {names[true]}, predicted {names[predicted]}: "
                                f"{len(idx)} examples{more}")
        return idx
