"""Quitting, File > New or Open while a real run trains: ask, stop after the batch, then go on."""

from __future__ import annotations

import dataclasses

import pytest
from builder_helpers import DialogRecorder, make_window
from graphs import chain

from cnnlab import save_experiment
from cnnlab.runs import RunStore
from cnnlab.ui import dialogs
from cnnlab.ui.file_actions import STOPPING
from cnnlab.ui.views.training_view import TrainingView

LONG = 120_000


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


class Choices:
    """Answers ``dialogs.choose`` from a list and records what was asked."""

    def __init__(self, monkeypatch, *answers: str):
        self.answers = list(answers)
        self.asked: list[tuple[str, list[str]]] = []
        monkeypatch.setattr(dialogs, "choose", self._choose)

    def _choose(self, _parent, _title, text, choices):
        self.asked.append((text, [key for key, _label in choices]))
        return self.answers.pop(0)


def tiny_experiment(samples: int, epochs: int):
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=samples)
    training = dataclasses.replace(exp.training, epochs=epochs, batch_size=16)
    return dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes),
                               training=training)


def window_training(qtbot, workspace, epochs: int = 60):
    """A shown window with a Training view that is training the window's experiment."""
    window = make_window(qtbot, tiny_experiment(samples=200, epochs=epochs))
    training = TrainingView(lambda: window.doc.experiment, RunStore(workspace))
    window.add_view("Training", training)
    assert training.start()
    qtbot.waitUntil(lambda: len(training.buffers.epoch_x) >= 1, timeout=LONG)
    assert training.running, training.message.text()
    return window, training


def test_quit_without_a_run_asks_nothing(qtbot, tmp_path, monkeypatch):
    choices = Choices(monkeypatch)
    window = make_window(qtbot)
    window.add_view("Training", TrainingView(lambda: window.doc.experiment, RunStore(tmp_path)))
    assert window.close()
    assert choices.asked == [] and not window.isVisible()


def test_quit_while_training_stops_the_run_then_closes(qtbot, tmp_path, monkeypatch):
    from cnnlab import run_training
    from cnnlab.train.events import Finished

    choices = Choices(monkeypatch, "cancel", "keep", "stop")
    window, training = window_training(qtbot, tmp_path)
    window.menus.actions["quit"].trigger()  # Ctrl+Q: cancel
    assert window.isVisible() and training.running
    assert not window.close()  # closing the window: keep training
    assert window.isVisible() and training.running
    assert [keys for _text, keys in choices.asked] == [["stop", "keep", "cancel"]] * 2
    assert training.run_id in choices.asked[0][0]
    assert not window.close()  # stop after this batch and quit: waits for the run
    assert window.statusBar().currentMessage() == STOPPING
    assert not window.close() and len(choices.asked) == 3  # still stopping: not asked again
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LONG)
    assert not training.running and "Stopped" in training.message.text()

    record = RunStore(tmp_path).get(training.run_id)
    assert record.status == "stopped" and 1 <= record.epochs_done < 60
    events = []
    run_training(None, events.append, workspace=tmp_path, resume=training.run_id,
                 epochs=record.epochs_done + 1)
    assert isinstance(events[-1], Finished), events[-1]
    assert RunStore(tmp_path).get(training.run_id).epochs_done == record.epochs_done + 1


def test_open_while_training_stops_the_run_first(qtbot, tmp_path, monkeypatch):

    other = tiny_experiment(samples=100, epochs=1)
    other = dataclasses.replace(other, name="The other experiment")
    target = tmp_path / "other.json"
    save_experiment(other, target)
    choices = Choices(monkeypatch, "cancel", "stop")
    window, training = window_training(qtbot, tmp_path / "ws")
    before = window.doc.experiment
    assert not window.files.open(target)  # cancel: nothing changes
    assert window.doc.experiment is before and training.running
    assert choices.asked[0][1] == ["stop", "cancel"]
    assert not window.files.open(target)  # stop first: opens once the run has stopped
    assert window.doc.experiment is before
    qtbot.waitUntil(lambda: window.doc.path == target, timeout=LONG)
    assert window.doc.experiment.name == "The other experiment" and not training.running
    assert window.doc.experiment.model.to_dict() == other.model.to_dict()
    assert RunStore(tmp_path / "ws").get(training.run_id).status == "stopped"
    assert len(choices.asked) == 2
