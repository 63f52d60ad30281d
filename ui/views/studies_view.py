"""The Studies view: many runs of one experiment, sampled and compared (issue: studies).

A study is made from the current experiment (New study…, or "Sweep this…" on
any Recipe or block field), runs in the background trial after trial (each an
ordinary run in the Runs view), and shows a sortable trial table (the best in
bold, pruned trials greyed), a parallel-coordinates plot, the parameters'
importance and, for the lectures' built-in studies, their table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnlab import CnnlabError
from cnnlab.ui.param_form import sweep_requests
from cnnlab.ui.views.new_study_dialog import NewStudyDialog, suggested_space
from cnnlab.ui.views.study_plots import ImportanceBars, ParallelCoordinates, short_name
from cnnlab.ui.views.worker import Worker, error_text

COLUMNS = ("trial", "state", "value", "duration", "run")
PRUNED_COLOR = QColor("#9a9a9a")
BEST_COLOR = QColor("#fdecea")
REFRESH_MS = 300


def open_study_path(parent: QWidget | None, folder: str) -> str | None:
    """Ask for a study file to open (replaced in tests)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open study", folder,
                                          "Studies (*.json);;All files (*)")
    return path or None


class StudiesView(QWidget):
    """Define, run and compare studies.

    Args:
        get_experiment: Returns the document's current Experiment.
        store: The window's run store (the trials' runs land there).

    Signals:
        open_experiment(object): The best trial's Experiment, to open in the editor.
        show_runs(list): Run ids whose curves to overlay in the Runs view.
        run_ended(): A study run stopped or finished (the Runs view refreshes).
        show_requested(): "Sweep this…" added a field: the window shows this view.
    """

    open_experiment = Signal(object)
    show_runs = Signal(list)
    run_ended = Signal()
    show_requested = Signal()

    def __init__(self, get_experiment, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.get_experiment = get_experiment
        self.store = store
        self.study: Any = None
        self.summary: dict = {}
        self.dialog: NewStudyDialog | None = None
        self.worker = Worker(self)
        self.worker.event.connect(self._event)
        self.worker.result.connect(self._ran)
        self.worker.failed.connect(lambda text: self._ran(None, text))
        self.worker.finished.connect(self._update_buttons)  # `running` is False only now
        self._refresh_soon = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh_soon.timeout.connect(self.refresh)
        self._build()
        sweep_requests.requested.connect(self.sweep)
        self._update_buttons()

    # -- layout --------------------------------------------------------------------

    def _build(self) -> None:
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, slot, tip in (
                ("New study…", self.new_study, "A study of the current experiment"),
                ("Open study…", self.ask_open, "Open a study file"),
                ("Run", self.run, "Run trials until the study's budget is spent"),
                ("Stop", self.stop, "Stop after the running trial's current epoch"),
                ("Open best in editor", self.open_best, "The best trial's experiment"),
                ("Show curves in Runs", self.show_curves, "Overlay the trials' curves")):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, s=slot: s())
            bar.addWidget(button)
            self.buttons[text] = button
        bar.addStretch(1)
        self.title = QLabel("No study open. Make one from the current experiment with "
                            "New study…, or right-click a Recipe or block field: Sweep this…")
        self.title.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m trials")
        self.progress.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemDoubleClicked.connect(lambda _i: self.show_curves())
        self.parallel = ParallelCoordinates()
        self.importance = ImportanceBars()
        self.lecture = QPlainTextEdit()
        self.lecture.setReadOnly(True)
        self.lecture.setFont(QFont("monospace"))
        self.lecture.hide()
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.parallel)
        plots.addWidget(self.importance.widget)
        plots.setSizes([700, 300])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.table)
        body.addWidget(self.lecture)
        body.addWidget(plots)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.title)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(body, 1)

    # -- making and opening --------------------------------------------------------

    def studies_dir(self) -> Path:
        """Where new study files go: ``<workspace>/studies``."""
        return Path(self.store.workspace) / "studies"

    def sweep(self, path: str, param: Any) -> None:
        """Add a field to the study being defined ("Sweep this…"), opening the dialog."""
        value = _value_at(self.get_experiment().to_dict(), path)
        dialog = self._dialog()
        dialog.add_param(path, suggested_space(param, value))
        self.show_requested.emit()
        self._show_dialog()

    def new_study(self) -> None:
        """Open the New study dialog."""
        self._dialog()
        self._show_dialog()

    def _dialog(self) -> NewStudyDialog:
        if self.dialog is None:
            self.dialog = NewStudyDialog(self)
            self.dialog.accepted.connect(self._create)
        return self.dialog

    def _show_dialog(self) -> None:
        self.window().raise_() if self.window() is not self else None
        self.dialog.show()
        self.dialog.raise_()

    def _create(self) -> bool:
        """Make the study the dialog describes; on a refusal reopen the dialog with why."""
        from cnnlab.studies import new_study

        experiment = self.get_experiment()
        values = self.dialog.values()
        out = _free_path(self.studies_dir(), experiment.name, values["lecture"])
        try:
            study = new_study(out, experiment.to_dict(), **values)
        except CnnlabError as exc:
            self.dialog.show_error(str(exc))
            self.dialog.show()
            return False
        self.dialog.deleteLater()
        self.dialog = None
        self.open(study)
        self._show(f"Made {out}. Run it with Run (or from a terminal: cnnlab study run {out}).",
                   False)
        return True

    def ask_open(self) -> None:
        """Ask for a study file and open it."""
        path = open_study_path(self, str(self.studies_dir()))
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Open a study file (a refusal is shown in the view)."""
        from cnnlab.studies import load_study

        try:
            self.open(load_study(path))
        except CnnlabError as exc:
            self._show(str(exc), True)
            return False
        return True

    def open(self, study: Any) -> None:
        """Show ``study``."""
        self.study = study
        self.refresh()

    # -- running -------------------------------------------------------------------

    def run(self) -> bool:
        """Run the open study's remaining trials in the background."""
        from cnnlab.studies import run_study

        if self.study is None or self.worker.running:
            return False
        study, workspace = self.study, self.store.workspace
        self.worker.start(lambda sink, control: run_study(
            study, workspace=workspace, sink=sink, control=control), name="cnnlab-study")
        self._show("Running the study: each trial is a run in the Runs view.", False)
        self._update_buttons()
        return True

    def stop(self) -> None:
        """Stop the study after the running trial's current epoch."""
        self.worker.stop()
        self._show("Stopping after the running trial's current epoch…", False)

    def _event(self, event: Any) -> None:
        """A trial started, ended an epoch or ended: say so; redraw after a trial."""
        kind = type(event).__name__
        number = getattr(event, "number", "?")
        if kind == "TrialStarted":
            verb = "resuming" if getattr(event, "resumed", False) else "training"
            self._show(f"Trial {number}: {verb}…", False)
        elif kind == "TrialEpoch":
            value = getattr(event, "value", None)
            shown = f", {_objective(self.study)} {_number(value)}" if value is not None else ""
            self._show(f"Trial {number}: epoch {event.epoch + 1} of {event.epochs}{shown}", False)
        elif kind == "TrialEnded":
            self._show(f"Trial {number} {str(event.state).lower()}"
                       f"{': ' + event.message if getattr(event, 'message', '') else ''}", False)
            self._refresh_soon.start()

    def _ran(self, _result: Any, error: str | None = None) -> None:
        self.refresh()
        self._update_buttons()
        if error:
            self._show(error, True)
        else:
            self._show("The study stopped." if self.worker.control.stop_requested else
                       "The study's budget is spent.", False)
        self.run_ended.emit()

    # -- showing -------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the study's trials again and redraw everything."""
        if self.study is None:
            return
        from cnnlab.studies import study_summary

        try:
            self.summary = study_summary(self.study, workspace=self.store.workspace)
        except CnnlabError as exc:
            self._show(str(exc), True)
            return
        self._fill_title()
        self._fill_table()
        best = (self.summary.get("best") or {}).get("trial")
        self.parallel.set_trials(self.summary.get("trials", []), best, _objective(self.study))
        self.importance.set_importance(self.summary.get("importance") or {},
                                       self.summary.get("importance_note", ""))
        self._fill_lecture()
        self._update_buttons()

    def _fill_title(self) -> None:
        s = self.summary
        trials = s.get("trials", [])
        done = sum(t.get("state") in ("COMPLETE", "PRUNED") for t in trials)
        budget = int(getattr(self.study, "trials", 0) or len(trials))
        best = s.get("best") or {}
        best_text = (f"best: trial {best['trial']}, {_objective(self.study)} = "
                     f"{_number(best.get('value'))}" if best.get("trial") is not None else
                     "no finished trial yet")
        self.title.setText(f"<b>{s.get('study', '')}</b> ({s.get('direction', '')}); "
                           f"{done} of {budget} trials done; {best_text}")
        self.progress.setRange(0, max(1, budget))
        self.progress.setValue(min(done, budget))
        self.progress.setVisible(self.worker.running or 0 < done < budget)

    def _fill_table(self) -> None:
        trials = self.summary.get("trials", [])
        names = sorted({k for t in trials for k in t.get("params", {})})
        headers = [*COLUMNS[:2], *names, *COLUMNS[2:]]
        best = (self.summary.get("best") or {}).get("trial")
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels([short_name(h) for h in headers])
        self.table.setRowCount(len(trials))
        for row, trial in enumerate(trials):
            cells = [trial.get("number"), trial.get("state", "").lower(),
                     *[trial.get("params", {}).get(n) for n in names],
                     trial.get("value"), trial.get("duration"), trial.get("run_id") or ""]
            for col, value in enumerate(cells):
                self.table.setItem(row, col, _cell(value, trial, best))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def _fill_lecture(self) -> None:
        lines = _lecture_lines(self.study, self.summary, self.store.workspace)
        self.lecture.setPlainText("\n".join(lines))
        self.lecture.setVisible(bool(lines))

    def selected_run_ids(self) -> list[str]:
        """Run ids of the selected trials (all trials' when none is selected)."""
        column = self.table.columnCount() - 1
        rows = {i.row() for i in self.table.selectedItems()} or set(range(self.table.rowCount()))
        ids = [self.table.item(r, column).text() for r in sorted(rows)
               if self.table.item(r, column) is not None]
        return [i for i in ids if i]

    def show_curves(self) -> None:
        """Overlay the selected (or all) trials' curves in the Runs view."""
        ids = self.selected_run_ids()
        if ids:
            self.show_runs.emit(ids)

    def open_best(self) -> bool:
        """Open the best trial's experiment in the editor."""
        from cnnlab.studies import trial_experiment

        best = self.summary.get("best") or {}
        if self.study is None or best.get("trial") is None:
            self._show("No finished trial yet.", True)
            return False
        try:
            experiment = trial_experiment(self.study, best.get("params") or {})
        except CnnlabError as exc:
            self._show(str(exc), True)
            return False
        self.open_experiment.emit(experiment)
        return True

    def _update_buttons(self) -> None:
        running = self.worker.running
        has = self.study is not None
        self.buttons["Run"].setEnabled(has and not running)
        self.buttons["Stop"].setEnabled(running)
        self.buttons["New study…"].setEnabled(not running)
        self.buttons["Open study…"].setEnabled(not running)
        best = (self.summary.get("best") or {}).get("trial") is not None
        self.buttons["Open best in editor"].setEnabled(has and best)
        self.buttons["Show curves in Runs"].setEnabled(self.table.rowCount() > 0)

    def _show(self, text: str, error: bool) -> None:
        self.message.setStyleSheet("color: #d64545;" if error else "color: #555;")
        self.message.setText(text)

    @property
    def running(self) -> bool:
        """True while the study's trials train (the window asks before quitting)."""
        return self.worker.running

    @property
    def run_id(self) -> str:
        """What is training, for the window's quit question."""
        return f"(a trial of study {getattr(self.study, 'name', '')})"

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop a running study and wait for its thread (the window is closing)."""
        if not self.worker.running:
            return True
        self.worker.stop()
        return self.worker.wait(timeout)


def _objective(study: Any) -> str:
    return str(getattr(study, "objective", "") or "value")


def _value_at(data: Any, path: str) -> Any:
    """The value at an experiment path (``model.nodes[conv1].params.filters``), or None."""
    for part in path.split("."):
        key, _, node = part.partition("[")
        data = data.get(key) if isinstance(data, dict) else None
        if node and isinstance(data, list):
            ident = node.rstrip("]")
            data = next((n for n in data if isinstance(n, dict) and n.get("id") == ident), None)
        if data is None:
            return None
    return data


def _free_path(folder: Path, name: str, lecture: str | None) -> Path:
    """``folder/NAME-study.json`` (or ``-2``, ``-3``...: never an existing file)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in (name or "study"))
    stem = f"{stem}-{lecture or 'study'}"
    path, n = folder / f"{stem}.json", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.json", n + 1
    return path


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


class _SortItem(QTableWidgetItem):
    """A cell that sorts by its number (UserRole) when it has one, else by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return super().__lt__(other)


def _cell(value: Any, trial: dict, best: Any) -> QTableWidgetItem:
    """A table cell that sorts numbers as numbers; the best row shaded, pruned ones grey."""
    item = _SortItem(_number(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        item.setData(Qt.ItemDataRole.UserRole, float(value))
    if trial.get("number") == best:
        item.setBackground(QBrush(BEST_COLOR))
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    elif trial.get("state") == "PRUNED":
        item.setForeground(QBrush(PRUNED_COLOR))
        item.setToolTip("pruned: stopped early, its curve was below the median")
    return item


def _lecture_lines(study: Any, summary: dict, workspace: Any) -> list[str]:
    """The built-in lecture study's table (empty for a plain sweep)."""
    if not getattr(study, "lecture", None):
        return []
    try:
        from cnnlab.studies import lecture_table
    except ImportError:
        return []
    try:
        return list(lecture_table(summary, workspace=workspace))
    except Exception as exc:  # noqa: BLE001 - the table is a view of data; never break the view
        return [f"(the lecture table could not be made: {error_text(exc)})"]
