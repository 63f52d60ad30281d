"""The ``cnnlab`` commands of a kill trial, and the checks after its resume.

Every command is a subprocess of the installed ``cnnlab``; ``model.keras`` is
loaded with Keras (``safe_mode``). Part of ``tools/kill_trials.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kill_trials_folder import run_folders, temp_files

if TYPE_CHECKING:
    from kill_trials import TrialResult

MAX_RESUMES = 3
TIMEOUT_S = 600.0  # for any one command
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


def cnnlab_command() -> list[str]:
    """The ``cnnlab`` console script beside this Python, else the CLI through ``python -c``."""
    script = Path(sys.executable).with_name("cnnlab")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cnnlab.cli import main; sys.exit(main())"]


def cnnlab(*args: str) -> subprocess.CompletedProcess:
    """Run one ``cnnlab`` command to its end and capture its output."""
    return subprocess.run([*cnnlab_command(), *args], capture_output=True, text=True,
                          env=ENV, timeout=TIMEOUT_S, check=False)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The ``cnnlab: error:`` line of a command, else its last stderr line."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("cnnlab: error:")]
    return (errors or lines or [f"exit {proc.returncode}"])[-1][:300]


def find_run(workspace: Path, result: TrialResult) -> dict | None:
    """The run as ``cnnlab runs --json`` lists it, else from its folder (a problem); or None."""
    proc = cnnlab("runs", "--json", "--workspace", str(workspace))
    runs = json.loads(proc.stdout) if proc.returncode == 0 else []
    if not runs:
        with_spec = [f for f in run_folders(workspace) if (f / "spec.json").is_file()]
        if not with_spec:
            if proc.returncode != 0:
                result.problems.append(f"cnnlab runs --json failed: {error_line(proc)}")
            return None
        result.problems.append(f"cnnlab runs --json failed: {error_line(proc)}"
                               if proc.returncode else
                               f"cnnlab runs does not list the run folder {with_spec[0]}")
        runs = [{"id": with_spec[0].name, "status": "unlisted", "run_dir": str(with_spec[0])}]
    if len(runs) > 1:
        result.problems.append(f"{len(runs)} runs listed for one training")
    run = runs[0]
    result.run_id = run["id"]
    if result.at_kill and run["status"] != "unlisted":
        result.at_kill += f", listed as {run['status']}"
    if run["status"] == "running":
        result.problems.append("listed as running after its process was killed")
    return run


def resume_until_finished(run_id: str, workspace: Path, result: TrialResult) -> bool:
    """``cnnlab train --resume ID --json`` until it reports finished (at most MAX_RESUMES)."""
    tries = []
    for attempt in range(1, MAX_RESUMES + 1):
        proc = cnnlab("train", "--resume", run_id, "--workspace", str(workspace), "--json")
        result.resumes = attempt
        line = _last_json(proc.stdout)
        if proc.returncode == 0 and line.get("status") == "finished":
            return True
        tries.append(f"resume {attempt}: exit {proc.returncode}, "
                     f"{line.get('status') or error_line(proc)}")
    result.problems.append("never finished: " + "; ".join(tries))
    return False


def _last_json(stdout: str) -> dict:
    try:
        value = json.loads((stdout.strip().splitlines() or ["{}"])[-1])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def check_finished(run: dict, workspace: Path, planned: int, trial_dir: Path) -> list[str]:
    """Every check of a finished run; one line per failed check."""
    run_id, ws = run["id"], str(workspace)
    folder = Path(run["run_dir"])
    problems = []
    show = cnnlab("runs", "show", run_id, "--workspace", ws, "--json")
    if show.returncode != 0:
        problems.append(f"runs show --json: {error_line(show)}")
    else:
        record = json.loads(show.stdout)
        if record["status"] != "finished":
            problems.append(f"status {record['status']} after the resume, not finished")
        if record["epochs_done"] != planned or record["epochs_planned"] != planned:
            problems.append(f"epochs {record['epochs_done']}/{record['epochs_planned']}, "
                            f"planned {planned}")
    text = cnnlab("runs", "show", run_id, "--workspace", ws)
    if text.returncode != 0:
        problems.append(f"runs show: {error_line(text)}")
    left = temp_files(folder)
    if left:
        problems.append("temporary files left in the run folder: " + ", ".join(left))
    problems += model_problems(folder / "model.keras")
    out = trial_dir / "export.keras"
    export = cnnlab("export", run_id, "--format", "keras", "--out", str(out), "--workspace", ws)
    if export.returncode != 0 or not out.is_file():
        problems.append(f"export --format keras: {error_line(export)}")
    return problems


def model_problems(path: Path) -> list[str]:
    """``[]`` when ``model.keras`` loads with Keras (``safe_mode``), else why not."""
    if not path.is_file():
        return [f"no {path.name}"]
    try:
        from cnnlab.tfquiet import import_tensorflow

        import_tensorflow()
        import keras

        import cnnlab.layers  # noqa: F401 - registers the lab's layers for loading

        keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return [f"{path.name} does not load: {type(exc).__name__}: {first}"]
    return []
