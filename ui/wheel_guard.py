"""The mouse wheel changes a combo or spin box only when the box has the keyboard focus.

:func:`install_wheel_guard` puts one :class:`WheelGuard` on the application (the app
does it at start; every generated form does it too, for forms built without the app).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget


class WheelGuard(QObject):
    """Combo and spin boxes take the mouse wheel only when they have the keyboard focus.

    Unfocused, the wheel event is passed on to the parent (the form's scroll area
    scrolls), so scrolling a form never changes a setting unseen; a click or Tab
    gives the box focus, and then the wheel steps its value. Installed once on the
    application, it covers every combo and spin box, also those made later.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Refuse the wheel to unfocused boxes; no focus from the wheel alone."""
        kind = event.type()
        if kind == QEvent.Type.Polish and _wheel_box(watched):
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and _wheel_box(watched) and not watched.hasFocus():
            _pass_on(watched, event)
            return True
        return False


def _pass_on(box: QWidget, event: QWheelEvent) -> None:
    """Offer the wheel to the box's parents in turn, as Qt does with an ignored one."""
    widget = box.parentWidget()
    while widget is not None:
        glob = event.globalPosition()
        clone = QWheelEvent(widget.mapFromGlobal(glob), glob, event.pixelDelta(),
                            event.angleDelta(), event.buttons(), event.modifiers(),
                            event.phase(), event.inverted(), event.source())
        clone.ignore()
        QApplication.sendEvent(widget, clone)
        if clone.isAccepted() or widget.isWindow():
            break
        widget = widget.parentWidget()
    event.accept()


def _wheel_box(obj: QObject) -> bool:
    return isinstance(obj, (QComboBox, QAbstractSpinBox))


def install_wheel_guard() -> WheelGuard | None:
    """Install the :class:`WheelGuard` on the running application (once; idempotent)."""
    app = QApplication.instance()
    if app is None:
        return None
    guard = app.findChild(WheelGuard, "cnnlabWheelGuard")
    if guard is None:
        guard = WheelGuard(app)
        guard.setObjectName("cnnlabWheelGuard")
        app.installEventFilter(guard)
        for widget in app.allWidgets():  # boxes polished before the guard came
            if _wheel_box(widget) and widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return guard
