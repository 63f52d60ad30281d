"""The plan's warnings in plain words: will not fit (and what would), hours, slow input."""

from __future__ import annotations

import dataclasses

from cnnlab.plan.memory import MemoryEstimate, estimate_memory, max_batch_size
from cnnlab.plan.timing import StepTiming
from cnnlab.spec.experiment import Experiment

HOURS = 3600.0
PIPELINE_SHARE = 0.8  # the pipeline alone takes this share of a step: the model waits for data


def human_bytes(n: float) -> str:
    """``1288490188`` -> ``"1.2 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            break
        n /= 1024
    return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"


def human_seconds(seconds: float) -> str:
    """``5400`` -> ``"1.5 hours"``; ``90`` -> ``"1.5 minutes"``; ``0.25`` -> ``"0.25 s"``."""
    if seconds >= HOURS:
        return f"{seconds / HOURS:.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds:.3g} s"


def plan_warnings(exp: Experiment, memory: MemoryEstimate, largest: int | None,
                  timing: StepTiming | None, device: str) -> list[str]:
    """Every warning of the plan, one sentence or two each."""
    out = []
    if not memory.fits:
        out.append(_fit_warning(exp, memory, largest, device))
    if timing is not None:
        out += _time_warnings(exp, timing)
    return out


def _fit_warning(exp: Experiment, memory: MemoryEstimate, largest: int | None,
                 device: str) -> str:
    need, have = human_bytes(memory.total), human_bytes(memory.available or 0)
    text = f"Training needs about {need} but {device} has {have} free: it will not fit."
    advice = []
    if largest:
        advice.append(f"batch size {largest} (now {exp.training.batch_size})")
    if exp.training.device.mixed_precision == "none":
        mixed = _with_precision(exp)
        est = estimate_memory(mixed, memory.data, memory.available)
        if est.fits:
            advice.append(f"mixed precision (about {human_bytes(est.total)})")
    smaller = _half_input(exp, memory)
    if smaller is not None:
        advice.append(smaller)
    if advice:
        return f"{text} What would fit: {'; or '.join(advice)}."
    return (f"{text} Even one image at a time does not fit: use a smaller network or input "
            "size, or a device with more memory.")


def _with_precision(exp: Experiment) -> Experiment:
    device = dataclasses.replace(exp.training.device, mixed_precision="mixed_float16")
    return dataclasses.replace(exp, training=dataclasses.replace(exp.training, device=device))


def _half_input(exp: Experiment, memory: MemoryEstimate) -> str | None:
    """``"input 112x112 (about 2.1 GiB)"`` when half the input size fits, else None."""
    from cnnlab.analysis import analyze_experiment
    from cnnlab.spec.edit import retarget
    from cnnlab.train.preparation import input_shape

    height, width, channels = input_shape(exp)
    if min(height, width) < 16:
        return None
    shape = [height // 2, width // 2, channels]
    try:
        smaller = retarget(exp, shape, None)
        if not analyze_experiment(smaller).ok:
            return None
    except Exception:  # noqa: BLE001 - a network that cannot shrink gets no such advice
        return None
    est = estimate_memory(smaller, memory.data // 4, memory.available)
    if not est.fits and not max_batch_size(smaller, memory.data // 4, memory.available):
        return None
    return f"input {shape[0]}x{shape[1]} (about {human_bytes(est.total)})"


def _time_warnings(exp: Experiment, timing: StepTiming) -> list[str]:
    out = []
    if timing.run_seconds >= HOURS:
        out.append(f"The run will take about {human_seconds(timing.run_seconds)} on "
                   f"{timing.device} ({exp.training.epochs} epochs of "
                   f"{human_seconds(timing.epoch_seconds)}): try fewer epochs, a smaller "
                   "input size or network, or a GPU.")
    if timing.pipeline_seconds >= PIPELINE_SHARE * timing.step_seconds:
        out.append(f"The input pipeline is slower than the model: it takes "
                   f"{human_seconds(timing.pipeline_seconds)} per batch of the step's "
                   f"{human_seconds(timing.step_seconds)}, so the model waits for data. Try "
                   "augmentation inside the model (placement: model), fewer augmentation "
                   "layers, or smaller images on disk.")
    return out
