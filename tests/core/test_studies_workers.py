"""Studies across processes: two local workers, Ctrl-C, a killed worker, PostgreSQL.

Every test here starts `cnnlab study run` worker processes (each imports
TensorFlow), so they are slow; test_studies_run.py covers the same trial and
resume paths in this process (test_a_stopped_study_resumes_its_trial_and_counts_it_once).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from core.test_studies_run import tiny_experiment

from cnnlab.cli import main
from cnnlab.runs.store import RunStore
from cnnlab.studies import load_study, new_study, run_study, study_summary

LR = "training.optimizer.learning_rate"
pytestmark = pytest.mark.slow


def run_workers_cli(study_path, ws, *extra):
    """`cnnlab study run STUDY --workers 2 --json` in this process; the summary it prints."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["study", "run", str(study_path), "--workers", "2", "--workspace", str(ws),
                     "--json", *map(str, extra)])
    assert code == 0
    return json.loads(out.getvalue().strip().splitlines()[-1])


def assert_two_workers_finished(summary, ws, budget):
    trials = summary["trials"]
    assert summary["finished"] == budget and len(trials) == budget, summary
    assert all(t["state"] == "COMPLETE" for t in trials), trials
    assert len({json.dumps(t["params"], sort_keys=True) for t in trials}) == budget  # distinct
    assert len({t["run_id"] for t in trials}) == budget
    assert len({t["worker"] for t in trials}) == 2, trials  # both workers ran trials
    for t in trials:
        assert RunStore(ws).get(t["run_id"]).status == "finished"


@pytest.mark.parametrize(("sampler", "space"), [("grid", "choice(0.05,0.02,0.01,0.005)"),
                                                ("random", "loguniform(1e-3,1e-1)")])
def test_two_local_workers_share_one_sqlite_study(tmp_path, sampler, space):
    # Random: the workers start together; each salts its sampler's seed, so they differ.
    study = new_study(tmp_path / "two.json", tiny_experiment(tmp_path), [f"{LR}={space}"],
                      sampler=sampler, trials=4)
    ws = tmp_path / "ws"
    summary = run_workers_cli(study.path, ws)
    assert_two_workers_finished(summary, ws, 4)
    assert (ws / "studies" / "two.db").is_file()


def start_worker(study_path, ws, *extra):
    cmd = [sys.executable, "-m", "cnnlab.cli", "study", "run", str(study_path),
           "--workspace", str(ws), *map(str, extra)]
    return subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)


def wait_for_an_epoch(ws, proc, timeout=240):
    """Wait until the worker's run has checkpointed an epoch; return its run id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        if ws.exists():  # the worker has made the workspace
            runs = [r for r in RunStore(ws, read_only=True).list_runs() if r.epochs_done >= 1]
            if runs:
                return runs[0].id
        time.sleep(0.3)
    raise AssertionError("the worker trained no epoch in time")


def test_ctrl_c_stops_a_worker_cleanly_and_the_next_run_resumes_the_trial(tmp_path):
    study = new_study(tmp_path / "int.json", tiny_experiment(tmp_path, epochs=6),
                      [f"{LR}=choice(0.05)"], sampler="grid")
    ws = tmp_path / "ws"
    proc = start_worker(study.path, ws)
    run_id = wait_for_an_epoch(ws, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "continues" in err, err
    record = RunStore(ws).get(run_id)
    assert record.status in ("stopped", "interrupted") and record.epochs_done < 6
    summary = run_study(load_study(study.path), workspace=ws)
    assert summary["finished"] == 1 and summary["trials"][-1]["run_id"] == run_id, summary
    assert RunStore(ws).get(run_id).epochs_done == 6 and len(RunStore(ws).list_runs()) == 1


@pytest.mark.parametrize("elsewhere", [False, True])
def test_a_killed_worker_trial_goes_stale_and_is_retried(tmp_path, elsewhere):
    study = new_study(tmp_path / "kill.json", tiny_experiment(tmp_path, epochs=6),
                      [f"{LR}=choice(0.05)"], sampler="grid")
    ws = tmp_path / "ws"
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    proc = start_worker(study.path, ws, "--heartbeat", 1, "--storage", url)
    run_id = wait_for_an_epoch(ws, proc)
    proc.kill()
    proc.communicate(timeout=60)
    # The same machine resumes the run; another machine (another workspace) starts it anew.
    other = tmp_path / "other" if elsewhere else ws
    summary = run_study(load_study(study.path), workspace=other, storage=url, heartbeat=1)
    states = [t["state"] for t in summary["trials"]]
    assert states == ["FAIL", "COMPLETE"], summary  # the stale one failed, its retry finished
    retry = summary["trials"][1]
    assert summary["finished"] == 1
    assert (retry["run_id"] == run_id) is not elsewhere
    assert RunStore(other).get(retry["run_id"]).status == "finished"


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the 'postgres' user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def test_two_workers_share_a_throwaway_postgresql_study(tmp_path):
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg2", reason="the PostgreSQL driver psycopg2 is not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL cannot be started")
    root = Path(tempfile.mkdtemp(prefix="cnnlab-pg-"))  # a folder the postgres user can use
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                                      "-U", "postgres"]), check=True, capture_output=True)
    try:
        subprocess.run(_as_postgres_user(pg_ctl + [
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "-l",
            str(root / "log"), "-w", "start"]), check=True, capture_output=True)
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        study = new_study(tmp_path / "pg.json", tiny_experiment(tmp_path),
                          [f"{LR}=choice(0.05,0.02,0.01,0.005)"], sampler="grid")
        ws = tmp_path / "ws"
        summary = run_workers_cli(study.path, ws, "--storage", url)
        assert_two_workers_finished(summary, ws, 4)
        assert not (ws / "studies" / "pg.db").exists()  # the trials live in PostgreSQL
        again = study_summary(load_study(study.path), storage=url, workspace=ws)
        assert again["finished"] == 4 and again["best"]["run_id"]
    finally:
        subprocess.run(_as_postgres_user(pg_ctl + ["-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
