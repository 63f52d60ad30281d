"""Headless training: ``cnnlab train SPEC`` and ``cnnlab train --resume ID``.

A text progress display goes to stderr. The first Ctrl-C stops the run after
the current batch and keeps what was trained; a second one aborts (the run
stays resumable from its last checkpoint). Each new training-health warning
is one line of the display. With ``--json`` the command ends with one JSON
line on stdout (after one ``{"health": ...}`` line per new warning). Exit
status: 0 finished, 1 failed, 2 the user's input is wrong, 130 stopped or aborted.

Also runnable as ``python -m cnnlab.train.headless SPEC [--epochs N] [--workspace DIR]
[--json] [--resume ID]``.

Multi-worker training (``distribute: multi_worker``): run the same command on
every machine of the cluster with its ``TF_CONFIG``; give each worker other
than the chief a workspace of its own, so that only the chief's run is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from cnnlab.errors import CnnlabError
from cnnlab.spec.experiment import Experiment
from cnnlab.train.events import Control

EXIT = {"finished": 0, "failed": 1, "stopped": 130}
SUMMARY_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy")
OPTIONAL_METRICS = ("test_top5",)  # in the JSON line only when the run measured them


def train_command(exp_or_path: Experiment | str | Path | None, epochs: int | None = None,
                  workspace: str | Path | None = None, json_out: bool = False,
                  resume: str | None = None, stream: TextIO | None = None,
                  fork: str | None = None) -> int:
    """Train an experiment (or resume a run) with a text progress display.

    Args:
        exp_or_path: The experiment, or the path of an experiment file
            (ignored when resuming).
        epochs: Train this many epochs in all instead of the spec's.
        workspace: The workspace folder.
        json_out: End with one JSON line on stdout: run_id, status,
            epochs_done, metrics (see :func:`summary`), run_dir, model_path
            (and message); before it, one ``{"health": {...}}`` line per new
            training-health warning (epoch, layer, kind, message, try, value).
        resume: Id of a run to continue from its last checkpoint.
        stream: Where the progress goes (default: stderr).
        fork: ``RUN[@EPOCH]``: train a branch of RUN from that checkpoint
            (``exp_or_path`` None: with RUN's own spec).

    Returns:
        The exit status: 0 finished, 1 failed, 2 bad input, 130 stopped or aborted.
    """
    from cnnlab.train.progress import TextProgress
    from cnnlab.train.trainer import run

    stream = stream or sys.stderr
    try:
        spec = None if resume or (fork and exp_or_path is None) else _experiment(exp_or_path)
    except CnnlabError as exc:
        print(f"cnnlab: error: {exc}", file=stream)
        return 2
    control = Control()
    progress = TextProgress(stream, control, json_lines=json_out)
    try:
        with stop_on_sigint(control):
            outcome = run(spec, progress, control, workspace=workspace, resume=resume,
                          epochs=epochs, fork=fork)
    except KeyboardInterrupt:
        progress.close()
        what = "branch" if fork else "run"
        print(f"aborted; the {what} can continue from its last checkpoint", file=stream)
        return 130
    progress.close()
    return _report(outcome, json_out, stream)


def _report(outcome: Any, json_out: bool, stream: TextIO) -> int:
    """Print the error line and the JSON line of an outcome; return the exit status."""
    if outcome.user_error:
        print(f"cnnlab: error: {outcome.message}", file=stream)
        return 2
    if outcome.status == "failed":
        print(f"cnnlab: error: {outcome.message}", file=stream)
    if json_out:
        print(json.dumps(summary(outcome)), file=sys.stdout, flush=True)
    return EXIT.get(outcome.status, 1)


def _experiment(exp_or_path: Experiment | str | Path | None) -> Experiment:
    if isinstance(exp_or_path, Experiment):
        return exp_or_path
    if exp_or_path is None:
        raise CnnlabError("train needs an experiment file (or --resume ID)")
    from cnnlab.spec.load import load_experiment

    return load_experiment(exp_or_path)


def summary(outcome: Any) -> dict[str, Any]:
    """The ``--json`` line of an outcome (NaN becomes null).

    ``metrics`` has the last epoch's loss and accuracy (training and
    validation) and the test split's (``test_loss``, ``test_accuracy``, and
    ``test_top5`` when the run measures top-5); the test values are null for
    a run that did not finish or has no test split.
    """
    metrics = {k: _json_number(outcome.metrics.get(k)) for k in SUMMARY_METRICS}
    metrics.update({k: _json_number(outcome.metrics[k]) for k in OPTIONAL_METRICS
                    if k in outcome.metrics})
    out = {"run_id": outcome.run_id, "status": outcome.status,
           "epochs_done": outcome.epochs_done, "metrics": metrics,
           "run_dir": outcome.run_dir, "model_path": outcome.model_path}
    if outcome.message:
        out["message"] = outcome.message
    return out


def _json_number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


@contextlib.contextmanager
def stop_on_sigint(control: Control) -> Iterator[None]:
    """While inside, the first SIGINT stops ``control``; the second raises KeyboardInterrupt.

    Only the main thread can handle signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        control.stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    """``python -m cnnlab.train.headless``: the same options as ``cnnlab train``."""
    parser = argparse.ArgumentParser(prog="python -m cnnlab.train.headless",
                                     description="Train an experiment headless.")
    parser.add_argument("spec", nargs="?", help="experiment file")
    parser.add_argument("--epochs", type=int, help="number of epochs in all")
    parser.add_argument("--workspace", help="workspace folder")
    parser.add_argument("--resume", metavar="ID", help="continue an interrupted run")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    from cnnlab.tfquiet import import_tensorflow

    import_tensorflow()
    return train_command(args.spec, epochs=args.epochs, workspace=args.workspace,
                         json_out=args.json, resume=args.resume)


if __name__ == "__main__":
    sys.exit(main())
