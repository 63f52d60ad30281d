"""Training: the trainer, its events and callbacks, checkpoints, devices.

Modules:
    trainer: ``run(spec, sink, control)``, one run from spec snapshot to saved model.
    session, preparation: one training session; data, compiling and metadata for it.
    events, callbacks: the protocol to the UI (events, control token) and Keras callbacks.
    checkpoints, filter_history: per-epoch checkpoints and filter snapshots.
    devices: device, precision, XLA, distribution and determinism.
    headless, progress: ``cnnlab train`` and its terminal display.
    curves: buffers of training events that plots redraw from.
    fork, graft: branching a run from a kept checkpoint (``train --fork RUN@EPOCH``).
    observers: the per-epoch observers a session runs, each in its own module:
    sample_records (per-sample losses), health, health_probe, health_rules, health_store
    (the training-health check, ``health.jsonl``), snapshots (snapshot ensembles).
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "BatchProgress": "cnnlab.train.events:BatchProgress",
    "Control": "cnnlab.train.events:Control",
    "CurveBuffers": "cnnlab.train.curves:CurveBuffers",
    "EpochEnded": "cnnlab.train.events:EpochEnded",
    "Failed": "cnnlab.train.events:Failed",
    "Finished": "cnnlab.train.events:Finished",
    "HEALTH_TITLES": "cnnlab.train.health_rules:TITLES",
    "HealthWarning": "cnnlab.train.events:HealthWarning",
    "RunStarted": "cnnlab.train.events:RunStarted",
    "Stopped": "cnnlab.train.events:Stopped",
    "TrainingHealth": "cnnlab.train.events:TrainingHealth",
    "branch_spec": "cnnlab.train.fork:branch_spec",
    "steer_label": "cnnlab.train.fork:steer_label",
    "steer_options": "cnnlab.train.fork:steer_options",
    "eta_seconds": "cnnlab.train.curves:eta_seconds",
    "format_values": "cnnlab.train.curves:format_values",
    "load_history": "cnnlab.train.filter_history:load_history",
    "read_health": "cnnlab.train.health_store:read_health",
    "read_health_warnings": "cnnlab.train.health_store:read_warnings",
}

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
