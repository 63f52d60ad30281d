"""What a kill trial's workspace shows: run folders, temporary files, checkpoints, index rows.

Read without the lab's code (plain files and a read-only SQLite query), so a
finding never depends on the code under test. Part of ``tools/kill_trials.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path

TEMP_MARK = ".tmp-"


def run_folders(workspace: Path) -> list[Path]:
    """The folders under ``workspace/runs`` (a trial's workspace holds one run at most)."""
    runs = workspace / "runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def temp_files(folder: Path) -> list[str]:
    """The lab's temporary files (``.NAME.tmp-*``) anywhere under ``folder``, relative."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            if name.startswith(".") and TEMP_MARK in name:
                found.append(str((Path(root) / name).relative_to(folder)))
    return sorted(found)


def epochs_checkpointed(folder: Path) -> int:
    """``epochs_done`` of the run's ``checkpoints/state.json`` (0 when none is readable)."""
    try:
        state = json.loads((folder / "checkpoints" / "state.json").read_text(encoding="utf-8"))
        return int(state.get("epochs_done", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def indexed(workspace: Path, run_id: str) -> bool:
    """Whether the workspace's index has a row for the run (read-only, no lab code)."""
    index = workspace / "index.sqlite"
    if not index.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True)) as db:
            return db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None
    except sqlite3.Error:  # killed while the index was being made
        return False


def folder_state(workspace: Path) -> str:
    """What the run folder holds: checkpointed epochs, temporary files, model.keras."""
    folders = run_folders(workspace)
    if not folders:
        return "no run folder"
    folder = folders[0]
    if not (folder / "spec.json").is_file():
        return f"folder without spec.json ({', '.join(sorted(os.listdir(folder))) or 'empty'})"
    parts = [f"{epochs_checkpointed(folder)} epoch(s) checkpointed",
             "indexed" if indexed(workspace, folder.name) else "no index row"]
    temps = temp_files(folder)
    if temps:
        parts.append("temp " + ", ".join(temps))
    if (folder / "model.keras").is_file():
        parts.append("model.keras")
    return ", ".join(parts)
