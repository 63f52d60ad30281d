"""The plan of an experiment: memory against the device, the largest batch, measured time."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnlab.plan.memory import (
    MemoryEstimate,
    estimate_memory,
    loaded_data_bytes,
    max_batch_size,
    spec_data_bytes,
)
from cnnlab.plan.timing import DEFAULT_STEPS, Progress, StepTiming
from cnnlab.plan.warnings import plan_warnings
from cnnlab.spec.experiment import Experiment


@dataclass(frozen=True)
class Plan:
    """What ``cnnlab plan`` says about an experiment before it trains."""

    memory: MemoryEstimate
    max_batch_size: int | None
    device: str
    timing: StepTiming | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        """The issue's ``--json`` object (times are null without the micro-benchmark)."""
        t = self.timing
        return {"memory": self.memory.to_json(), "max_batch_size": self.max_batch_size,
                "step_seconds": t.step_seconds if t else None,
                "epoch_seconds": t.epoch_seconds if t else None,
                "run_seconds": t.run_seconds if t else None,
                "samples_per_second": t.samples_per_second if t else None,
                "device": self.device, "warnings": list(self.warnings)}


def make_plan(exp: Experiment, measure: bool = True, steps: int = DEFAULT_STEPS,
              progress: Progress | None = None) -> Plan:
    """Estimate memory on the experiment's device and (optionally) time real training steps.

    Needs TensorFlow (the device). The data's size comes from the spec for
    shapes and Keras datasets and from the loaded files for npz and folders;
    the device's free memory is read before the model is built.

    Args:
        exp: The experiment.
        measure: Run the micro-benchmark (10-20 steps after a warm-up).
        steps: Steps to time.
        progress: ``(what, done, total)`` while measuring.

    Raises:
        CnnlabError: The experiment cannot train here (one line).
    """
    from cnnlab.data import load_data
    from cnnlab.plan.device import available_memory
    from cnnlab.train import devices
    from cnnlab.train import preparation as prep

    device_plan = devices.plan_devices(exp.training.device, prep.xla_ok(exp.training))
    available = available_memory(device_plan)
    data_bytes = spec_data_bytes(exp)
    if data_bytes is None:  # npz files and folders: their size is known once read
        data = load_data(exp.data, prep.input_shape(exp), exp.training.seed)
        data_bytes = loaded_data_bytes(data)
        del data
    memory = estimate_memory(exp, data_bytes, available)
    largest = max_batch_size(exp, data_bytes, available)
    timing = None
    if measure and memory.fits:
        from cnnlab.plan.timing import measure_steps

        timing = measure_steps(exp, steps, progress)
    warnings = plan_warnings(exp, memory, largest, timing, device_plan.name)
    return Plan(memory, largest, device_plan.name, timing, tuple(warnings))


def check_plannable(exp: Experiment) -> None:
    """Refuse a graph with errors, as ``cnnlab validate`` would (memory problems excepted).

    Raises:
        SpecError: Naming the first block with an error.
    """
    from cnnlab.analysis import analyze_experiment
    from cnnlab.errors import SpecError

    for problem in analyze_experiment(exp).errors():
        if problem.code != "memory":
            raise SpecError(problem.node or "model", problem.message)
