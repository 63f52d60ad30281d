"""The workspace on disk: its location, run ids and run folder documents.

A workspace is a directory holding ``index.sqlite`` (see
:mod:`cnnlab.runs.index`) and ``runs/<id>/`` folders with ``spec.json``,
``metadata.json`` and ``metrics.json``. The folders are the truth; the index
is a fast view of them that :func:`read_run_folder` can rebuild.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from cnnlab.atomic import atomic_write_json, atomic_write_text
from cnnlab.runs.liveness import CLAIM_FILENAME

INDEX_NAME = "index.sqlite"
RUNS_DIRNAME = "runs"
APP_DIRNAME = "cnnlab"
HOME_ENV = "CNNLAB_HOME"


def home_override() -> Path | None:
    """The folder ``$CNNLAB_HOME`` names (tests, portable installs), or None when unset."""
    override = os.environ.get(HOME_ENV, "").strip()
    return Path(override).expanduser() if override else None


def user_data_dir() -> Path:
    """Return the lab's per-user data folder: the default workspace, recovery files, logs.

    :func:`home_override` wins when set; otherwise platformdirs' user data
    folder for ``cnnlab``: ``$XDG_DATA_HOME/cnnlab`` or ``~/.local/share/cnnlab``
    on Linux, ``~/Library/Application Support/cnnlab`` on macOS, the roaming
    ``%APPDATA%/cnnlab`` on Windows (where the lab kept it before platformdirs).

    Returns:
        The (not necessarily existing) folder.

    """
    override = home_override()
    if override is not None:
        return override
    return Path(platformdirs.user_data_dir(APP_DIRNAME, appauthor=False, roaming=True))


def default_workspace() -> Path:
    """Return the workspace directory used when none is given: :func:`user_data_dir`."""
    return user_data_dir()


def resolve_workspace(path: str | os.PathLike | None = None) -> Path:
    """Return the explicit ``path`` if given, else :func:`default_workspace`.

    Args:
        path: The CLI's ``--workspace`` or the window's choice; ``None`` for the default.

    Returns:
        An absolute workspace path.

    """
    chosen = Path(path).expanduser() if path is not None else default_workspace()
    return chosen.resolve()


def workspace_writable(path: str | os.PathLike) -> bool:
    """Whether this process may write in a workspace (its folder, or where it would be made).

    Args:
        path: The workspace folder (it need not exist).

    Returns:
        False on a read-only file system or without write permission.

    """
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    files = [probe / INDEX_NAME] if (probe / INDEX_NAME).exists() else []
    return all(os.access(p, os.W_OK) for p in [probe, *files])


def iso_time(t: float | None) -> str | None:
    """Format seconds since the epoch as an ISO 8601 UTC string (None stays None)."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def parse_iso_time(text: Any) -> float | None:
    """Parse what :func:`iso_time` wrote; None for anything unreadable."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def new_run_id(now: float | None = None) -> str:
    """Return a readable, sortable run id: UTC time plus 4 random hex digits.

    Args:
        now: The creation time; defaults to the current time.

    Returns:
        An id such as ``20261124-153012-a1b2``.

    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


# -- the run folder's documents ---------------------------------------------------

RUN_KEYS = ("id", "name", "status", "message", "label", "params", "macs", "epochs_planned",
            "pid", "hostname")
# The test-set metrics (Keras's names, as in metadata.json's "test") -> index columns.
TEST_KEYS = {"loss": "test_loss", "accuracy": "test_accuracy", "top5": "test_top5"}
_FOLDER_TYPES = {"status": str, "message": str, "label": str, "hostname": str,
                 "params": int, "macs": int, "epochs_planned": int, "pid": int}


