"""A form generated from :class:`~cnnlab.params.Param` declarations.

Each field edits one value; the form validates with the declaration itself
(``Param.validate``) and shows the problem next to the form instead of
raising. :meth:`ParamForm.values` returns the current, checked values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from cnnlab.params import Param
from cnnlab.ui.param_widgets import install_wheel_guard


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("json", "int_list", "int_or_pair", "padding") and not isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _parse(text: str, p: Param) -> Any:
    text = text.strip()
    if text == "" and p.optional:
        return None
    if p.kind == "int":
        return int(text)
    if p.kind == "float":
        return float(text)
    if p.kind == "str":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class ParamForm(QWidget):
    """Widgets for a list of parameters; ``edited`` fires after a valid change.

    Args:
        params: The declarations (order kept).
        values: Initial values by name (defaults where missing).

    """

    edited = Signal()

    def __init__(self, params: Sequence[Param], values: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        install_wheel_guard()
        self.params = list(params)
        self.widgets: dict[str, QWidget] = {}
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        layout = QFormLayout(self)
        for p in self.params:
            w = self._widget(p)
            w.setToolTip(f"{p.help}\n({p.describe()})")
            label = QLabel(p.name)
            label.setToolTip(p.help)
            layout.addRow(label, w)
            self.widgets[p.name] = w
        layout.addRow(self.error)
        self.set_values(values or {})

    def _widget(self, p: Param) -> QWidget:
        if p.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda _v: self._changed())
        elif p.kind == "choice":
            w = QComboBox()
            for c in p.choices:
                w.addItem(str(c), c)
            w.activated.connect(lambda _i: self._changed())
        else:
            w = QLineEdit()
            if p.optional:
                w.setPlaceholderText("(not set)")
            w.editingFinished.connect(self._changed)
        return w

    def set_values(self, values: dict[str, Any]) -> None:
        """Show these values (defaults for missing names) without emitting."""
        self.blockSignals(True)
        for p in self.params:
            value = values.get(p.name, p.default)
            w = self.widgets[p.name]
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                i = w.findData(value)
                w.setCurrentIndex(max(i, 0))
            else:
                w.setText(_text(value, p.kind))
        self.error.setText("")
        self.blockSignals(False)

    def set_value(self, name: str, value: Any) -> None:
        """Set one field and apply it as if the user had edited it."""
        w = self.widgets[name]
        p = next(q for q in self.params if q.name == name)
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
            return
        if isinstance(w, QComboBox):
            w.setCurrentIndex(max(w.findData(value), 0))
        else:
            w.setText(_text(value, p.kind))
        self._changed()

    def values(self) -> dict[str, Any]:
        """Return the checked values by name.

        Raises:
            ValueError: With a readable message naming the field.

        """
        out: dict[str, Any] = {}
        for p in self.params:
            w = self.widgets[p.name]
            if isinstance(w, QCheckBox):
                raw: Any = w.isChecked()
            elif isinstance(w, QComboBox):
                raw = w.currentData()
            else:
                try:
                    raw = _parse(w.text(), p)
                except ValueError:
                    raise ValueError(f"{p.name}: {w.text()!r} is not a valid {p.kind}") from None
            try:
                out[p.name] = p.validate(raw, p.name)
            except Exception as exc:  # noqa: BLE001 - SpecError or a type problem
                raise ValueError(str(exc)) from None
        return out

    def show_error(self, text: str) -> None:
        """Show a problem under the form ('' clears it)."""
        self.error.setText(text)

    def _changed(self) -> None:
        try:
            self.values()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.edited.emit()
