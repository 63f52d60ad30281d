"""Before training: memory and time plans, and the learning-rate range test.

``cnnlab plan SPEC`` and the window's Plan panel estimate the memory training
needs (weights, gradients, optimizer slots, activations, data) against the
device's free memory, the largest batch that fits, and time real training
steps; ``cnnlab lr-find SPEC`` and Recipe > Optimizer's "Find learning
rate…" run Smith's range test on a fresh copy of the initial model.
Importing this package is light: the memory arithmetic needs no TensorFlow;
measuring and the range test load it.

Modules:
    memory: the estimate's arithmetic, the largest batch, the data's size.
    device: the free memory of the device (GPU from TensorFlow, else RAM).
    prepared: model and pipelines built as the trainer builds them.
    timing: the micro-benchmark of training steps.
    warnings: will not fit (and what would), hours, slow input pipeline.
    planner: :func:`make_plan`, the whole plan; ``check_plannable``.
    lr_find: the range test, its smoothing and its suggestion.
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "MemoryEstimate": "cnnlab.plan.memory:MemoryEstimate",
    "Plan": "cnnlab.plan.planner:Plan",
    "StepTiming": "cnnlab.plan.timing:StepTiming",
    "LrFindResult": "cnnlab.plan.lr_find:LrFindResult",
    "available_ram": "cnnlab.plan.device:available_ram",
    "check_plannable": "cnnlab.plan.planner:check_plannable",
    "estimate_memory": "cnnlab.plan.memory:estimate_memory",
    "find_learning_rate": "cnnlab.plan.lr_find:find_learning_rate",
    "human_bytes": "cnnlab.plan.warnings:human_bytes",
    "human_seconds": "cnnlab.plan.warnings:human_seconds",
    "make_plan": "cnnlab.plan.planner:make_plan",
    "max_batch_size": "cnnlab.plan.memory:max_batch_size",
    "optimizer_slots": "cnnlab.plan.memory:optimizer_slots",
    "plan_warnings": "cnnlab.plan.warnings:plan_warnings",
    "smooth_losses": "cnnlab.plan.lr_find:smooth",
    "spec_data_bytes": "cnnlab.plan.memory:spec_data_bytes",
    "suggest_rate": "cnnlab.plan.lr_find:suggest_rate",
    "with_learning_rate": "cnnlab.plan.lr_find:with_learning_rate",
}

__all__ = sorted(_LAZY)
__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
