"""Throughput of the lab's trainer against plain ``model.fit`` on the same model and data.

Trains the default experiment's model on the default ``shapes`` data, in one
process, alternating: plain ``model.fit`` (verbose=0, the same optimizer,
loss, metrics and tf.data pipelines), then :func:`cnnlab.train.trainer.run` with a
sink that keeps every event in a list (as the window's adapter does). Prints:

- the training throughput ratio: samples per second over the epochs after the
  first (tracing), each epoch timed from its begin to its end (training and
  validation), in wall time (best and median round) and in process CPU time
  (which other programs on a shared machine disturb far less). This is the
  per-batch cost of the lab's callbacks; target >= 97 %.
- the end-to-end ratio (wall and CPU): the whole ``fit`` against
  RunStarted..Finished, which also pays for a checkpoint (and ``best.keras``)
  every epoch, the run store and the final ``model.keras``.
- the time spent inside the lab's per-batch callback, per batch.
- the training-health check's cost (issue 17, target <= 3 %): the lab with the
  check against the lab without it (``CNNLAB_HEALTH=0``), training time of the
  epochs after the first and of the whole run (the first epoch's check also
  traces its ``tf.function``), and the check's own seconds per epoch.

Usage: python benchmarks/bench_trainer.py [--epochs 4] [--rounds 5] [--spe 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _experiment(epochs: int, spe: int):
    from cnnlab.presetlib import default_experiment

    exp = default_experiment()
    device = dataclasses.replace(exp.training.device, steps_per_execution=spe)
    training = dataclasses.replace(exp.training, epochs=epochs, device=device)
    return dataclasses.replace(exp, training=training)


class Clock:
    """Per-epoch wall and CPU seconds, and time inside the wrapped batch hook."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.hook_seconds = 0.0
        self.hook_calls = 0
        self.health: list[tuple[float, float]] = []  # the check's (wall, CPU) s per epoch
        self.health_hooks = [0.0, 0.0]  # (wall, CPU) s in all its hooks, the epochs' included
        self._t = (0.0, 0.0)

    def begin(self) -> None:
        self._t = (time.perf_counter(), time.process_time())

    def end(self) -> None:
        self.wall.append(time.perf_counter() - self._t[0])
        self.cpu.append(time.process_time() - self._t[1])


def clock_callback(clock: Clock):
    """A plain Keras callback with only epoch hooks (the batch path stays Keras's own)."""
    import keras

    class _Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.begin()

        def on_epoch_end(self, epoch, logs=None):
            clock.end()

    return _Clock()


def plain_fit(exp, data, clock: Clock) -> tuple[float, float]:
    """Train with plain Keras; return (wall, CPU) seconds of the whole fit."""
    import keras

    from cnnlab.build import build_model
    from cnnlab.train import devices, preparation

    keras.utils.set_random_seed(exp.training.seed)
    plan = devices.plan_devices(exp.training.device)
    model = build_model(exp)
    sets = preparation.make_datasets(data, exp.training)
    preparation.compile_model(model, exp.training, data.num_classes, plan, sets.steps)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(sets.train, validation_data=sets.val, epochs=exp.training.epochs, verbose=0,
              callbacks=[clock_callback(clock)], shuffle=False)
    return time.perf_counter() - t0, time.process_time() - c0


def lab_run(exp, workspace: str, clock: Clock, health: bool = True) -> tuple[float, float]:
    """Train with the lab; return (wall, CPU) seconds from RunStarted to Finished.

    The lab's first callback is wrapped to time its epochs (begin to end,
    before the checkpoint is written, as EpochEnded.seconds) and its batch hook.
    """
    from cnnlab.train import health as health_module
    from cnnlab.train import session
    from cnnlab.train.events import Finished, RunStarted
    from cnnlab.train.trainer import run

    original = session.BatchMonitor

    class TimedMonitor(original):
        def on_epoch_begin(self, epoch, logs=None):
            clock.begin()
            super().on_epoch_begin(epoch, logs)

        def on_epoch_end(self, epoch, logs=None):
            clock.end()

        def on_train_batch_end(self, batch, logs=None):
            t = time.perf_counter()
            super().on_train_batch_end(batch, logs)
            clock.hook_seconds += time.perf_counter() - t
            clock.hook_calls += 1

    events: list = []
    stamps: dict = {}
    os.environ["CNNLAB_HEALTH"] = "1" if health else "0"
    monitor = health_module.HealthMonitor
    health_module.HealthMonitor = timed_health_monitor(monitor, clock)

    def sink(event):
        events.append(event)
        if isinstance(event, (RunStarted, Finished)):
            stamps[type(event).__name__] = (time.perf_counter(), time.process_time())

    session.BatchMonitor = TimedMonitor
    try:
        out = run(exp, sink, workspace=workspace)
    finally:
        session.BatchMonitor = original
        health_module.HealthMonitor = monitor
    if out.status != "finished":
        sys.exit(f"the lab's run did not finish: {out.message}")
    (w0, c0), (w1, c1) = stamps["RunStarted"], stamps["Finished"]
    return w1 - w0, c1 - c0


