"""Steer a run into a branch: pick the epoch, change the recipe, then "Branch".

The dialog reads the parent's spec and kept epochs (through
:func:`cnnlab.train.steer_options`), builds the child's spec with
:func:`cnnlab.train.branch_spec` and shows the steer (what the child changes)
as it is edited. "Branch" checks the child's spec (a bad value is shown in
the dialog, which stays open) and emits :attr:`SteerDialog.branch` with the
child's Experiment and ``RUN@EPOCH``; whoever trains (the Training view)
calls ``run_training(experiment, ..., fork=that)``. The parent is never changed.

Open it with :func:`open_steer_dialog` (the Runs view's "Branch from this
run…") or, from the Training view, :func:`branch_training_run` (a paused run
is stopped first, then branched from its last complete epoch).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnlab.ui.views.worker import error_text

KEEP = "keep"
AUGMENTATION = (("keep", None), ("on", True), ("off", False))


class SteerDialog(QDialog):
    """Branch run ``run_id``: the child's epoch, rate, schedule, unfreezing, augmentation, epochs.

    Args:
        store: The run store (read only here).
        run_id: The parent run.
        epoch: The epoch to branch after (default: the last kept).

    Signals:
        branch: ``(Experiment, "RUN@EPOCH")`` when "Branch" is pressed with a valid steer.

    Raises:
        CnnlabError: The run cannot be read or has no kept epoch (the caller shows it).
    """

    branch = Signal(object, str)

    def __init__(self, store, run_id: str, epoch: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from cnnlab import CnnlabError
        from cnnlab.train import steer_options

        self.store, self.run_id = store, run_id
        self.options = steer_options(store, run_id)
        if not self.options.epochs:
            raise CnnlabError(f"run {run_id} has no checkpoint to branch from (it never "
                              f"completed an epoch)")
        self.parent_spec = store.spec(run_id)
        self.setWindowTitle(f"Branch from run {run_id}")
        self._build(epoch)
        self.update_steer()

    def _build(self, epoch: int | None) -> None:
        opts = self.options
        self.epoch_box = QComboBox()
        for n in opts.epochs:
            self.epoch_box.addItem(f"after epoch {n}", n)
        self.epoch_box.setCurrentIndex(opts.epochs.index(epoch) if epoch in opts.epochs
                                       else len(opts.epochs) - 1)
        self.rate_check = QCheckBox("change to")
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setDecimals(7)
        self.rate_box.setRange(0.0, 10.0)
        self.rate_box.setSingleStep(opts.learning_rate / 10 or 1e-4)
        self.rate_box.setValue(opts.learning_rate / 10)
        self.schedule_box = QComboBox()
        self.schedule_box.addItem(f"keep ({opts.schedule})", None)
        for name in opts.schedules:
            if name != opts.schedule:
                self.schedule_box.addItem(name, name)
        self.unfreeze_box = QSpinBox()
        self.unfreeze_box.setRange(0, 1000)
        self.unfreeze_box.setEnabled(opts.has_base)
        self.unfreeze_box.setToolTip("Fine-tune this many more top layers of the transfer base"
                                     if opts.has_base else "The network has no transfer base")
        self.aug_box = QComboBox()
        state = "on" if opts.augmentation else "off"
        for text, value in AUGMENTATION:
            self.aug_box.addItem(f"keep ({state})" if value is None else text, value)
        self.more_box = QSpinBox()
        self.more_box.setRange(0, 100_000)
        self.steer_text = QPlainTextEdit()
        self.steer_text.setReadOnly(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Start", self.epoch_box)
        rate = QWidget()
        row = QFormLayout(rate)
        row.setContentsMargins(0, 0, 0, 0)
        row.addRow(self.rate_check, self.rate_box)
        form.addRow(f"Learning rate ({opts.learning_rate:g})", rate)
        form.addRow("Schedule", self.schedule_box)
        form.addRow("Unfreeze more base layers", self.unfreeze_box)
        form.addRow("Augmentation", self.aug_box)
        form.addRow(f"Add epochs (it planned {self.options.epochs_planned})", self.more_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.branch_button = buttons.addButton("Branch", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.do_branch)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("The branch changes (the parent is never changed):"))
        layout.addWidget(self.steer_text, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        for signal in (self.epoch_box.currentIndexChanged, self.schedule_box.currentIndexChanged,
                       self.aug_box.currentIndexChanged, self.rate_check.toggled,
                       self.rate_box.valueChanged, self.unfreeze_box.valueChanged,
                       self.more_box.valueChanged):
            signal.connect(lambda *_a: self.update_steer())

    @property
    def fork_epoch(self) -> int:
        """The epoch chosen to branch after."""
        return int(self.epoch_box.currentData())

    @property
    def fork_text(self) -> str:
        """``RUN@EPOCH`` as ``--fork`` takes it."""
        return f"{self.run_id}@{self.fork_epoch}"

    def child_spec(self) -> dict:
        """The child's spec for the choices made (JSON data)."""
        from cnnlab.train import branch_spec

        return branch_spec(
            self.parent_spec, fork_epoch=self.fork_epoch,
            learning_rate=self.rate_box.value() if self.rate_check.isChecked() else None,
            schedule=self.schedule_box.currentData(), unfreeze_more=self.unfreeze_box.value(),
            augmentation=self.aug_box.currentData(), more_epochs=self.more_box.value())

    def update_steer(self) -> None:
        """Show what the branch changes against the parent."""
        from cnnlab import diff_specs

        self.rate_box.setEnabled(self.rate_check.isChecked())
        self.more_box.blockSignals(True)  # at least one epoch after the fork
        self.more_box.setMinimum(max(0, self.fork_epoch + 1 - self.options.epochs_planned))
        self.more_box.blockSignals(False)
        child = self.child_spec()
        lines = diff_specs(dict(self.parent_spec), child).lines()
        epochs = child["training"]["epochs"]
        head = (f"Starts from run {self.run_id}'s weights and optimizer state after epoch "
                f"{self.fork_epoch}, then trains epochs {self.fork_epoch + 1} to {epochs}.")
        self.steer_text.setPlainText("\n".join([head, *lines]))
        self.message.setText("")

    def do_branch(self) -> bool:
        """Check the child's spec; emit :attr:`branch` and close, or say what is wrong."""
        from cnnlab import experiment_from_dict

        try:
            experiment = experiment_from_dict(self.child_spec())
        except Exception as exc:  # noqa: BLE001 - shown where the user looks
            self.message.setStyleSheet("color: #b00020;")
            self.message.setText(f"Cannot branch: {error_text(exc)}")
            return False
        self.branch.emit(experiment, self.fork_text)
        self.accept()
        return True


