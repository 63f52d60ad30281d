"""Kill trials: SIGKILL ``cnnlab train`` at seeded moments, then resume the run to finished.

Each trial, in a workspace of its own: ``cnnlab new`` a tiny experiment (96
shapes at 16x16, 3-4 epochs, batch 16), start ``cnnlab train SPEC --json``,
SIGKILL it at one moment of KINDS (found by watching the run folder and the
progress lines, not by timing), ``cnnlab train --resume ID`` at most 3 times,
then check: finished, every planned epoch done, ``model.keras`` loads with
Keras (``safe_mode``), no ``.NAME.tmp-*`` file left in the run folder,
``cnnlab runs show ID`` and ``cnnlab export ID --format keras`` work.

Usage: ``python tools/kill_trials.py [--trials 12] [--seed 0] [--workspace DIR]``;
one line per trial, a summary, exit status 1 when any trial failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# startup: a random time after the start; run-created: spec.json is in the new run folder
# (the index row may not be); mid-epoch: inside an epoch; checkpoint-write: while
# checkpoints/last.keras is written; after-checkpoint: as soon as state.json is updated
# (before the index row); final-save: while model.keras is written.
KINDS = ("startup", "run-created", "mid-epoch", "checkpoint-write", "after-checkpoint",
         "final-save")
MAX_RESUMES = 3
POLL_S = 0.002
TIMEOUT_S = 600.0  # for any one command
TEMP_MARK = ".tmp-"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class Moment:
    """When a trial kills the trainer: a kind of KINDS, an epoch, a delay in seconds.

    ``epoch`` is, for ``mid-epoch``, the epoch (0-based) to kill in; for
    ``checkpoint-write``, the checkpoint (0-based) whose ``last.keras`` write is
    killed; for ``after-checkpoint``, the ``epochs_done`` of ``state.json`` to
    wait for. ``delay`` counts from the moment (``startup``: from the start).
    """

    kind: str
    epoch: int = 0
    delay: float = 0.0

    def describe(self) -> str:
        """``mid-epoch 2 +0.05s``."""
        epoch = "" if self.kind in ("startup", "run-created", "final-save") else f" {self.epoch}"
        return f"{self.kind}{epoch} +{self.delay:.2f}s"


@dataclass
class TrialResult:
    """What one trial did and found.

    ``outcome`` is ``resumed`` (killed, resumed, every check passed),
    ``before-run`` (killed before the run existed), ``not-killed`` (the trainer
    ended first) or ``failed``; ``at_kill`` is what the run folder showed right
    after the kill; ``problems`` has one line per failed check.
    """

    index: int
    moment: Moment
    outcome: str = ""
    run_id: str = ""
    at_kill: str = ""
    resumes: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The trial's one line."""
        head = f"trial {self.index} [{self.moment.describe()}]"
        where = f" run {self.run_id}" if self.run_id else ""
        seen = f" (at the kill: {self.at_kill})" if self.at_kill else ""
        if self.problems:
            return f"{head}{where}{seen}: FAILED: " + "; ".join(self.problems)
        if self.outcome == "before-run":
            return f"{head}{seen}: killed before the run existed, nothing to resume"
        if self.outcome == "not-killed":
            return f"{head}{where}: the trainer ended before the moment came; checks ok"
        return f"{head}{where}{seen}: resumed {self.resumes}x to finished; checks ok"


def pick_moment(rng: random.Random, kind: str, epochs: int) -> Moment:
    """A random moment of ``kind`` in a run of ``epochs`` epochs."""
    if kind == "startup":
        return Moment(kind, delay=rng.uniform(0.3, 8.0))
    if kind == "mid-epoch":
        epoch = rng.randrange(epochs)
        return Moment(kind, epoch, rng.uniform(0.0, 0.5 if epoch == 0 else 0.1))
    if kind == "checkpoint-write":
        return Moment(kind, rng.randrange(epochs))
    if kind == "after-checkpoint":
        return Moment(kind, rng.randint(1, epochs))
    return Moment(kind)


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


def write_experiment(path: Path, epochs: int, seed: int) -> None:
    """``cnnlab new`` a small CNN, then make it tiny: 96 shapes at 16x16, batch 16."""
    proc = cnnlab("new", str(path), "--input", "16,16,3", "--classes", "3")
    if proc.returncode != 0:
        raise RuntimeError(f"cnnlab new failed: {error_line(proc)}")
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["data"]["shapes"].update(image_size=16, samples=96, seed=seed)
    spec["training"].update(epochs=epochs, batch_size=16, seed=seed)
    path.write_text(json.dumps(spec, indent=2), encoding="utf-8")


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