def timed_health_monitor(base, clock: Clock):
    """The health observer with its hooks timed (wall and CPU) into ``clock``."""

    def timed(hook: str, per_epoch: bool = False):
        def wrapper(self, *args, **kwargs):
            t, c = time.perf_counter(), time.process_time()
            getattr(base, hook)(self, *args, **kwargs)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            clock.health_hooks[0] += wall
            clock.health_hooks[1] += cpu
            if per_epoch:
                clock.health.append((wall, cpu))
        return wrapper

    return type("TimedHealthMonitor", (base,), {
        "on_train_begin": timed("on_train_begin"),
        "on_train_batch_begin": timed("on_train_batch_begin"),
        "on_epoch_end": timed("on_epoch_end", per_epoch=True)})


def _rate(samples: int, seconds: list[float]) -> float:
    return samples * (len(seconds) - 1) / sum(seconds[1:])


VARIANTS = ("plain", "lab", "nohealth")  # plain Keras, the lab, the lab without health


def _rounds(exp, data, rounds: int, workspace: str) -> dict:
    samples = data.sizes["train"]
    out: dict = {f"{name}_{what}": [] for name in VARIANTS
                 for what in ("wall", "cpu", "run_wall", "run_cpu")}
    hook = Clock()
    out["health_s"], out["health_share"] = [], []
    for i in range(rounds):
        for name in VARIANTS:
            clock = hook if name == "lab" else Clock()
            clock.wall, clock.cpu, clock.health, clock.health_hooks = [], [], [], [0.0, 0.0]
            wall, cpu = (plain_fit(exp, data, clock) if name == "plain"
                         else lab_run(exp, workspace, clock, health=name == "lab"))
            out[f"{name}_wall"].append(_rate(samples, clock.wall))
            out[f"{name}_cpu"].append(_rate(samples, clock.cpu))
            out[f"{name}_run_wall"].append(wall)
            out[f"{name}_run_cpu"].append(cpu)
            if name == "lab":
                out["health_s"].append(list(clock.health))
                out["health_share"].append((clock.health_hooks[0] / wall,
                                            clock.health_hooks[1] / cpu))
            print(f"round {i + 1} {name:8s}: {out[f'{name}_wall'][-1]:7.1f} samples/s wall, "
                  f"{out[f'{name}_cpu'][-1]:7.1f} samples/CPU-s; whole run {wall:5.2f} s "
                  f"wall, {cpu:5.2f} s CPU")
    out["hook_us"] = 1e6 * hook.hook_seconds / max(hook.hook_calls, 1)
    return out


def _report(r: dict, batch_ms: float) -> None:
    med = statistics.median
    print(f"training throughput ratio lab/plain, wall, best round: "
          f"{100 * max(r['lab_wall']) / max(r['plain_wall']):.1f} %   (target >= 97 %)")
    print(f"training throughput ratio lab/plain, wall, median:     "
          f"{100 * med(r['lab_wall']) / med(r['plain_wall']):.1f} %")
    print(f"training throughput ratio lab/plain, CPU time, median: "
          f"{100 * med(r['lab_cpu']) / med(r['plain_cpu']):.1f} %")
    print(f"end-to-end ratio incl. checkpoints, wall, median:      "
          f"{100 * med(r['plain_run_wall']) / med(r['lab_run_wall']):.1f} %")
    print(f"end-to-end ratio incl. checkpoints, CPU, median:       "
          f"{100 * med(r['plain_run_cpu']) / med(r['lab_run_cpu']):.1f} %")
    print(f"lab batch callback: {r['hook_us']:.1f} us per batch "
          f"({100 * r['hook_us'] / 1000 / batch_ms:.2f} % of a {batch_ms:.1f} ms batch)")
    _report_health(r)


def _report_health(r: dict) -> None:
    """The training-health check's cost: the lab with it against the lab without it."""
    med = statistics.median
    print(f"health check, training throughput with/without, wall, median: "
          f"{100 * med(r['lab_wall']) / med(r['nohealth_wall']):.1f} %   (target >= 97 %)")
    print(f"health check, training throughput with/without, CPU, median:  "
          f"{100 * med(r['lab_cpu']) / med(r['nohealth_cpu']):.1f} %")
    print(f"health check, whole run without/with, wall, median:           "
          f"{100 * med(r['nohealth_run_wall']) / med(r['lab_run_wall']):.1f} %")
    print(f"health check, whole run without/with, CPU, median:            "
          f"{100 * med(r['nohealth_run_cpu']) / med(r['lab_run_cpu']):.1f} %")
    print(f"health check's own time, share of the lab's run, median: "
          f"{100 * med(w for w, _ in r['health_share']):.2f} % wall, "
          f"{100 * med(c for _, c in r['health_share']):.2f} % CPU   (target <= 3 %)")
    for i, what in ((0, "wall"), (1, "CPU")):
        first = med([s[0][i] for s in r["health_s"] if s])
        later = med([x[i] for s in r["health_s"] for x in s[1:]] or [float("nan")])
        print(f"health check's own {what} time: first epoch {1000 * first:.0f} ms (builds and "
              f"traces the check), later epochs {1000 * later:.1f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spe", type=int, default=1, help="steps_per_execution")
    args = parser.parse_args()
    from cnnlab.data import load_data
    from cnnlab.train import preparation

    exp = _experiment(args.epochs, args.spe)
    data = load_data(exp.data, preparation.input_shape(exp), exp.training.seed)
    batch = exp.training.batch_size
    print(f"default experiment: {data.sizes['train']} training samples, batch {batch}, "
          f"{args.epochs} epochs, steps_per_execution {args.spe}, {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as workspace:
        results = _rounds(exp, data, args.rounds, workspace)
    _report(results, 1000 * batch / max(results["plain_wall"]))


if __name__ == "__main__":
    main()
