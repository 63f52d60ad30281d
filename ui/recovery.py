"""Autosave and crash recovery.

While the document has unsaved changes, a timer writes it every 30 s to a
recovery file in the lab's user data folder (``CNNLAB_HOME`` when set; see
:func:`cnnlab.runs.workspace.user_data_dir`). A clean save or close removes
the file. On the next start a recovery file that is newer than its document
is offered for restoring.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from cnnlab import CnnlabError, Experiment, dumps, experiment_from_dict
from cnnlab.runs import home_override, user_data_dir
from cnnlab.ui.document import Document

INTERVAL_MS = 30_000


def data_dir() -> Path:
    """The lab's per-user data folder (``CNNLAB_HOME`` overrides it)."""
    return user_data_dir()


def recovery_dir() -> Path:
    """Where recovery files are kept."""
    return data_dir() / "recovery"


def recovery_file(path: Path | None) -> Path:
    """The recovery file of a document (one per document path; one for untitled)."""
    key = "untitled" if path is None else hashlib.sha1(
        str(path.resolve()).encode("utf-8")).hexdigest()[:16]
    return recovery_dir() / f"{key}.json"


@dataclass(frozen=True)
class Recovered:
    """An experiment found in a recovery file."""

    experiment: Experiment
    path: Path | None  # the document it belongs to (None: never saved)
    saved_at: float
    file: Path


def write_recovery(doc: Document) -> Path:
    """Write the document's current snapshot to its recovery file (atomically)."""
    target = recovery_file(doc.path)
    body = {"path": str(doc.path) if doc.path else None, "saved_at": time.time(),
            "experiment": json.loads(dumps(doc.experiment))}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, target)
    return target


def discard_recovery(path: Path | None) -> None:
    """Remove a document's recovery file, if any."""
    recovery_file(path).unlink(missing_ok=True)


def find_recoverable() -> Recovered | None:
    """The newest recovery file that is newer than its document, if any.

    Stale or unreadable recovery files are removed.
    """
    found = []
    for file in _recovery_files():
        item = _read(file)
        if item is None or not _newer_than_document(item):
            file.unlink(missing_ok=True)
            continue
        found.append(item)
    return max(found, key=lambda r: r.saved_at, default=None)


def _recovery_files() -> list[Path]:
    """The recovery files, those a lab before the shared data folder left included."""
    folders = [recovery_dir()]
    if home_override() is None:  # it kept them in Qt's folder (~/.local/share/CNN Lab/cnnlab)
        legacy = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        if legacy:
            folders.append(Path(legacy) / "recovery")
    return [file for folder in folders if folder.is_dir() for file in sorted(folder.glob("*.json"))]


def _read(file: Path) -> Recovered | None:
    try:
        raw = json.loads(file.read_text("utf-8"))
        exp = experiment_from_dict(raw["experiment"])
        path = Path(raw["path"]) if raw.get("path") else None
        return Recovered(exp, path, float(raw["saved_at"]), file)
    except (OSError, ValueError, KeyError, TypeError, CnnlabError):
        return None


def _newer_than_document(item: Recovered) -> bool:
    if item.path is None or not item.path.exists():
        return True
    return item.saved_at > item.path.stat().st_mtime


class Autosaver(QObject):
    """Writes the document's recovery file every ``interval_ms`` while it is dirty.

    It removes the files it wrote as soon as the document is clean again
    (saved, replaced, or undone back to the saved state); files of earlier
    sessions are left for :func:`find_recoverable`.
    """

    def __init__(self, doc: Document, interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.written: set[Path] = set()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        doc.stateChanged.connect(self._state_changed)

    def autosave(self) -> Path | None:
        """Write the recovery file now when there are unsaved changes."""
        if not self.doc.dirty:
            return None
        try:
            target = write_recovery(self.doc)
        except OSError:
            return None  # a full disk must not interrupt editing
        self.written.add(target)
        return target

    def discard(self) -> None:
        """Remove the recovery files this session wrote."""
        for file in self.written:
            file.unlink(missing_ok=True)
        self.written.clear()

    def _state_changed(self) -> None:
        if not self.doc.dirty:
            self.discard()
