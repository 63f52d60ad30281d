"""The Recipe tab: every recipe panel in one tool box, bound to an experiment."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QScrollArea, QToolBox, QVBoxLayout, QWidget

from cnnlab.spec import Experiment
from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.views.augment_panel import AugmentationPanel
from cnnlab.ui.views.data_panel import DataPanel
from cnnlab.ui.views.recipe_panels import (
    OptimizerPanel,
    TransferPanel,
    device_panel,
    regularization_panel,
)


def steps_per_epoch(experiment: Experiment) -> int:
    """Estimate batches per epoch from the data section (shapes: exact)."""
    data, training = experiment.data, experiment.training
    samples = data.shapes.samples if data.source == "shapes" else 50_000
    if data.max_samples:
        samples = min(samples, data.max_samples)
    train = samples * (1 - data.validation_split - data.test_split)
    return max(1, math.ceil(train / training.batch_size))


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area


def _focusable_headers(toolbox: QToolBox) -> None:
    """Section headers take the focus when clicked (and by Tab).

    Otherwise a click on a header hides the page holding the focus, and Qt moves
    the focus on to the next field in the window, the experiment's Name with its
    text selected, where the next key press would replace it.
    """
    for button in toolbox.findChildren(QAbstractButton):
        if button.metaObject().className() == "QToolBoxButton":
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


class RecipeView(QWidget):
    """Data, optimizer+schedule, augmentation, regularization, transfer, device.

    Emits ``changed(new Experiment)`` whenever a panel emits a new value, and
    ``edited(new Experiment, undo text)`` with it.
    """

    changed = Signal(object)
    edited = Signal(object, str)

    def __init__(self, experiment: Experiment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        install_wheel_guard()
        self.experiment = experiment
        t = experiment.training
        self.data_panel = DataPanel(experiment.data)
        self.data_panel.set_seed(experiment.training.seed)  # the health report splits as runs do
        self.optimizer_panel = OptimizerPanel(t, steps_per_epoch(experiment))
        self.augmentation_panel = AugmentationPanel(t)
        self.regularization_panel = regularization_panel(t)
        self.transfer_panel = TransferPanel(t)
        self.device_panel = device_panel(t)
        self.training_panels = (self.optimizer_panel, self.augmentation_panel,
                                self.regularization_panel, self.transfer_panel,
                                self.device_panel)
        self.toolbox = QToolBox()
        for title, panel in (("Data", self.data_panel),
                             ("Optimizer and schedule", self.optimizer_panel),
                             ("Augmentation", self.augmentation_panel),
                             ("Regularization", self.regularization_panel),
                             ("Transfer learning", self.transfer_panel),
                             ("Device", self.device_panel)):
            self.toolbox.addItem(_scroll(panel), title)
        _focusable_headers(self.toolbox)
        self.data_panel.changed.connect(self._data_changed)
        self.data_panel.folder_chosen.connect(self._folder_chosen)
        for panel in self.training_panels:
            panel.changed.connect(self._training_changed)
        QVBoxLayout(self).addWidget(self.toolbox)
        self.transfer_panel.show_problem(experiment)

    def set_experiment(self, experiment: Experiment) -> None:
        """Show another experiment (undo, open) without emitting."""
        if experiment == self.experiment:
            return
        old = self.experiment
        self.experiment = experiment
        if experiment.data != old.data:
            self.data_panel.set_value(experiment.data)
        self.optimizer_panel.steps_per_epoch = steps_per_epoch(experiment)
        if experiment.training != old.training:
            self.data_panel.set_seed(experiment.training.seed)
            for panel in self.training_panels:
                panel.set_value(experiment.training)
        self.transfer_panel.show_problem(experiment)
        self.transfer_panel.inserter.document_changed(experiment)

    def _data_changed(self, data) -> None:
        self._emit(dataclasses.replace(self.experiment, data=data))
        self.optimizer_panel.steps_per_epoch = steps_per_epoch(self.experiment)
        self.optimizer_panel.after_change()

    def use_folder(self, folder: str) -> bool:
        """Show the Data panel, check ``folder`` and, once it has classes, use it as the data."""
        self.toolbox.setCurrentIndex(0)
        started = self.data_panel.check_folder(folder, use=True)
        area = self.toolbox.widget(0)
        if isinstance(area, QScrollArea):
            area.ensureWidgetVisible(self.data_panel.report)
        return started

    def _folder_chosen(self, data) -> None:
        name = Path(data.path).name or data.path
        self._emit(dataclasses.replace(self.experiment, data=data), f"Use image folder {name}")
        self.optimizer_panel.steps_per_epoch = steps_per_epoch(self.experiment)

    def _training_changed(self, training) -> None:
        self._emit(dataclasses.replace(self.experiment, training=training))
        for panel in self.training_panels:
            if panel is not self.sender():
                panel.set_value(training)

    def _emit(self, experiment: Experiment, text: str = "Edit recipe") -> None:
        self.experiment = experiment
        self.transfer_panel.show_problem(experiment)
        self.changed.emit(experiment)
        self.edited.emit(experiment, text)


def bind(view: RecipeView, get: Callable[[], Experiment],
         apply: Callable[[Experiment, str], None]) -> None:
    """Route the view's edits to ``apply(new, text)`` (undoable) and keep it in sync."""
    view.edited.connect(apply)
    view.set_experiment(get())
