"""Per-model cache of derived models and traced functions.

Entries are keyed weakly by the model, so they disappear with it. A cached
value must never hold a reference to the model itself (only to its layers and
tensors), or the model would be kept alive.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_ENTRIES: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


def cached(model: Any, key: Hashable, factory: Callable[[], T]) -> T:
    """Return the value cached for ``(model, key)``, building it with ``factory`` once.

    Args:
        model: The model the value derives from (held weakly).
        key: What the value is, e.g. ``("features", ("conv1", "conv2"))``.
        factory: Builds the value; it must not capture ``model`` in the result.

    Returns:
        The cached value.

    """
    with _LOCK:
        entry = _ENTRIES.get(model)
        if entry is None:
            entry = _ENTRIES[model] = {}
        if key not in entry:
            entry[key] = factory()
        return entry[key]


def forget(model: Any) -> None:
    """Drop everything cached for ``model`` (e.g. after its graph was changed)."""
    with _LOCK:
        _ENTRIES.pop(model, None)
