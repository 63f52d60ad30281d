"""A guard against a reference-count defect of some PySide6 builds on Python < 3.12.

PySide6 6.12.0 ships an abi3 (stable ABI) build whose ``return None`` paths
were compiled with Python 3.12 headers, where ``None`` is immortal and needs
no reference count (CPython issue gh-134989). Loaded by Python 3.11, every
call of a void Qt method from Python (``QLabel.setText``, ``moveBy``,
``QPainter.drawRoundedRect``...) then drops one reference to ``None``; after
a few thousand calls the interpreter aborts with "Fatal Python error:
none_dealloc". The window makes that many calls in seconds.

:func:`protect_singletons` detects the defect with a harmless call and, only
when it is present, gives ``None``, ``True`` and ``False`` a reference count
so large that it can never reach zero, which is what Python 3.12 does itself.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 60


def drops_none_references() -> bool:
    """True when calling a void Qt method loses a reference to ``None``."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(16):
        point.setX(1.0)
    return sys.getrefcount(None) <= before - 16


def protect_singletons() -> bool:
    """Make ``None``/``True``/``False`` immortal when the defect is present.

    Returns:
        True when the guard was applied.
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if hasattr(sys, "gettotalrefcount"):  # a debug build has another object layout
        return False
    if not drops_none_references():
        return False
    for obj in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt comes first
        if refcount.value < _HEADROOM:
            refcount.value += _HEADROOM
    return True
