"""A text progress display for headless training: an event sink that writes to a stream.

On a terminal it redraws one line (epoch x/y, a batch bar, loss and accuracy,
ETA) and prints a line per epoch; on a pipe or file it prints only the
start, one line per epoch and the end. Each new training-health warning is
one line after its epoch's (``health: LAYER: what; try ...``) and, with
``json_lines``, also one JSON object on stdout (``{"health": {...}}``). A
failure is left to the caller (the command prints it as its one error line).
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, TextIO

from cnnlab.formatting import format_duration
from cnnlab.train.events import (
    BatchProgress,
    Control,
    EpochEnded,
    Finished,
    HealthWarning,
    RunStarted,
    Stopped,
    TrainingHealth,
)

BAR_WIDTH = 24
REDRAW_S = 0.1


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _metric(metrics: dict, key: str, label: str) -> str:
    value = metrics.get(key)
    return f" {label} {value:.4f}" if isinstance(value, float) and math.isfinite(value) else ""


class TextProgress:
    """Event sink that shows a run's progress on ``stream``.

    Args:
        stream: Where to write (stderr for the command line).
        control: The run's token; a stop request is acknowledged once.
        json_lines: Also write each new health warning as a JSON line to stdout.
    """

    def __init__(self, stream: TextIO, control: Control | None = None,
                 json_lines: bool = False):
        self.stream = stream
        self.control = control
        self.json_lines = json_lines
        self._health: list[HealthWarning] = []  # new warnings, shown after their epoch
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._epochs = 1
        self._steps = 1
        self._initial = 0
        self._drawn = 0.0
        self._line = False
        self._told_stop = False

    def __call__(self, event: Any) -> None:
        """Show one event."""
        self._notice_stop()
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)

    def close(self) -> None:
        """Show warnings still held back and end a half-drawn line."""
        self._show_health()
        self._clear()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _clear(self) -> None:
        if self._line:
            self._write("\r\033[K")
            self._line = False

    def _print(self, text: str) -> None:
        self._clear()
        self._write(text + "\n")

    def _notice_stop(self) -> None:
        if self.control is not None and self.control.stop_requested and not self._told_stop:
            self._told_stop = True
            self._print("stopping after this batch (Ctrl-C again to abort)")

    def _on_RunStarted(self, e: RunStarted) -> None:  # noqa: N802 - named after the event
        self._epochs, self._steps, self._initial = e.epochs, max(e.steps_per_epoch, 1), \
            e.initial_epoch
        where = f"resumed at epoch {e.initial_epoch + 1}, " if e.initial_epoch else ""
        if e.initial_epoch and e.initial_epoch >= e.epochs:
            where = "all epochs trained, completing the run: "
        self._print(f"run {e.run_id} on {e.device} ({e.precision}), {where}"
                    f"{e.epochs} epochs of {e.steps_per_epoch} batches, {e.params:,} parameters")
        for line in e.data_lines:
            self._print(line)

    def _on_BatchProgress(self, e: BatchProgress) -> None:  # noqa: N802
        now = time.monotonic()
        if not self.tty or now - self._drawn < REDRAW_S:
            return
        self._drawn = now
        filled = int(BAR_WIDTH * min(e.step / max(e.steps, 1), 1.0))
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        acc = f" acc {e.accuracy:.4f}" if e.accuracy is not None else ""
        self._write(f"\r\033[Kepoch {e.epoch + 1}/{self._epochs} [{bar}] {e.step}/{e.steps} "
                    f"loss {e.loss:.4f}{acc} ETA {format_duration(self._eta(e))}")
        self._line = True

    def _eta(self, e: BatchProgress) -> float:
        done = (e.epoch - self._initial) * self._steps + e.step
        total = (self._epochs - self._initial) * self._steps
        return e.elapsed / done * (total - done) if done > 0 else math.nan

    def _on_EpochEnded(self, e: EpochEnded) -> None:  # noqa: N802
        m = e.metrics
        text = (f"epoch {e.epoch + 1}/{e.epochs}" + _metric(m, "loss", "loss")
                + _metric(m, "accuracy", "acc") + _metric(m, "val_loss", "val_loss")
                + _metric(m, "val_accuracy", "val_acc") + f" ({e.seconds:.1f}s)")
        self._print(text)
        self._show_health()

    def _on_TrainingHealth(self, e: TrainingHealth) -> None:  # noqa: N802
        self._health.extend(w for w in e.warnings if w.new)

    def _show_health(self) -> None:
        held, self._health = self._health, []
        for w in held:
            self._print(health_line(w))
            if self.json_lines:
                print(json.dumps({"health": health_json(w)}), file=sys.stdout, flush=True)

    def _on_Finished(self, e: Finished) -> None:  # noqa: N802
        self._show_health()
        self._print(f"finished after {_epochs(e.epochs_done)}"
                    + _metric(e.metrics, "val_accuracy", "val_acc")
                    + _metric(e.metrics, "test_loss", "test_loss")
                    + _metric(e.metrics, "test_accuracy", "test_acc")
                    + _metric(e.metrics, "test_top5", "test_top5")
                    + f"; model saved to {e.model_path}")

    def _on_Stopped(self, e: Stopped) -> None:  # noqa: N802
        self._show_health()
        self._print(f"stopped after {_epochs(e.epochs_done)} (an epoch cut short does not count); "
                    f"model saved to {e.model_path}; "
                    f"continue with: cnnlab train --resume {e.run_id}")


def health_line(w: HealthWarning) -> str:
    """One warning as the terminal shows it."""
    return f"health (epoch {w.epoch + 1}): {w.message}; {w.remedy}"


def health_json(w: HealthWarning) -> dict:
    """One warning as the ``--json`` lines give it (a non-finite value becomes null)."""
    value = w.value if math.isfinite(w.value) else None
    return {"epoch": w.epoch + 1, "layer": w.layer, "kind": w.kind, "message": w.message,
            "try": w.remedy, "value": value}
