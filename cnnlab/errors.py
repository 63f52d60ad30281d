"""User-facing errors.

Every error a user can cause derives from :class:`CnnlabError`. Its message is
one readable line; the CLI prints it and exits 2, the window shows it at the
place of the problem. Anything else that escapes is a bug in the lab.
"""

from __future__ import annotations

from typing import Any


class CnnlabError(Exception):
    """An error caused by the user's input, with a one-line explanation."""


class SpecError(CnnlabError):
    """An experiment spec is invalid at ``path`` (``model.nodes[3].params.kernel_size``)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class DataError(CnnlabError):
    """A dataset cannot be found, read or used as asked."""


class ModelFileError(CnnlabError):
    """A model file cannot be loaded, or is refused as unsafe."""


class RunError(CnnlabError):
    """A run cannot be found, resumed or exported."""


def brief(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line messages.

    Safe for any value: a huge integer or a deeply nested list gives a short
    description instead of raising.
    """
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (a key in a spec path)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."
