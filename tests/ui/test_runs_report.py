"""Runs ▸ Report…: the selected run's HTML report, written in the background from the button.

The run is trained for real through `cnnlab train`; the row is clicked and the
button pressed as a user does; only the save dialog is replaced by its answer.
"""

import json
from html.parser import HTMLParser

import pytest
from builder_helpers import DialogRecorder
from cli_support import train_run
from PySide6.QtCore import Qt

from cnnlab.cli import main
from cnnlab.runs import RunStore
from cnnlab.ui.views import run_report
from cnnlab.ui.views.runs_view import RunsView

WAIT = 60_000
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]


class Text(HTMLParser):
    """The text of a page (it must parse as HTML)."""

    def __init__(self, page: str):
        super().__init__()
        self.parts: list[str] = []
        self.feed(page)
        self.close()

    def handle_data(self, data):
        self.parts.append(data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace with one real run (1 epoch of 240 shapes images)."""
    folder = tmp_path_factory.mktemp("runs_report")
    spec = folder / "small.json"
    assert main(["new", str(spec)]) == 0
    data = json.loads(spec.read_text())
    data["data"]["shapes"]["samples"] = 240
    data["training"]["epochs"] = 1
    spec.write_text(json.dumps(data))
    ws = folder / "ws"
    return ws, train_run(spec, ws)


@pytest.fixture
def view(qtbot, trained):
    runs = RunsView(RunStore(trained[0]))
    qtbot.addWidget(runs)
    runs.show()
    qtbot.waitExposed(runs)
    yield runs
    if runs.report is not None:
        qtbot.waitUntil(lambda: not runs.report.busy, timeout=WAIT)


@pytest.fixture
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def answer_dialog(monkeypatch, path):
    monkeypatch.setattr(run_report.QFileDialog, "getSaveFileName",
                        lambda *_args: (str(path), run_report.FILTER))


def click_report(qtbot, view, run_id):
    """Click the run's row, then Report…"""
    table = view.table
    row = next(r for r in range(table.rowCount())
               if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id)
    center = table.visualItemRect(table.item(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert view.selected_ids() == [run_id]
    qtbot.mouseClick(view.buttons["Report…"], Qt.MouseButton.LeftButton)


def test_report_button_writes_the_selected_runs_report(qtbot, view, trained, monkeypatch,
                                                       recorder, tmp_path):
    ws, run_id = trained
    answer_dialog(monkeypatch, tmp_path / "my report")  # the dialog adds no suffix
    click_report(qtbot, view, run_id)
    qtbot.waitUntil(lambda: "Report written" in view.message.text(), timeout=WAIT)
    out = tmp_path / "my report.html"
    assert str(out) in view.message.text()
    text = "".join(Text(out.read_text(encoding="utf-8")).parts)
    record = RunStore(ws, read_only=True).get(run_id)
    assert run_id in text and f"{record.test_accuracy:.4f}" in text
    assert all(name in text for name in SHAPES)
    assert not recorder.questions and not recorder.errors


def test_a_file_the_dialog_did_not_confirm_is_kept_unless_the_user_agrees(
        qtbot, view, trained, monkeypatch, recorder, tmp_path):
    _, run_id = trained
    kept = tmp_path / "mine.html"
    kept.write_text("mine")
    answer_dialog(monkeypatch, tmp_path / "mine")  # + ".html" names an existing file
    recorder.answer = False
    click_report(qtbot, view, run_id)
    assert len(recorder.questions) == 1 and "mine.html already exists" in recorder.questions[0]
    assert view.report is None or not view.report.busy
    assert kept.read_text() == "mine"


def test_a_refused_target_is_one_line_in_the_view(qtbot, view, trained, monkeypatch, tmp_path):
    _, run_id = trained
    folder = tmp_path / "folder.html"
    folder.mkdir()
    answer_dialog(monkeypatch, folder)
    click_report(qtbot, view, run_id)
    qtbot.waitUntil(lambda: "not written" in view.message.text(), timeout=WAIT)
    assert "is a folder" in view.message.text() and "\n" not in view.message.text()
    assert not list(folder.iterdir())


def test_report_needs_one_selected_run(qtbot, view):
    view.select([])
    assert view.report_selected() is False
    assert "Select one run" in view.message.text()
