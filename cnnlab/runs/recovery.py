"""Recovery of a workspace: what killed processes left, and a lost index.

The run folders are the truth and the index a view of them (see
:mod:`cnnlab.runs.workspace`). A process killed at the wrong moment leaves
a run folder the index does not know, half-written temporary files, or a
``.deleting-*`` folder; a deleted or corrupted index loses every row. This
module puts that right for :class:`cnnlab.runs.store.RunStore`
(:func:`recover` when a writable store opens, :func:`rebuild_index`), and
lets a read-only store list the folders missing from the index without
writing anything (:func:`unindexed_row`, :func:`unindexed_rows`).

Pure Python and sqlite3; no TensorFlow.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnlab.runs.index import IndexUnreadable
from cnnlab.runs.liveness import release_folder, try_claim_folder
from cnnlab.runs.records import INTERRUPTED, RUNNING
from cnnlab.runs.rows import folder_row, folder_status, insert_folder_run
from cnnlab.runs.workspace import (
    FolderRun,
    newest_change,
    only_lab_leftovers,
    orphan_notes,
    read_run_folder,
    remove_paths,
    run_folders,
    stale_temp_paths,
    trash_folders,
)

if TYPE_CHECKING:
    from cnnlab.runs.store import RunStore

# A temporary file changed more recently than this may still be being written.
STALE_TEMP_AGE_S = 60.0


def recover(store: RunStore) -> list[str]:
    """Tidy what killed processes left in a store's workspace (a read-only store: nothing).

    - ``runs/.deleting-*`` folders of a killed :meth:`RunStore.delete` are removed.
    - A run folder without an index row (its process was killed between
      making the folder and indexing it) is indexed from its
      ``spec.json``/``metadata.json`` as ``interrupted`` (or as the
      finished/stopped/failed status its ``metadata.json`` gives). A folder
      holding only the lab's claim and temporary files is removed; any other
      folder without a readable ``spec.json`` is named in a note, untouched.
    - The lab's temporary files (``.NAME.tmp-*``, see :mod:`cnnlab.atomic`)
      anywhere in a run folder are removed, unless a live process claims
      or runs the run, or the file changed in the last STALE_TEMP_AGE_S.

    Nothing else is ever removed.

    Args:
        store: The store whose workspace to tidy.

    Returns:
        One-line notes on what was found or done (none when there was nothing).

    """
    if store.read_only or not store.runs_dir.is_dir():
        return []
    remove_paths(trash_folders(store.runs_dir))
    rows = {row["id"]: row for row in store._select_runs(None)}
    stale = time.time() - STALE_TEMP_AGE_S
    indexed, not_runs, removed = {}, [], 0
    for folder in run_folders(store.runs_dir):
        row = rows.get(folder.name)
        if row is None:
            status = _index_orphan(store, folder, stale)
            if status == "not a run":
                not_runs.append(folder)
            elif status:
                indexed[folder.name] = status
        elif row["status"] != RUNNING or store._is_dead(row):
            removed += _remove_temp_files(folder, stale)
    notes = orphan_notes(indexed, not_runs, read_only=False)
    if removed:
        notes.append(f"removed {removed} temporary file(s) that killed processes left "
                     f"in {store.runs_dir}")
    return notes


def _remove_temp_files(folder: Path, stale: float) -> int:
    paths = stale_temp_paths(folder, stale)
    if not paths or not try_claim_folder(folder):
        return 0
    try:
        return remove_paths(paths)
    finally:
        release_folder(folder)


def _index_orphan(store: RunStore, folder: Path, stale: float) -> str | None:
    """Index a run folder that has no index row (see :func:`recover`).

    Returns:
        The status it was indexed with, "not a run", or None (nothing done).

    """
    entry = read_run_folder(folder)
    if entry is None:
        return _leftover_folder(folder, stale)
    if not try_claim_folder(folder):
        return None  # its process is making it right now
    try:
        remove_paths(stale_temp_paths(folder, stale))
        status = folder_status(entry)
        if status == RUNNING:
            status = INTERRUPTED
        entry.row.update(status=status, message=None if status != INTERRUPTED else
                         "its process was killed before the run was indexed")
        with store._index.write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (folder.name,)).fetchone():
                return None
            insert_folder_run(conn, entry)
            store._write_metadata(conn, folder.name)
    finally:
        release_folder(folder)
    return status


def _leftover_folder(folder: Path, stale: float) -> str | None:
    """Remove a folder of only the lab's leftovers; "not a run" for anything else old."""
    if only_lab_leftovers(folder, stale) and try_claim_folder(folder):
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            release_folder(folder)
        return None
    if only_lab_leftovers(folder, math.inf) or newest_change(folder) >= stale:
        return None  # being made right now, or already gone
    return "not a run"


def rebuild_index(store: RunStore) -> int:
    """Re-create a store's index from its run folders (after it was deleted or corrupted).

    An unreadable index file is moved aside as ``index.sqlite.corrupt-<time>``.

    Args:
        store: A writable store.

    Returns:
        How many runs were indexed.

    Raises:
        RunError: The store is read-only, or the index cannot be written.

    """
    store._check_writable()
    entries = []
    if store.runs_dir.is_dir():
        for folder in sorted(store.runs_dir.iterdir()):
            entry = read_run_folder(folder)
            if entry is not None:
                entries.append(entry)
    try:
        _replace_all(store, entries)
    except IndexUnreadable:
        store._index.discard()
        _replace_all(store, entries)
    return len(entries)


def _replace_all(store: RunStore, entries: list[FolderRun]) -> None:
    with store._index.write() as conn:
        for table in ("metrics", "tags", "specs", "runs"):
            conn.execute(f"DELETE FROM {table}")
        for entry in entries:
            insert_folder_run(conn, entry)


def unindexed_row(runs_dir: Path, run_id: str) -> dict[str, Any] | None:
    """Read-only: the row of a run folder missing from the index, with its metrics.

    Args:
        runs_dir: The workspace's ``runs`` folder.
        run_id: The run (the folder's name).

    Returns:
        The row as the index would hold it, plus ``folder_metrics`` (the
        ``(epoch, name, value)`` rows of its ``metrics.json``); None when
        there is no such run folder or it is not a readable run.

    """
    if run_id not in {folder.name for folder in run_folders(runs_dir)}:
        return None
    entry = read_run_folder(runs_dir / run_id)
    if entry is None:
        return None
    return dict(folder_row(entry), folder_metrics=[m[1:] for m in entry.metrics])


def unindexed_rows(runs_dir: Path, known: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Read-only: rows for run folders missing from the index, read from the folders.

    Args:
        runs_dir: The workspace's ``runs`` folder.
        known: The run ids the index has.

    Returns:
        The rows, and one-line notes on the folders found (listed runs, and
        folders that are not readable runs).

    """
    rows, not_runs = [], []
    for folder in run_folders(runs_dir):
        if folder.name in known:
            continue
        entry = read_run_folder(folder)
        if entry is None:
            not_runs.append(folder)
        else:
            rows.append(folder_row(entry))
    shown = {row["id"]: row["status"] for row in rows}
    return rows, orphan_notes(shown, not_runs, read_only=True)
