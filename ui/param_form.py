"""The one form builder: a form generated from :class:`cnnlab.Param` declarations.

Properties (a block's or a module instance's parameters) and every recipe panel
(data, optimizer, schedule, augmentation, regularization, transfer, device) build
their fields here, so a field of one Param kind looks and behaves the same
everywhere: the widget of :class:`~cnnlab.ui.param_widgets.ParamEditor`, the
Param's help as tooltip, the declared range, applied as you type (a pause of
``TYPING_MS``, Enter or leaving the field), a refused value marked at its field
and named in the line under the form.

A form that knows where its fields live in the experiment (``path``, e.g.
``training.optimizer``) offers "Sweep this…" on a right-click of a field or its
name; :data:`sweep_requests` carries the request to the Studies view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QWidget,
)

from cnnlab import Param
from cnnlab.ui.param_widgets import ParamEditor, install_wheel_guard

ERROR_COLOR = "color: #d64545;"
SWEEP_TEXT = "Sweep this…"


class SweepRequests(QObject):
    """Where "Sweep this…" requests go: ``requested(path, param)``, one per right-click choice.

    ``path`` is the field's experiment path (``training.optimizer.learning_rate``,
    ``model.nodes[conv1].params.filters``); ``param`` its :class:`cnnlab.Param`.
    """

    requested = Signal(str, object)


sweep_requests = SweepRequests()


class ParamForm(QWidget):
    """One row per parameter (its name, its field) and an error line under them.

    Args:
        params: The declarations (order kept).
        values: Initial values by name (defaults where missing).
        path: The experiment path of the fields' section (``training.optimizer``);
            with it each field offers "Sweep this…" on a right-click.

    Signals:
        edited(str, object): A field applied a value its Param accepts (one edit).
    """

    edited = Signal(str, object)

    def __init__(self, params: Sequence[Param], values: Mapping[str, Any] | None = None,
                 parent: QWidget | None = None, path: str | None = None) -> None:
        super().__init__(parent)
        self.path = path
        install_wheel_guard()
        self.params = list(params)
        self.editors: dict[str, ParamEditor] = {}
        self._values: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self.error = QLabel("")
        self.error.setStyleSheet(ERROR_COLOR)
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for p in self.params:
            editor = ParamEditor(p, self._committed, self._field_error)
            label = QLabel(p.name)
            label.setToolTip(p.help)
            layout.addRow(label, editor.widget)
            self.editors[p.name] = editor
            if path:
                for widget in (label, editor.widget):
                    _offer_sweep(widget, f"{path}.{p.name}", p)
        layout.addRow(self.error)
        self.set_values(values or {})

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show these values (defaults for missing names) without applying; clears errors."""
        for p in self.params:
            value = values.get(p.name, p.default)
            self._values[p.name] = value
            self.editors[p.name].set_value(value)
        self._errors.clear()
        self._show_errors()

    def set_value(self, name: str, value: Any) -> None:
        """Enter ``value`` in field ``name`` as the user would (applied, or refused at it)."""
        self.editors[name].enter(value)

    def values(self) -> dict[str, Any]:
        """The values shown, by name: the last applied ones (refused text is not among them)."""
        return dict(self._values)

    def flush(self) -> None:
        """Apply now what is being typed in any field."""
        for editor in self.editors.values():
            editor.flush()

    def show_error(self, message: str, name: str | None = None) -> None:
        """Show a refused edit at field ``name`` (None: the form) and in the error line."""
        if name in self.editors:
            self.editors[name].show_error(message)
        else:
            self._field_error("", message)

    def refuse(self, exc: Exception, edited: str | None = None) -> None:
        """Show why the section refused an edit: at the field its path names, else ``edited``.

        Args:
            exc: The section check's error (a SpecError names the path of the problem).
            edited: The field just edited (None: the form's error line only).
        """
        named = str(getattr(exc, "path", "")).rsplit(".", 1)[-1]
        message = getattr(exc, "message", "") or str(exc)
        self.show_error(message, named if named in self.editors else edited)

    def _committed(self, name: str, value: Any) -> None:
        self._values[name] = value
        self.edited.emit(name, value)

    def _field_error(self, name: str, message: str) -> None:
        self._errors.pop(name, None)
        if message:
            self._errors[name] = message  # the newest error is the one shown
        self._show_errors()

    def _show_errors(self) -> None:
        text = next(reversed(self._errors.values()), "")
        self.error.setText(text)
        self.error.setVisible(bool(text))


def _offer_sweep(widget: QWidget, path: str, param: Param) -> None:
    """Add "Sweep this…" to the widget's right-click menu (after its own entries, if any)."""
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    widget.customContextMenuRequested.connect(
        lambda pos: _sweep_menu(widget, path, param).exec(widget.mapToGlobal(pos)))


def _sweep_menu(widget: QWidget, path: str, param: Param) -> QMenu:
    """The widget's standard menu (copy, paste...) with "Sweep this…" at the end."""
    edit = widget.lineEdit() if isinstance(widget, (QAbstractSpinBox, QComboBox)) else widget
    if isinstance(edit, QLineEdit):
        menu = edit.createStandardContextMenu()
        menu.addSeparator()
    else:
        menu = QMenu(widget)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    action = menu.addAction(SWEEP_TEXT)
    action.setToolTip(f"Start a study that varies {path}")
    action.triggered.connect(lambda: sweep_requests.requested.emit(path, param))
    return menu
