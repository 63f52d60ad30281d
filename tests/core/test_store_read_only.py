"""Read-only workspaces (issue 13): `cnnlab runs` only reads, and works where nothing can
be written ("unable to open database file" before)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.errors import RunError
from cnnlab.runs.store import RunStore

SPEC = {"schema_version": 1, "name": "tiny", "model": {"nodes": [], "edges": [], "modules": {}},
        "training": {"epochs": 2}}

# Creates a run and dies while training it (the index still says running).
_KILLED_TRAINER = """
import os, signal, sys
from cnnlab.runs.store import RunStore
store = RunStore(sys.argv[1])
run = store.create_run({"name": "dead", "model": {}}, "dead", 4, {})
store.record_epoch(run.id, 0, {"loss": 2.0, "val_accuracy": 0.25})
print(run.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""

# Killed between making the run folder and indexing it.
_KILLED_CREATOR = """
import os, signal, sys
import cnnlab.runs.lifecycle as lifecycle
from cnnlab.runs.store import RunStore
lifecycle.insert_run = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
RunStore(sys.argv[1]).create_run({"name": "orphan", "model": {}}, "", 3, {})
"""

_CLI = "import sys; from cnnlab.cli import main; sys.exit(main(sys.argv[1:]))"


def _python(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kwargs)


def _workspace(ws: Path) -> dict[str, str]:
    """A workspace with a finished, a dead and an unindexed run, and no -wal/-shm files."""
    store = RunStore(ws)
    done = store.create_run(SPEC, "done", 2, {"deterministic": True, "device": "cpu"})
    store.record_epoch(done.id, 0, {"loss": 1.0, "val_accuracy": 0.5})
    store.record_epoch(done.id, 1, {"loss": 0.5, "val_accuracy": 0.75})
    store.record_test(done.id, {"loss": 0.625, "accuracy": 0.6875, "top5": 1.0})
    store.set_status(done.id, "finished")
    store.release(done.id)
    dead = _python(_KILLED_TRAINER, ws).stdout.strip()
    assert _python(_KILLED_CREATOR, ws).returncode == -signal.SIGKILL
    orphan = next(p.name for p in store.runs_dir.iterdir() if p.name not in (done.id, dead))
    with sqlite3.connect(store.index_path) as conn:  # as the last writer's close leaves it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.index_path}{suffix}").unlink(missing_ok=True)
    return {"done": done.id, "dead": dead, "orphan": orphan}


def _snapshot(root: Path) -> dict[str, tuple]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_runs_commands_never_write(tmp_path, capsys):
    ws = tmp_path / "ws"
    ids = _workspace(ws)
    before = _snapshot(ws)

    code, out, err = _cli(capsys, "runs", "--workspace", ws)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == set(ids.values())
    assert "0.6875" in rows[ids["done"]] and "yes" in rows[ids["done"]]
    assert "interrupted" in rows[ids["dead"]] and "interrupted" in rows[ids["orphan"]]
    assert (f"cnnlab: note: run {ids['orphan']} is missing from the index; shown from its "
            "folder as interrupted (the next command that writes indexes it)") in err

    code, out, _ = _cli(capsys, "runs", "--workspace", ws, "--json")
    listed = {row["id"]: row for row in json.loads(out)}
    assert listed[ids["done"]]["test_accuracy"] == 0.6875
    assert listed[ids["done"]]["test_top5"] == 1.0 and listed[ids["done"]]["deterministic"]
    assert listed[ids["dead"]]["status"] == "interrupted"

    code, out, _ = _cli(capsys, "runs", "show", ids["done"], "--workspace", ws)
    assert "test: loss 0.6250  accuracy 0.6875  top-5 1.0000" in out.splitlines()
    assert "reproducible: yes (training.deterministic)" in out.splitlines()
    code, out, _ = _cli(capsys, "runs", "show", ids["dead"], "--workspace", ws)
    assert "status: interrupted (its process ended without finishing)" in out
    assert "test: not evaluated" in out and "reproducible: no" in out
    code, out, _ = _cli(capsys, "runs", "show", ids["orphan"], "--workspace", ws, "--json")
    assert json.loads(out)["name"] == "orphan"
    code, out, _ = _cli(capsys, "runs", "diff", ids["done"], ids["dead"], "--workspace", ws)
    assert code == 0 and "name" in out

    assert _snapshot(ws) == before  # nothing written, created or touched


def test_read_only_store_refuses_to_write(tmp_path):
    ws = tmp_path / "ws"
    ids = _workspace(ws)
    before = _snapshot(ws)
    store = RunStore(ws, read_only=True)
    assert store.get(ids["dead"]).status == "interrupted"
    assert store.metrics(ids["done"])["loss"] == [1.0, 0.5]
    assert store.metrics(ids["orphan"]) == {}
    assert store.spec(ids["done"]) == SPEC
    store.checkpoint_dir(ids["done"])
    for write in (lambda: store.create_run(SPEC, "x", 1, {}), lambda: store.claim(ids["done"]),
                  lambda: store.record_test(ids["done"], {"loss": 1.0}),
                  lambda: store.set_status(ids["done"], "failed"),
                  lambda: store.delete(ids["done"]), store.rebuild_index):
        with pytest.raises(RunError, match="is open read-only"):
            write()
    assert _snapshot(ws) == before
    assert RunStore(tmp_path / "none", read_only=True).list_runs() == []
    assert not (tmp_path / "none").exists()


def test_read_only_store_sees_what_a_live_writer_has_not_checkpointed(tmp_path):
    store = RunStore(tmp_path / "ws")
    run = store.create_run(SPEC, "live", 2, {})
    keeper = sqlite3.connect(store.index_path)  # keeps the WAL from being checkpointed away
    try:
        keeper.execute("SELECT count(*) FROM runs").fetchone()
        store.record_epoch(run.id, 0, {"val_accuracy": 0.5})
        assert Path(f"{store.index_path}-wal").stat().st_size > 0
        reader = RunStore(store.workspace, read_only=True)
        assert reader.get(run.id).best_val_accuracy == 0.5
    finally:
        keeper.close()


def _read_only_runner(ws: Path) -> list[str] | None:
    """A command prefix under which ``ws`` cannot be written (None where none works).

    A read-only bind mount in a private mount namespace (``unshare -rm``): EROFS for
    everyone, root included; else, as an ordinary user, ``chmod -R a-w``.
    """
    mount = (f'mount --bind "{ws}" "{ws}" && mount -o remount,bind,ro "{ws}" && '
             'exec "$@"')
    prefix = ["unshare", "-rm", "sh", "-c", mount, "sh"]
    if shutil.which("unshare"):
        probe = subprocess.run([*prefix, "sh", "-c", f'! touch "{ws}/probe" 2>/dev/null'],
                               capture_output=True, timeout=30)
        if probe.returncode == 0 and not (ws / "probe").exists():
            return prefix
    if os.geteuid() != 0:
        for path in [ws, *ws.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return []
    return None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX mounts and permissions")
def test_runs_on_a_workspace_that_cannot_be_written(tmp_path):
    ws = tmp_path / "ws"
    ids = _workspace(ws)
    prefix = _read_only_runner(ws)
    if prefix is None:
        pytest.skip("no way to make a folder read-only for root here")
    try:
        def cli(*args):
            return subprocess.run([*prefix, sys.executable, "-c", _CLI, *map(str, args)],
                                  capture_output=True, text=True, timeout=120)

        listed = cli("runs", "--workspace", ws)
        assert listed.returncode == 0, listed.stderr
        assert ids["done"] in listed.stdout and "0.6875" in listed.stdout
        shown = cli("runs", "show", ids["done"], "--workspace", ws, "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["test_accuracy"] == 0.6875
        diffed = cli("runs", "diff", ids["done"], ids["dead"], "--workspace", ws)
        assert diffed.returncode == 0, diffed.stderr
        # what failed before: opening the index for writing; a writer still fails, in one line
        wrote = subprocess.run(
            [*prefix, sys.executable, "-c", "import sys; from cnnlab.runs.store import "
             "RunStore; RunStore(sys.argv[1]).rename(sys.argv[2], 'x')", str(ws), ids["done"]],
            capture_output=True, text=True, timeout=120)
        assert wrote.returncode != 0 and "cnnlab.errors.RunError" in wrote.stderr
        assert not Path(f"{ws}/index.sqlite-wal").exists()
    finally:
        for path in [ws, *ws.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