def write_metadata(folder: Path, row: Mapping[str, Any], tags: Iterable[str]) -> None:
    """Write ``metadata.json``: the caller's metadata, times, and the run's bookkeeping.

    Args:
        folder: The run folder.
        row: The run's index row (with its ``metadata`` JSON text).
        tags: The run's tags.

    """
    doc = json.loads(row["metadata"] or "{}")
    run = {key: row[key] for key in RUN_KEYS}
    run.update(tags=list(tags), created_at=iso_time(row["created_at"]),
               updated_at=iso_time(time.time()))
    doc.update(started_at=iso_time(row["started_at"]), ended_at=iso_time(row["ended_at"]),
               run=run)
    test = {name: row[column] for name, column in TEST_KEYS.items()
            if column in row.keys() and row[column] is not None}
    if test:
        doc["test"] = test
    atomic_write_json(folder / "metadata.json", doc)


def write_metrics(folder: Path, rows: Iterable[tuple[int, str, float | None]]) -> None:
    """Write ``metrics.json`` from (epoch, name, value) rows; non-finite values as null."""
    epochs: dict[int, dict[str, float | None]] = {}
    for epoch, name, value in rows:
        finite = value is not None and math.isfinite(value)
        epochs.setdefault(epoch, {})[name] = value if finite else None
    lines = [json.dumps({"epoch": e, "metrics": m}, sort_keys=True)
             for e, m in sorted(epochs.items())]
    # One compact line per epoch: readable, and fast to rewrite after every epoch.
    atomic_write_text(folder / "metrics.json", '{"epochs": [\n' + ",\n".join(lines) + "\n]}\n")


def read_json(path: Path) -> Any:
    """Return a JSON file's data, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class FolderRun:
    """What a run folder says about its run, for rebuilding the index."""

    row: dict[str, Any]
    metadata: dict[str, Any]
    spec: dict[str, Any]
    tags: list[str]
    metrics: list[tuple[str, int, str, float | None]]


def read_run_folder(folder: Path) -> FolderRun | None:
    """Read a run folder back (None unless it has a readable ``spec.json``)."""
    spec = read_json(folder / "spec.json")
    if folder.name.startswith(".") or not isinstance(spec, dict):
        return None
    meta = read_json(folder / "metadata.json")
    meta = meta if isinstance(meta, dict) else {}
    run = meta.pop("run", None)
    run = run if isinstance(run, dict) else {}
    started, ended = meta.pop("started_at", None), meta.pop("ended_at", None)
    row = {key: _typed(run.get(key), kind) for key, kind in _FOLDER_TYPES.items()}
    test = meta.pop("test", None)
    test = test if isinstance(test, dict) else {}
    row.update({column: _number(test.get(name)) for name, column in TEST_KEYS.items()})
    row.update(
        id=folder.name, name=str(run.get("name") or spec.get("name") or folder.name),
        created_at=parse_iso_time(run.get("created_at")) or _id_time(folder),
        started_at=parse_iso_time(started), ended_at=parse_iso_time(ended),
        heartbeat_at=parse_iso_time(run.get("updated_at")),
    )
    if row.get("epochs_planned") is None:  # killed before metadata.json: the snapshot says
        training = spec.get("training")
        row["epochs_planned"] = (_typed(training.get("epochs"), int)
                                 if isinstance(training, dict) else None)
    tags = [t for t in run.get("tags") or [] if isinstance(t, str) and t.strip()]
    return FolderRun(row, meta, spec, tags, _folder_metrics(folder))


def _typed(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _folder_metrics(folder: Path) -> list[tuple[str, int, str, float | None]]:
    doc = read_json(folder / "metrics.json")
    items = doc.get("epochs") if isinstance(doc, dict) else None
    rows: list[tuple[str, int, str, float | None]] = []
    for item in items if isinstance(items, list) else []:
        epoch = _typed(item.get("epoch"), int) if isinstance(item, dict) else None
        values = item.get("metrics") if epoch is not None else None
        if epoch is not None and epoch >= 0 and isinstance(values, dict):
            rows += [(folder.name, epoch, str(k), None if v is None else float(v))
                     for k, v in values.items() if v is None or isinstance(v, (int, float))]
    return rows


def _id_time(folder: Path) -> float:
    try:
        parsed = datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S")
        return parsed.replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return folder.stat().st_mtime


# -- what killed processes leave behind ------------------------------------------------

# cnnlab.atomic's temporary names: "." + target name + ".tmp-" + mkstemp's 8 characters
# + the target's suffix; and RunStore.delete's folders on their way out.
_TEMP_NAME = re.compile(r"\..+\.tmp-[a-z0-9_]{8}(\.[A-Za-z0-9_]+)*")
_TRASH_NAME = re.compile(r"\.deleting-\d{8}-\d{6}-[0-9a-f]{4}-[0-9a-f]{4}")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of :mod:`cnnlab.atomic`'s temporary names (``.NAME.tmp-*``)."""
    return _TEMP_NAME.fullmatch(name) is not None


