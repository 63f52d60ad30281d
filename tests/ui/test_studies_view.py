"""The Studies view: "Sweep this…" on a field, a study made and run in the background, its
trial table, plots and best trial; all on real tiny runs through the real engine."""

import dataclasses
import os

import pytest
from graphs import chain
from PySide6.QtCore import Qt

from cnnlab.runs import RunStore
from cnnlab.spec import TrainingSpec, section_params
from cnnlab.ui.param_form import SWEEP_TEXT, ParamForm, _sweep_menu, sweep_requests
from cnnlab.ui.views.studies_view import StudiesView


def tiny_experiment():
    exp = chain((8, 8, 1), ("Conv2D", {"filters": 2, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=8, channels=1, samples=40)
    data = dataclasses.replace(exp.data, shapes=shapes)
    training = dataclasses.replace(exp.training, epochs=1, batch_size=20)
    return dataclasses.replace(exp, data=data, training=training)


def test_sweep_this_on_a_recipe_field_adds_a_row_with_a_suggested_space(qtbot, tmp_path):
    exp = tiny_experiment()
    view = StudiesView(lambda: exp, RunStore(tmp_path))
    qtbot.addWidget(view)
    form = ParamForm([p for p in section_params(TrainingSpec) if p.name == "batch_size"],
                     path="training")
    qtbot.addWidget(form)
    menu = _sweep_menu(form.editors["batch_size"].widget, "training.batch_size",
                       form.params[0])
    assert menu.actions()[-1].text() == SWEEP_TEXT
    menu.actions()[-1].trigger()
    assert view.dialog is not None and view.dialog.isVisible()
    assert view.dialog.params() == ["training.batch_size=int(10,40)"]
    rate = next(p for p in section_params(type(exp.training.optimizer))
                if p.name == "learning_rate")
    sweep_requests.requested.emit("training.optimizer.learning_rate", rate)
    assert view.dialog.params()[1] == "training.optimizer.learning_rate=loguniform(0.0001,0.01)"
    view.dialog.reject()


def test_a_study_made_in_the_view_runs_in_the_background_and_shows_its_trials(qtbot, tmp_path):
    exp = tiny_experiment()
    store = RunStore(tmp_path)
    view = StudiesView(lambda: exp, store)
    qtbot.addWidget(view)
    view.new_study()
    view.dialog.add_param("training.optimizer.learning_rate", "choice(0.001,0.01)")
    view.dialog.trials.setValue(2)
    view.dialog.sampler.setCurrentText("grid")
    view.dialog.accept()
    assert view.study is not None and view.study.path.parent == tmp_path / "studies"
    assert view.run()
    qtbot.waitUntil(lambda: not view.running, timeout=120_000)
    assert "budget is spent" in view.message.text(), view.message.text()
    assert view.buttons["Run"].isEnabled() and not view.buttons["Stop"].isEnabled()
    assert view.table.rowCount() == 2
    states = {view.table.item(r, 1).text() for r in range(2)}
    assert states == {"complete"}
    assert len(view.parallel.lines) == 2
    ids = view.selected_run_ids()
    assert len(ids) == 2 and all(store.get(i).status == "finished" for i in ids)
    best_row = next(r for r in range(2) if view.table.item(r, 0).font().bold())
    assert view.table.item(best_row, 0).text() == str(view.summary["best"]["trial"])
    opened = []
    view.open_experiment.connect(opened.append)
    assert view.open_best()
    rate = opened[0].training.optimizer.learning_rate
    assert rate == view.summary["best"]["params"]["training.optimizer.learning_rate"]
    shown = []
    view.show_runs.connect(shown.append)
    view.table.sortItems(0, Qt.SortOrder.DescendingOrder)
    view.show_curves()
    assert sorted(shown[0]) == sorted(ids)


@pytest.mark.slow  # five transfer trials; tests/core/test_studies_lecture.py's default
# test_transfer_study_fills_the_rule_of_thumb_table runs the same study and table via the CLI
def test_the_transfer_study_table_appears_in_the_view(qtbot, tmp_path, capsys):
    from core.test_studies_lecture import _study, _transfer_experiment

    summary, shown = _study(capsys, tmp_path, _transfer_experiment(tmp_path, capsys),
                            "transfer", "--objective", "test_accuracy")
    view = StudiesView(tiny_experiment, RunStore(os.environ["CNNLAB_HOME"]))
    qtbot.addWidget(view)
    assert view.open_file(tmp_path / "transfer.study.json")
    text = view.lecture.toPlainText()
    assert not view.lecture.isHidden()
    assert "The lectures' rule of thumb, with this data's numbers:" in text
    assert text.splitlines()[:7] == shown[shown.index("Transfer strategies"):].splitlines()[:7]
    assert view.table.rowCount() == 5


def test_a_closed_window_no_longer_hears_sweep_requests(qtbot, tmp_path, monkeypatch):
    """The form builder's sweep_requests outlives every window: a dead one must not answer."""
    from builder_helpers import DialogRecorder
    from PySide6.QtCore import QCoreApplication, QEvent

    from cnnlab.ui.main_window import MainWindow
    from cnnlab.ui.views import install_views

    DialogRecorder().install(monkeypatch)
    window = MainWindow(tiny_experiment(), None)  # not the qtbot's: this test deletes it
    views = install_views(window, RunStore(tmp_path))
    rate = next(p for p in section_params(type(tiny_experiment().training.optimizer))
                if p.name == "learning_rate")
    sweep_requests.requested.emit("training.optimizer.learning_rate", rate)
    assert window.tabs.currentWidget() is views["Studies"]
    views["Studies"].dialog.reject()
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    errors = []
    monkeypatch.setattr("sys.excepthook", lambda *exc: errors.append(exc))
    sweep_requests.requested.emit("training.optimizer.learning_rate", rate)
    assert errors == []
