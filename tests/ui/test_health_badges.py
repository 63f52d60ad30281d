"""Training-health warnings in the window: a badge on the block named, the Training view's list.

The core's check (a real training run through ``cnnlab train``) is tested in
tests/core/test_training_health.py; here the trainer is the view's injected
one, sending the real events, so that the window's path is tested without a run.
"""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from cnnlab import default_experiment
from cnnlab.runs import RunStore
from cnnlab.spec.edit import retarget
from cnnlab.train import events as ev
from cnnlab.ui.canvas.block_item import HEALTH_FILL
from cnnlab.ui.views.training_health import WHOLE_RUN, connect_badges
from cnnlab.ui.views.training_view import TrainingView

DEAD = ev.HealthWarning(0, "conv2", "dead", "conv2: 75% of its ReLU units output zero for "
                        "every sample of the check batch", "try leaky ReLU or ELU", 0.75)
STALLED = ev.HealthWarning(0, "", "stalled", "the training loss moved by only 0.10%",
                           "try another learning rate", 0.001)


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def trainer_sending(*warnings):
    """A trainer (the view's injected kind) whose one epoch reports ``warnings``."""
    def trainer(spec, sink, control, workspace=None, resume=None):
        sink(ev.RunStarted("r1", "/tmp/r1", "CPU", "float32", 1, 2, params=10))
        sink(ev.TrainingHealth(epoch=0, layers={"conv2": {"dead": 0.75}}, warnings=warnings))
        sink(ev.EpochEnded(0, 1, {"loss": 1.0}, 1e-3, 0.1))
        sink(ev.Finished("r1", 1, {}))

    return trainer


def train(qtbot, view, trainer) -> None:
    view._trainer = trainer
    assert view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)


def orange_pixels(scene, block) -> int:
    """How many pixels of the block's card (and its top edge) are the badge's orange."""
    rect = block.mapRectToScene(block.boundingRect())
    image = QImage(int(rect.width()) * 2, int(rect.height()) * 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    target = HEALTH_FILL.rgb()
    return sum(image.pixel(x, y) == target for x in range(image.width())
               for y in range(image.height()))


def test_a_warning_badges_its_block_and_lists_it_until_a_new_run_or_another_graph(qtbot,
                                                                                  tmp_path):
    window = make_window(qtbot, default_experiment())
    view = TrainingView(lambda: window.doc.experiment, RunStore(tmp_path))
    qtbot.addWidget(view)
    connect_badges(view, window.scene)
    scene = window.scene
    assert orange_pixels(scene, scene.blocks["conv2"]) == 0

    train(qtbot, view, trainer_sending(DEAD, STALLED))
    assert scene.badged_ids() == ["conv2"]
    block = scene.blocks["conv2"]
    assert orange_pixels(scene, block) > 20
    assert DEAD.message in block.toolTip() and "Try leaky ReLU or ELU." in block.toolTip()
    rows = [view.health.tree.topLevelItem(i) for i in range(view.health.tree.topLevelItemCount())]
    assert [(r.text(0), r.text(1), r.text(2)) for r in rows] == [
        ("conv2", "dead ReLU units (75% dead)", "Leaky ReLU or ELU"),
        (WHOLE_RUN, "loss not moving (moved 0.10%)", "Another learning rate")]
    assert "epoch 1: 2 warnings" in view.health.heading.text()
    window.refresh()  # the same graph again (as after a move): the badge stays
    assert scene.badged_ids() == ["conv2"]

    train(qtbot, view, trainer_sending())  # a new run without findings: badges cleared
    assert scene.badged_ids() == [] and view.health.tree.topLevelItemCount() == 0
    assert "no warnings" in view.health.heading.text()
    assert DEAD.message not in block.toolTip()

    train(qtbot, view, trainer_sending(DEAD))
    assert scene.badged_ids() == ["conv2"]
    window.doc.apply(retarget(window.doc.experiment, classes=4), "Fewer classes")
    assert scene.badged_ids() == []  # another graph: the warnings were about the old one
    assert orange_pixels(scene, scene.blocks["conv2"]) == 0
