"""Never a traceback to the user: uncaught exceptions become a message and a log entry.

PySide6 hands exceptions raised in slots and event handlers to
``sys.excepthook``; the hook installed here writes the traceback to
``<workspace>/logs/window.log`` (the folder the window's entry point gives it)
and shows one readable line in a dialog naming that file.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from cnnlab import CnnlabError
from cnnlab.runs import user_data_dir
from cnnlab.ui import dialogs

log = logging.getLogger("cnnlab.ui")
_showing = False
_log_dir: Path | None = None


def log_file() -> Path:
    """Where the window's log goes (the user data folder's until :func:`install` says)."""
    return (_log_dir or user_data_dir() / "logs") / "window.log"


def setup_logging() -> None:
    """Log warnings and errors of the window to the log file."""
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def message_for(exc: BaseException) -> str:
    """One readable line for an exception."""
    if isinstance(exc, CnnlabError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return f"Something went wrong inside the lab ({type(exc).__name__}: {exc})."


def excepthook(kind: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> None:
    """Log the traceback and show a dialog instead of printing it."""
    global _showing
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    log.error("uncaught exception\n%s", "".join(traceback.format_exception(kind, exc, tb)))
    if _showing:
        return  # one dialog at a time; the rest go to the log
    _showing = True
    try:
        dialogs.error(None, "CNN Lab", f"{message_for(exc)}\n\nDetails are in {log_file()}.")
    finally:
        _showing = False


def install(log_dir: Path) -> None:
    """Install the hook, logging to ``log_dir`` (the window's entry point calls this)."""
    global _log_dir
    _log_dir = Path(log_dir)
    setup_logging()
    sys.excepthook = excepthook
