"""What the window remembers between sessions: layout, recent files, last folder.

Stored with QSettings: an ini file in ``CNNLAB_HOME`` when that is set (tests,
portable installs; :func:`cnnlab.runs.workspace.home_override`), the
platform's usual place for settings otherwise.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from cnnlab.runs import home_override

MAX_RECENT = 8


def _qsettings() -> QSettings:
    home = home_override()
    if home is not None:
        return QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    return QSettings("CNN Lab", "cnnlab")


class LabSettings:
    """Typed access to the window's settings."""

    def __init__(self, store: QSettings | None = None):
        self.store = store or _qsettings()

    def recent_files(self) -> list[str]:
        """Recently opened or saved files, newest first (missing ones dropped)."""
        raw = self.store.value("recent_files", [])
        if isinstance(raw, str):
            raw = [raw]
        return [p for p in (raw or []) if isinstance(p, str) and Path(p).exists()]

    def add_recent(self, path: str | Path) -> list[str]:
        """Put ``path`` first in the recent files; return the new list."""
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.store.setValue("recent_files", files)
        return files

    def last_dir(self) -> str:
        """The folder of the last file dialog."""
        return str(self.store.value("last_dir", str(Path.home())))

    def set_last_dir(self, path: str | Path) -> None:
        """Remember the folder of ``path``."""
        self.store.setValue("last_dir", str(Path(path).parent))

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window's geometry and dock layout."""
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)
        self.store.sync()

    def window_geometry(self) -> QByteArray | None:
        """The saved geometry, if any."""
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        """The saved dock layout, if any."""
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) else None