def open_steer_dialog(parent: QWidget, store, run_id: str, epoch: int | None = None,
                      on_branch: Callable[[object, str], None] | None = None,
                      on_error: Callable[[str], None] | None = None) -> SteerDialog | None:
    """Open the steer dialog for ``run_id``; None (and ``on_error`` told why) when it cannot.

    Args:
        parent: The widget the dialog belongs to.
        store: The run store.
        run_id: The run to branch (stopped, finished, interrupted or failed).
        epoch: The epoch to preselect (default: the last kept).
        on_branch: Called with ``(Experiment, "RUN@EPOCH")`` on "Branch".
        on_error: Called with one line when the run cannot be branched.
    """
    try:
        dialog = SteerDialog(store, run_id, epoch, parent)
    except Exception as exc:  # noqa: BLE001 - one line where the user looks
        if on_error is not None:
            on_error(f"Cannot branch run {run_id}: {error_text(exc)}")
        return None
    if on_branch is not None:
        dialog.branch.connect(on_branch)
    dialog.open()
    return dialog


def branch_training_run(training, store, on_branch: Callable[[object, str], None],
                        on_error: Callable[[str], None] | None = None) -> bool:
    """Branch the Training view's run: a paused (or running) one is stopped first.

    The stop comes after the current batch; the epoch it cut short is not
    kept, so the branch starts from the last complete epoch (preselected).
    The dialog opens once the run has ended (``training.run_ended``).

    Args:
        training: The Training view (``run_id``, ``running``, ``stop()``, ``run_ended``).
        store: The run store.
        on_branch: Called with ``(Experiment, "RUN@EPOCH")`` on "Branch".
        on_error: Called with one line when there is nothing to branch.

    Returns:
        False when the view has no run to branch.
    """
    run_id = training.run_id
    if not run_id:
        if on_error is not None:
            on_error("No run to branch yet: start one and let it complete an epoch.")
        return False

    def open_dialog(_ended: str = "") -> None:
        try:
            training.run_ended.disconnect(open_dialog)
        except (RuntimeError, TypeError):  # was not connected (the run had ended)
            pass
        open_steer_dialog(training, store, run_id, None, on_branch, on_error)  # Qt owns it

    if not training.running:
        open_dialog()
        return True
    training.run_ended.connect(open_dialog)
    training.stop()  # a paused run stops too: the pause gives way to the stop
    return True
