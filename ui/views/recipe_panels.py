"""Recipe panels: forms that emit a new TrainingSpec (new value, never mutation).

Every panel has ``set_value(training)`` and a ``changed(new_training)``
signal. The forms are generated from the sections' parameter declarations by
the same :class:`~cnnlab.ui.param_form.ParamForm` as the block properties.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab import SpecError
from cnnlab.spec import TrainingSpec, section_params
from cnnlab.ui.param_form import ParamForm
from cnnlab.ui.views.plots import curve, make_plot, set_finite
from cnnlab.ui.views.transfer_panel import BaseInserter
from cnnlab.ui.views.worker import Worker, call_in_thread, error_text


def replace_section(training: TrainingSpec, attr: str, values: dict[str, Any]) -> TrainingSpec:
    """Return ``training`` with section ``attr`` replaced by ``values`` (checked).

    Raises:
        SpecError: The section's own check failed (naming the path of the problem).

    """
    section = dataclasses.replace(getattr(training, attr), **values)
    check = getattr(section, "check", None)
    if check is not None:
        check(f"training.{attr}")
    return dataclasses.replace(training, **{attr: section})


def _own_values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


class SectionPanel(QWidget):
    """A generated form for one section of the recipe (``training.<attr>``).

    Args:
        attrs: The sections this panel edits (``("regularization",)``); the
            empty string edits the recipe's top-level fields (epochs, batch...).
        training: The initial recipe.

    """

    changed = Signal(object)
    #: Per section, the only fields shown (others keep their values); empty: all.
    FIELDS: dict[str, tuple[str, ...]] = {}

    def __init__(self, attrs: tuple[str, ...], training: TrainingSpec | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.training = training or TrainingSpec()
        self.layout_ = QVBoxLayout(self)
        self.forms: dict[str, ParamForm] = {}
        for attr in attrs:
            cls = type(getattr(self.training, attr)) if attr else TrainingSpec
            if attr:
                self.layout_.addWidget(QLabel(f"<b>{attr.replace('_', ' ').capitalize()}</b>"))
            keep = self.FIELDS.get(attr)
            form = ParamForm([p for p in section_params(cls) if not keep or p.name in keep],
                             path=f"training.{attr}" if attr else "training")
            form.edited.connect(lambda name, _v, a=attr: self._edited(a, name))
            self.forms[attr] = form
            self.layout_.addWidget(form)
        self.set_value(self.training)

    def set_value(self, training: TrainingSpec) -> None:
        """Show this recipe (no signal)."""
        self.training = training
        self._show_forms()

    def _show_forms(self) -> None:
        for attr, form in self.forms.items():
            form.set_values(_own_values(getattr(self.training, attr) if attr else self.training))

    def _edited(self, attr: str, name: str) -> None:
        """Field ``name`` of section ``attr`` applied a value: check the section, emit."""
        form = self.forms[attr]
        try:
            if attr:
                new = replace_section(self.training, attr, form.values())
            else:
                new = dataclasses.replace(self.training, **form.values())
                new.check("training")
        except SpecError as exc:
            form.refuse(exc, name)
            return
        if new != self.training:
            self.training = new
            self._show_forms()  # as Properties after an edit: the applied recipe, no old marks
            self.after_change()
            self.changed.emit(new)

    def after_change(self) -> None:
        """Let subclasses follow the recipe (plots)."""


class OptimizerPanel(SectionPanel):
    """Epochs, optimizer and schedule, with the planned learning rate per batch."""

    def __init__(self, training: TrainingSpec | None = None, steps_per_epoch: int = 50,
                 parent: QWidget | None = None) -> None:
        super().__init__(("", "optimizer", "schedule"), training, parent)
        self.steps_per_epoch = steps_per_epoch
        self.lr_plot = make_plot("Learning rate over the planned run", "lr")
        self.lr_plot.setMinimumHeight(220)
        self.lr_item = curve(self.lr_plot, "learning rate", "#2ca02c")
        self.lr_message = QLabel("")
        self.layout_.insertWidget(0, self.lr_plot)
        self.layout_.insertWidget(1, self.lr_message)
        self.find_button = QPushButton("Find learning rate…", objectName="find_lr")
        self.find_button.setToolTip("Smith's range test on a fresh copy of the initial model: "
                                    "the loss against the rate, and a suggested rate")
        self.find_button.clicked.connect(self.find_learning_rate)
        self.layout_.insertWidget(2, self.find_button)
        self.lr_dialog: Any = None
        self.worker = Worker(self)
        self.worker.result.connect(self._show_curve)
        self.worker.failed.connect(lambda m: self.lr_message.setText(f"Cannot plan: {m}"))
        self.worker.finished.connect(self._maybe_again)
        self._pending = False
        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.update_curve)
        self._debounce.start()

    def set_value(self, training: TrainingSpec) -> None:
        """Show this recipe and re-plan the learning-rate curve."""
        super().set_value(training)
        if hasattr(self, "_debounce"):
            self._debounce.start()

    def after_change(self) -> None:
        """Re-plan the curve after an edit."""
        self._debounce.start()

    def update_curve(self) -> None:
        """Compute the rate per batch in the worker thread (TensorFlow loads lazily)."""
        training, spe = self.training, self.steps_per_epoch
        if self.worker.running:
            self._pending = True
            return

        def compute():
            from cnnlab.recipe import lr_curve

            return lr_curve(training, spe)

        call_in_thread(self.worker, compute)

    def _maybe_again(self) -> None:
        if self._pending:
            self._pending = False
            self.update_curve()

    def _document(self) -> Any:
        """The enclosing Recipe view (its ``experiment`` and undoable ``edited``), or None."""
        widget = self.parentWidget()
        while widget is not None and not (hasattr(widget, "experiment")
                                          and hasattr(widget, "edited")):
            widget = widget.parentWidget()
        return widget

    def find_learning_rate(self) -> None:
        """Open the range-test dialog for the current experiment and start the test."""
        from cnnlab.ui.views.lr_find_dialog import LrFindDialog

        view = self._document()
        if view is None:
            self.lr_message.setText("Cannot find a rate: the panel is not in a Recipe view")
            return
        self.lr_dialog = LrFindDialog(view.experiment, self)
        self.lr_dialog.rate_chosen.connect(self.use_learning_rate)
        self.lr_dialog.start()
        self.lr_dialog.open()

    def use_learning_rate(self, rate: float) -> None:
        """Set ``training.optimizer.learning_rate`` through the document (one undo step)."""
        from cnnlab.plan import with_learning_rate

        view = self._document()
        if view is not None:
            view.edited.emit(with_learning_rate(view.experiment, rate),
                             f"Use the suggested learning rate {rate:g}")

    def _show_curve(self, values: Any) -> None:
        try:
            n = len(values)
            x = [i / self.steps_per_epoch for i in range(n)]
            set_finite(self.lr_item, x, list(values))
            finite = [v for v in values if math.isfinite(v)]
            if finite and not self.lr_plot.user_moved:  # from 0: a constant rate is a line
                self.lr_plot.setYRange(0.0, max(finite) * 1.15 or 1e-3, padding=0)
            self.lr_plot.setLabel("bottom", f"epoch ({self.steps_per_epoch} batches each)")
            self.lr_message.setText("")
        except Exception as exc:  # noqa: BLE001
            self.lr_message.setText(f"Cannot plot: {error_text(exc)}")


class TransferPanel(SectionPanel):
    """Transfer strategy form, the advisor's recommendation and the base inserter.

    The base, its weights and cut are chosen in :class:`BaseInserter` (which
    edits the whole experiment); the form keeps the strategy's own fields.
    """

    FIELDS = {"transfer": ("strategy", "head_epochs", "unfreeze", "lr_multiplier",
                           "layer_multipliers", "head", "svm_l2")}

    def __init__(self, training: TrainingSpec | None = None, parent: QWidget | None = None):
        super().__init__(("transfer",), training, parent)
        self.inserter = BaseInserter()
        self.base_label = QLabel("")
        self.base_label.setWordWrap(True)
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("transferProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.hide()
        self.size_box = QComboBox()
        self.size_box.addItems(("small", "large"))
        self.sim_box = QComboBox()
        self.sim_box.addItems(("similar", "different"))
        self.advice = QLabel("")
        self.advice.setWordWrap(True)
        row = QFormLayout()
        row.addRow("My dataset is", self.size_box)
        row.addRow("and compared with the base's data it is", self.sim_box)
        box = QWidget()
        box.setLayout(row)
        self.layout_.insertWidget(0, box)
        self.layout_.insertWidget(1, self.advice)
        self.layout_.addWidget(self.base_label)
        self.layout_.addWidget(self.problem_label)
        self.layout_.addWidget(self.inserter)
        self.layout_.addStretch(1)
        self.size_box.currentTextChanged.connect(lambda _t: self.update_advice())
        self.sim_box.currentTextChanged.connect(lambda _t: self.update_advice())
        self.update_advice()
        self._show_base()

    def set_document(self, get_experiment: Callable[[], Any],
                     apply: Callable[[Any, str], None]) -> None:
        """Let the base inserter read the whole experiment and apply an undoable edit."""
        self.inserter.set_document(get_experiment, apply)

    def set_value(self, training: TrainingSpec) -> None:
        """Show this recipe and the base it names."""
        super().set_value(training)
        if hasattr(self, "base_label"):
            self._show_base()

    def show_problem(self, experiment: Any) -> None:
        """Show, in red under the base, why this transfer recipe would not train (or nothing).

        The same check as ``cnnlab validate`` and the trainer
        (:func:`cnnlab.recipe.transfer.check_transfer`), so the window names
        the problem while the user edits, not only when training starts.
        """
        from cnnlab.recipe import check_transfer

        try:
            check_transfer(experiment)
        except SpecError as exc:
            self.problem_label.setText(str(exc))
            self.problem_label.show()
            return
        except Exception:  # noqa: BLE001 - a graph the builder already reports as broken
            pass
        self.problem_label.clear()
        self.problem_label.hide()

    def _show_base(self) -> None:
        t = self.training.transfer
        if not t.base:
            self.base_label.setText("Base: none (the model starts at its Input).")
            return
        weights = t.weights if t.weights != "file" else f"file {t.weights_path}"
        self.base_label.setText(f"Base: <b>{t.base}</b> ({t.base_source}, weights {weights}, "
                                f"cut at {t.cut_at or 'the last image layer'}, "
                                f"ids {t.prefix}*)")

    def update_advice(self) -> None:
        """Ask the advisor for the chosen data size and similarity."""
        try:
            import cnnlab.recipe as recipe

            advise = getattr(recipe, "advise_transfer", None)
            if advise is None:
                from cnnlab.recipe import advise_transfer as advise
            text = advise(self.size_box.currentText(), self.sim_box.currentText())
        except Exception as exc:  # noqa: BLE001
            self.advice.setText(f"Advice unavailable: {error_text(exc)}")
            return
        self.advice.setText(str(getattr(text, "text", text)))


def regularization_panel(training: TrainingSpec | None = None) -> SectionPanel:
    """Regularization defaults and early stopping."""
    return SectionPanel(("regularization", "early_stopping"), training)


def device_panel(training: TrainingSpec | None = None) -> SectionPanel:
    """Device, precision and compilation."""
    return SectionPanel(("device",), training)
