"""Kill trials: SIGKILL ``cnnlab train`` at seeded moments, then resume the run to finished.

Each trial, in a workspace of its own: ``cnnlab new`` a tiny experiment (96
shapes at 16x16, 3-4 epochs, batch 16), start ``cnnlab train SPEC --json``,
SIGKILL it at one moment of KINDS (found by watching the run folder and the
progress lines, not by timing), ``cnnlab train --resume ID`` at most 3 times,
then check: finished, every planned epoch done, ``model.keras`` loads with
Keras (``safe_mode``), no ``.NAME.tmp-*`` file left in the run folder,
``cnnlab runs show ID`` and ``cnnlab export ID --format keras`` work.

Usage: ``python tools/kill_trials.py [--trials 12] [--seed 0] [--workspace DIR]``;
one line per trial, a summary, exit status 1 when any trial failed. Beside it:
``kill_trials_folder.py`` (what a workspace shows) and ``kill_trials_checks.py``
(the ``cnnlab`` commands and the checks after a resume).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kill_trials_checks import (
    ENV,
    TIMEOUT_S,
    check_finished,
    cnnlab,
    cnnlab_command,
    error_line,
    find_run,
    resume_until_finished,
)
from kill_trials_folder import TEMP_MARK, epochs_checkpointed, folder_state, run_folders

# startup: a random time after the start; run-created: spec.json is in the new run folder
# (the index row may not be); mid-epoch: inside an epoch; checkpoint-write: while
# checkpoints/last.keras is written; after-checkpoint: as soon as state.json is updated
# (before the index row); final-save: while model.keras is written.
KINDS = ("startup", "run-created", "mid-epoch", "checkpoint-write", "after-checkpoint",
         "final-save")
POLL_S = 0.002


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


def write_experiment(path: Path, epochs: int, seed: int) -> None:
    """``cnnlab new`` a small CNN, then make it tiny: 96 shapes at 16x16, batch 16."""
    proc = cnnlab("new", str(path), "--input", "16,16,3", "--classes", "3")
    if proc.returncode != 0:
        raise RuntimeError(f"cnnlab new failed: {error_line(proc)}")
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["data"]["shapes"].update(image_size=16, samples=96, seed=seed)
    spec["training"].update(epochs=epochs, batch_size=16, seed=seed)
    path.write_text(json.dumps(spec, indent=2), encoding="utf-8")


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
