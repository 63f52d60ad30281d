"""The field widgets of every generated form, one per :class:`cnnlab.Param` kind.

A block's parameters (Properties) and a recipe section's fields (Recipe tab) are
built by the same :class:`ParamEditor`, laid out by :class:`cnnlab.ui.param_form.ParamForm`:
spin boxes with the declared range for numbers, a combo box for choices, a check
box for flags, a line edit for pairs, lists, JSON and optional values (empty: not
set). A flag or a pick applies at once; typed text applies as you type, once the
typing pauses for ``TYPING_MS`` (one undo step per burst), and at once on Enter or
when the focus leaves. A value the Param refuses is shown at the field (a red mark,
the reason in its tooltip) and not applied. The tooltip is the Param's help text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from cnnlab import Param, SpecError
from cnnlab.ui.wheel_guard import WheelGuard, install_wheel_guard

__all__ = ["ERROR_STYLE", "NOT_SET", "TYPING_MS", "FloatSpin", "ParamEditor", "WheelGuard",
           "format_value", "install_wheel_guard", "parse_text"]

INT_LIMIT = 2**31 - 1
TYPING_MS = 300  # a pause this long ends a burst of typing: the value is applied
ERROR_STYLE = "border: 1.5px solid #d64545; background: #fff0f0;"
NOT_SET = "(not set)"  # the placeholder of an optional field left empty


class FloatSpin(QDoubleSpinBox):
    """A double spin box that shows ``0.0001`` rather than ``0.00010000``."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        """Shortest readable form, without an exponent."""
        text = f"{value:.8f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        """Parse what the user typed (a point or a comma)."""
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        """Acceptable when it is a number in range; Intermediate while typing one."""
        try:
            value = float(text.strip().replace(",", "."))
        except ValueError:
            partial = re.fullmatch(r"[-+]?[0-9]*[.,]?[0-9]*(e[-+]?[0-9]*)?", text.strip(),
                                   re.IGNORECASE)
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate,
                text, pos)


class ParamEditor:
    """A widget for one parameter: the one field builder of every generated form.

    Calls ``on_commit(name, value)`` with checked values and ``on_error(name, message)``
    whenever the field's error mark changes (``""``: cleared).
    """

    def __init__(self, param: Param, on_commit: Callable[[str, Any], None],
                 on_error: Callable[[str, str], None] | None = None):
        install_wheel_guard()
        self.param = param
        self.on_commit = on_commit
        self.on_error = on_error
        self.error = ""
        self._typed: Callable[[], None] | None = None
        self._loading = False
        self.widget = self._make()
        self.widget.setToolTip(self._tip())
        self.typing = QTimer(self.widget, singleShot=True, interval=TYPING_MS)
        self.typing.timeout.connect(self.flush)

    def flush(self) -> None:
        """Apply what was typed now (the typing paused, or Enter, or focus left)."""
        self.typing.stop()
        if self._typed is not None:
            typed, self._typed = self._typed, None
            typed()

    def _typing(self, apply: Callable[[], None]) -> None:
        if self._loading:
            return
        self._typed = apply
        self.typing.start()

    def _tip(self, error: str = "") -> str:
        tip = f"<b>{self.param.name}</b>: {self.param.help}<br><i>{self.param.describe()}</i>"
        return tip + (f"<br><span style='color:#d64545'>{error}</span>" if error else "")

    def _make(self) -> QWidget:
        p = self.param
        if p.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda v: self._commit(bool(v)))
        elif p.kind == "choice":
            w = QComboBox()
            w.addItems([str(c) for c in p.choices])
            w.activated.connect(lambda i: self._commit(p.choices[i]))
        elif p.kind in ("int", "float") and not p.optional:
            w = _number_box(p)
            self._spin(w)
        elif p.kind == "padding":
            w = QComboBox()
            w.setEditable(True)
            w.addItems(["valid", "same"])
            w.activated.connect(lambda _i: self._commit_text(w.currentText()))
            self._typed_text(w.lineEdit(), w.currentText)
        else:
            w = QLineEdit()
            w.setPlaceholderText(NOT_SET if p.optional else "")
            self._typed_text(w, w.text)
        return w

    def _typed_text(self, edit: QLineEdit, text: Callable[[], str]) -> None:
        """Typing applies after a pause; Enter or leaving the field applies at once."""
        edit.textEdited.connect(lambda _t: self._typing(lambda: self._commit_text(text())))
        edit.editingFinished.connect(lambda: (self.flush(), self._commit_text(text())))

    def _spin(self, w: QAbstractSpinBox) -> None:
        w.setKeyboardTracking(True)  # typing reports values; the debounce makes one edit
        w.setAccelerated(True)
        w.valueChanged.connect(lambda _v: self._spun(w))
        w.lineEdit().textEdited.connect(lambda _t: self._typing(lambda: self._commit_box(w)))
        w.editingFinished.connect(lambda: (self.flush(), self._commit_box(w)))

    def _spun(self, w: QAbstractSpinBox) -> None:
        """A set value applies at once; one the user types or steps waits for a pause."""
        if w.hasFocus():
            self._typing(lambda: self._commit_box(w))
        else:
            self._commit(w.value())

    def _commit_box(self, w: QAbstractSpinBox) -> None:
        """Apply the box's value, or show at the field why its text is refused."""
        try:
            typed = parse_text(self.param, w.cleanText().replace(",", "."))
        except ValueError as exc:
            self.show_error(str(exc))
            return
        if w.minimum() <= typed <= w.maximum():
            self._commit(w.value())  # the value the box shows (rounded to its decimals)
        else:
            self._commit(typed)  # out of range: the Param's own message

    def set_value(self, value: Any) -> None:
        """Show ``value`` without committing it."""
        self._loading = True
        try:
            w = self.widget
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox) and not w.isEditable():
                w.setCurrentIndex(max(w.findText(str(value)), 0))
            elif self._being_typed(value):
                pass  # the user's text (``3, `` on the way to ``3, 5``) stays as typed
            elif isinstance(w, QComboBox):
                w.setCurrentText(self._text(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)
            else:
                w.setText(self._text(value))
            self.show_error("")
        finally:
            self._loading = False

    def enter(self, value: Any) -> None:
        """Put ``value`` in the field and apply it as if the user had entered it."""
        self.typing.stop()
        self._typed = None
        try:
            value = self._check(value)
        except SpecError as exc:
            self.show_error(exc.message)
            return
        self.set_value(value)
        self._commit(value)

    def _text(self, value: Any) -> str:
        """What a text field shows: JSON for ``json`` kinds, else ``3, 5`` for pairs."""
        if self.param.kind == "json" and value is not None:
            return json.dumps(value)
        return format_value(value)

    def _being_typed(self, value: Any) -> bool:
        """The focused field is being typed in, and shows this value or an edit pending."""
        w = self.widget
        if not w.hasFocus():
            return False
        if self.typing.isActive():
            return True
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return w.value() == value
        text = w.currentText() if isinstance(w, QComboBox) else w.text()
        try:
            return parse_text(self.param, text) == value
        except ValueError:
            return False

    def show_error(self, message: str) -> None:
        """Mark the field (empty message: clear the mark) and tell the form."""
        self.error = message
        self.widget.setStyleSheet(ERROR_STYLE if message else "")
        self.widget.setToolTip(self._tip(message))
        if self.on_error is not None:
            self.on_error(self.param.name, message)

    def _commit_text(self, text: str) -> None:
        try:
            value = parse_text(self.param, text)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self._commit(value)

    def _check(self, value: Any) -> Any:
        if value is None and self.param.optional:
            return None
        return self.param.validate(value, self.param.name)

    def _commit(self, value: Any) -> None:
        if self._loading:
            return
        try:
            value = self._check(value)
        except SpecError as exc:
            self.show_error(exc.message)
            return
        self.show_error("")
        self.on_commit(self.param.name, value)


def _number_box(p: Param) -> QAbstractSpinBox:
    """A spin box with the declared range (floats as :class:`FloatSpin`)."""
    if p.kind == "int":
        w = QSpinBox()
        w.setRange(_bound(p.min, -INT_LIMIT), _bound(p.max, INT_LIMIT))
        return w
    w = FloatSpin()
    w.setDecimals(8)
    w.setRange(p.min if p.min is not None else -1e12, p.max if p.max is not None else 1e12)
    w.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    return w


def _bound(value: float | None, fallback: int) -> int:
    if value is None:
        return fallback
    return int(max(min(value, INT_LIMIT), -INT_LIMIT))


def format_value(value: Any) -> str:
    """The text a line edit shows for a value (pairs and lists as ``3, 5``)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, bool)):
        return json.dumps(value)
    return str(value)


def parse_text(param: Param, text: str) -> Any:
    """Turn typed text into a value of ``param``'s kind (checked later by the Param).

    Raises:
        ValueError: When the text cannot be read as such a value.
    """
    text = text.strip()
    if not text:
        if param.optional:
            return None
        raise ValueError(f"{param.name} needs a value")
    kind = param.kind
    if kind in ("str", "choice"):
        return text
    if kind == "padding" and text in ("valid", "same"):
        return text
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from None
    numbers = _numbers(text, param.name)
    if kind in ("int_or_pair", "padding"):
        if len(numbers) not in (1, 2):
            raise ValueError(f"{param.name} is one number or a pair like 3, 5")
        return numbers[0] if len(numbers) == 1 else numbers
    if kind == "int_list":
        return numbers
    if len(numbers) != 1:
        raise ValueError(f"{param.name} is one number")
    return numbers[0] if kind == "int" else float(numbers[0])


def _numbers(text: str, name: str) -> list:
    parts = [p for p in re.split(r"[\s,x×\[\]()]+", text) if p]
    out = []
    for part in parts:
        try:
            out.append(int(part))
        except ValueError:
            try:
                out.append(float(part))
            except ValueError:
                raise ValueError(f"{name}: {part!r} is not a number") from None
    if not out:
        raise ValueError(f"{name} needs a value")
    return out