def stale_temp_paths(folder: Path, older_than: float) -> list[Path]:
    """The lab's temporary files and folders anywhere under ``folder``, unchanged since a time.

    Symbolic links are neither followed nor returned; a temporary folder (a
    SavedModel being written) counts as changed when anything inside it changed.

    Args:
        folder: A run folder.
        older_than: Seconds since the epoch; newer temporary files may still be written.

    Returns:
        The paths, deepest last.

    """
    found = []
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(root) / name
            if is_temp_name(name) and newest_change(path) < older_than:
                found.append(path)
        dirs[:] = [d for d in dirs if not is_temp_name(d)]
    return found


def newest_change(path: Path) -> float:
    """Return the newest modification time in ``path`` (inf for a link or what cannot be read)."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return math.inf
        newest = info.st_mtime
        if stat.S_ISDIR(info.st_mode):
            for root, dirs, files in os.walk(path):
                for name in [*dirs, *files]:
                    newest = max(newest, (Path(root) / name).lstat().st_mtime)
        return newest
    except OSError:
        return math.inf


def remove_paths(paths: Iterable[Path]) -> int:
    """Remove files and folders (never through a link); return how many went."""
    removed = 0
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed += 1
    return removed


def trash_folders(runs_dir: Path) -> list[Path]:
    """Folders a killed :meth:`RunStore.delete` was removing (``.deleting-<id>-xxxx``)."""
    return [p for p in _entries(runs_dir)
            if _TRASH_NAME.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]


def run_folders(runs_dir: Path) -> list[Path]:
    """The run folders of a workspace (folders not starting with ``.``), sorted by name."""
    return sorted(p for p in _entries(runs_dir) if not p.name.startswith(".") and p.is_dir())


def only_lab_leftovers(folder: Path, older_than: float) -> bool:
    """Whether a folder holds nothing but the lab's claim file and stale temporary files.

    That is what a process killed right after creating a run folder leaves.
    """
    if folder.is_symlink() or newest_change(folder) >= older_than:
        return False
    return all(p.name == CLAIM_FILENAME or (is_temp_name(p.name) and p.is_file())
               for p in _entries(folder))


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def orphan_notes(found: dict[str, str], not_runs: list[Path], read_only: bool) -> list[str]:
    """Notes on run folders missing from the index and on folders in ``runs/`` that are not runs.

    Args:
        found: Run id -> the status it was indexed (or, read-only, shown) with.
        not_runs: Folders without a readable ``spec.json``.
        read_only: Whether the runs were only shown, not indexed.

    Returns:
        At most two lines: one for the runs, one for the folders that are not runs.

    """
    notes = []
    verb, done = ("is", "shown") if read_only else ("was", "indexed")
    later = " (the next command that writes indexes it)" if read_only else ""
    if len(found) == 1:
        ((run_id, status),) = found.items()
        notes.append(f"run {run_id} {verb} missing from the index; {done} from its folder "
                     f"as {status}{later}")
    elif found:
        verb = "are" if read_only else "were"
        notes.append(f"{len(found)} runs {verb} missing from the index ({_listing(found)}); "
                     f"{done} from their folders as {_listing(sorted(set(found.values())))}"
                     f"{later}")
    if len(not_runs) == 1:
        notes.append(f"{not_runs[0]} is not a run (no readable spec.json); left as it is")
    elif not_runs:
        notes.append(f"{len(not_runs)} folders in {not_runs[0].parent} are not runs (no "
                     f"readable spec.json): {_listing(p.name for p in not_runs)}; left as they are")
    return notes


def _listing(names: Iterable[str], limit: int = 3) -> str:
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