class Watcher:
    """Tells when a :class:`Moment` has come, from the workspace and the progress lines."""

    def __init__(self, moment: Moment, workspace: Path, progress: Path):
        self.moment = moment
        self.workspace = workspace
        self.progress = progress
        started = time.monotonic()
        # A startup moment's delay counts from the start; the others' from the event.
        self.fire_at = started + moment.delay if moment.kind == "startup" else None
        self.seen: set[str] = set()  # temporary names of last.keras seen so far

    def due(self) -> bool:
        """True once the moment came and its delay has passed."""
        now = time.monotonic()
        if self.fire_at is None and self._came():
            self.fire_at = now + self.moment.delay
        return self.fire_at is not None and now >= self.fire_at

    def _came(self) -> bool:
        kind = self.moment.kind
        folders = run_folders(self.workspace)
        if not folders:
            return False
        if kind == "run-created":  # the folder and its spec.json, maybe not yet the index row
            return (folders[0] / "spec.json").is_file()
        try:
            if kind == "mid-epoch":  # epoch k starts once the filters after epoch k are saved
                epoch = self.moment.epoch
                prefix = "run " if epoch == 0 else f"epoch {epoch}/"
                lines = self.progress.read_text(errors="replace").splitlines()
                return (folders[0] / "filters" / f"epoch_{epoch:03d}.npz").is_file() and any(
                    ln.startswith(prefix) for ln in lines)
            if kind == "checkpoint-write":
                names = os.listdir(folders[0] / "checkpoints")
                self.seen.update(n for n in names if n.startswith(".last.keras" + TEMP_MARK))
                return len(self.seen) > self.moment.epoch
            if kind == "after-checkpoint":
                return epochs_checkpointed(folders[0]) >= self.moment.epoch
            return any(n.startswith(".model.keras" + TEMP_MARK) for n in os.listdir(folders[0]))
        except OSError:  # not there yet
            return False


def start_and_kill(spec: Path, workspace: Path, moment: Moment, logs: Path) -> bool:
    """Start ``cnnlab train SPEC --json``, SIGKILL it when ``moment`` comes; True if it landed."""
    progress = logs / "train.stderr"
    with open(progress, "w") as err, open(logs / "train.stdout", "w") as out:
        proc = subprocess.Popen(
            [*cnnlab_command(), "train", str(spec), "--workspace", str(workspace), "--json"],
            stdout=out, stderr=err, env=ENV)
        watcher, deadline = Watcher(moment, workspace, progress), time.monotonic() + TIMEOUT_S
        try:
            while proc.poll() is None and not watcher.due():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cnnlab train ran for more than {TIMEOUT_S:.0f} s")
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                proc.kill()  # SIGKILL, by its pid
            proc.wait()
    return proc.returncode == -9


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


def run_trial(index: int, moment: Moment, root: Path, epochs: int = 4,
              seed: int = 0) -> TrialResult:
    """One trial in ``root/trial-NN`` (FileExistsError if it exists): kill, resume, check."""
    trial_dir = root / f"trial-{index:02d}"
    trial_dir.mkdir(parents=True)
    result = TrialResult(index, moment)
    try:
        _trial_steps(trial_dir, epochs, seed, result)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
    if result.problems:
        result.outcome = "failed"
    return result


def _trial_steps(trial_dir: Path, epochs: int, seed: int, result: TrialResult) -> None:
    spec, workspace = trial_dir / "experiment.json", trial_dir / "workspace"
    write_experiment(spec, epochs, seed)
    killed = start_and_kill(spec, workspace, result.moment, trial_dir)
    result.at_kill = folder_state(workspace) if killed else ""
    run = find_run(workspace, result)
    if not killed and (run is None or run["status"] != "finished"):
        tail = (trial_dir / "train.stderr").read_text(errors="replace").strip()[-300:]
        result.problems.append(f"cnnlab train ended by itself, not finished: {tail}")
        return
    if run is None:
        result.outcome = "before-run"
        return
    result.outcome = "not-killed" if run["status"] == "finished" else "resumed"
    if result.outcome == "resumed" and not resume_until_finished(run["id"], workspace, result):
        return
    result.problems += check_finished(run, workspace, epochs, trial_dir)


def plan_trials(count: int, rng: random.Random) -> list[tuple[Moment, int]]:
    """``count`` (moment, epochs): every kind once per round of len(KINDS), in a seeded order."""
    plan: list[tuple[Moment, int]] = []
    while len(plan) < count:
        kinds = list(KINDS)
        rng.shuffle(kinds)
        for kind in kinds[:count - len(plan)]:
            epochs = rng.choice((3, 4))
            plan.append((pick_moment(rng, kind, epochs), epochs))
    return plan


def summary(results: list[TrialResult]) -> str:
    """``N trials: A resumed to finished, B killed before the run existed, C failed``."""
    count = {k: sum(r.outcome == k for r in results)
             for k in ("resumed", "before-run", "not-killed", "failed")}
    line = (f"{len(results)} trials: {count['resumed']} resumed to finished, "
            f"{count['before-run']} killed before the run existed, {count['failed']} failed")
    if count["not-killed"]:
        line += f", {count['not-killed']} ended before the kill (checked)"
    return line


def main(argv: list[str] | None = None) -> int:
    """Run the trials; exit status 1 when any failed, 2 on bad arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="number of trials (12)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments (0)")
    parser.add_argument("--workspace", help="folder for the trials (default: a new temp dir)")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    root = Path(args.workspace or tempfile.mkdtemp(prefix="cnnlab-kill-trials-"))
    print(f"kill trials in {root}", flush=True)
    results = []
    for index, (moment, epochs) in enumerate(plan_trials(args.trials, random.Random(args.seed)),
                                             start=1):
        try:
            result = run_trial(index, moment, root, epochs, seed=args.seed * 1000 + index)
        except FileExistsError as exc:
            print(f"kill_trials: error: {exc.filename} exists; give an empty --workspace",
                  file=sys.stderr)
            return 2
        results.append(result)
        print(result.line(), flush=True)
    print(summary(results))
    failed = [r for r in results if r.outcome == "failed"]
    for result in failed:
        print(f"failed: trial {result.index}: " + "; ".join(result.problems))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
