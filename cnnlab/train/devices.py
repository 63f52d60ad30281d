"""Where a run trains: device choice, precision, XLA, distribution and determinism.

:func:`plan_devices` turns a :class:`~cnnlab.spec.sections.DeviceSpec` into a
:class:`DevicePlan` (what the run reports and how Keras is set up);
:func:`activated` applies it for the length of a run and restores the global
state (precision policy, op determinism) afterwards. TensorFlow is imported
inside the functions.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import CnnlabError
from cnnlab.spec.sections import DeviceSpec


@dataclass(frozen=True)
class DevicePlan:
    """How a run uses the machine.

    Attributes:
        name: What trains, for people: ``"CPU"``, ``"NVIDIA H100 (79.1 GiB)"``,
            ``"2 x CPU (mirrored)"``.
        kind: ``"cpu"`` or ``"gpu"``.
        precision: The Keras dtype policy name (``"float32"``, ``"mixed_float16"``).
        jit_compile: The value given to ``model.compile`` (True, False or "auto").
        steps_per_execution: Batches per compiled call.
        replicas: Number of model replicas (1 without distribution).
        strategy: The ``tf.distribute`` strategy, or None for the default one.
        notes: Adjustments made to the request, one sentence each.
    """

    name: str
    kind: str
    precision: str = "float32"
    jit_compile: Any = "auto"
    steps_per_execution: int = 1
    replicas: int = 1
    strategy: Any = None
    notes: tuple[str, ...] = ()

    def scope(self) -> contextlib.AbstractContextManager:
        """The strategy scope to build and compile the model in (a no-op by default)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``metadata.json``."""
        return {"device": self.name, "kind": self.kind, "precision": self.precision,
                "jit_compile": self.jit_compile, "steps_per_execution": self.steps_per_execution,
                "replicas": self.replicas, "notes": list(self.notes)}


def plan_devices(spec: DeviceSpec, xla_ok: bool = True) -> DevicePlan:
    """Decide what trains, from the request and what TensorFlow sees.

    Args:
        spec: The run's device settings.
        xla_ok: False when the model contains layers XLA cannot compile (some
            augmentation layers); XLA is then off whatever was asked.

    Returns:
        The plan.

    Raises:
        CnnlabError: A GPU was asked for and there is none, or ``multi_worker``
            was asked for without a ``TF_CONFIG`` cluster description.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if spec.device == "gpu" and not gpus:
        raise CnnlabError("the experiment asks for a GPU (Device: gpu) but TensorFlow sees "
                          "none; choose auto or cpu")
    kind = "gpu" if gpus and spec.device != "cpu" else "cpu"
    notes: list[str] = []
    strategy, replicas, name = _strategy(spec.distribute, kind, gpus, notes)
    return DevicePlan(name=name, kind=kind, precision=_precision(spec.mixed_precision),
                      jit_compile=_jit(spec.jit_compile, xla_ok, notes),
                      steps_per_execution=spec.steps_per_execution, replicas=replicas,
                      strategy=strategy, notes=tuple(notes))


def check_batch(plan: DevicePlan, batch_size: int) -> None:
    """Refuse a batch that the replicas cannot share evenly.

    Keras builds a distributed model from the mean of the replicas' first
    batches, which fails when their sizes differ.

    Raises:
        CnnlabError: The batch size is not a multiple of the number of replicas.
    """
    if plan.replicas > 1 and batch_size % plan.replicas:
        raise CnnlabError(f"with {plan.replicas} replicas the batch size must be a multiple "
                          f"of {plan.replicas} (now {batch_size})")


def _precision(mixed: str) -> str:
    return "float32" if mixed == "none" else mixed


def _jit(request: str, xla_ok: bool, notes: list[str]) -> Any:
    if not xla_ok:
        if request == "on":
            notes.append("XLA is off: the model's augmentation layers cannot be compiled "
                         "with XLA")
        return False
    return {"on": True, "off": False}.get(request, "auto")


def _strategy(distribute: str, kind: str, gpus: list, notes: list[str]):
    """Return ``(strategy or None, replicas, device name)``."""
    import tensorflow as tf

    if distribute == "multi_worker":
        return _multi_worker(kind, gpus)
    if distribute == "mirrored":
        devices = _mirror_devices(kind, gpus)
        if len(devices) > 1:
            strategy = tf.distribute.MirroredStrategy(devices=devices)
            return strategy, len(devices), f"{len(devices)} x {_describe(kind, gpus)} (mirrored)"
        notes.append("mirrored distribution needs two devices or more; training on one")
    if kind == "cpu" and gpus:
        return tf.distribute.OneDeviceStrategy("/cpu:0"), 1, "CPU"
    return None, 1, _describe(kind, gpus)


def _mirror_devices(kind: str, gpus: list) -> list[str]:
    import tensorflow as tf

    if kind == "gpu":
        return [d.name for d in tf.config.list_logical_devices("GPU")]
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _multi_worker(kind: str, gpus: list):
    raw = os.environ.get("TF_CONFIG", "")
    try:
        cluster = json.loads(raw)["cluster"]
    except (ValueError, KeyError, TypeError):
        raise CnnlabError("distribute multi_worker needs the TF_CONFIG environment variable "
                          "to describe the cluster (cluster and task)") from None
    strategy = keras_multi_worker_strategy()
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    replicas = int(strategy.num_replicas_in_sync)
    return strategy, replicas, f"{workers} workers x {_describe(kind, gpus)} (multi-worker)"


def keras_multi_worker_strategy() -> Any:
    """A ``MultiWorkerMirroredStrategy`` whose ``reduce`` takes what Keras 3's ``fit`` gives it.

    Keras 3 (keras-team/keras#20585) reduces a whole ``(x, y)`` batch with one
    ``strategy.reduce`` when ``fit`` builds the model, and each step's scalar
    logs with ``axis=0``; the collective strategy refuses both ("Attempt to
    convert a value (PerReplica...)", "Invalid reduction dimension 0 for input
    with 0 dimensions"). Here a nest is reduced leaf by leaf and a scalar across
    replicas only; everything else is TensorFlow's own reduce.
    """
    import tensorflow as tf

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            distributed = isinstance(value, tf.distribute.DistributedValues)
            if not (distributed or tf.is_tensor(value)):
                return tf.nest.map_structure(
                    lambda v: v if v is None else self.reduce(reduce_op, v, axis), value)
            local = self.experimental_local_results(value)[0] if distributed else value
            if axis is not None and local.shape.rank == 0:
                axis = None
            return super().reduce(reduce_op, value, axis)

    return KerasMultiWorkerStrategy()


def _describe(kind: str, gpus: list) -> str:
    if kind == "cpu":
        return "CPU"
    names = [describe_gpu(i, gpu) for i, gpu in enumerate(gpus)]
    if len(set(names)) == 1 and len(names) > 1:
        return f"{len(names)} x {names[0]}"
    return ", ".join(names)


def describe_gpu(index: int, gpu: Any) -> str:
    """A GPU's name and memory, such as ``"NVIDIA H100 80GB HBM3 (79.1 GiB)"``."""
    import tensorflow as tf

    try:
        name = tf.config.experimental.get_device_details(gpu).get("device_name") or gpu.name
    except (ValueError, RuntimeError):
        name = gpu.name
    total = _gpu_memory_bytes(index)
    return f"{name} ({total / 2**30:.1f} GiB)" if total else str(name)


def _gpu_memory_bytes(index: int) -> int | None:
    """Memory TensorFlow can use on GPU ``index`` (None when unknown)."""
    try:
        from tensorflow.python.client import device_lib

        gpus = [d for d in device_lib.list_local_devices() if d.device_type == "GPU"]
        return int(gpus[index].memory_limit) if index < len(gpus) else None
    except Exception:  # noqa: BLE001 - a private API; the name alone is enough
        return None


@contextlib.contextmanager
def activated(plan: DevicePlan, deterministic: bool = False) -> Iterator[DevicePlan]:
    """Apply the plan's precision policy and determinism for one run, then restore them.

    Both are process-global in Keras/TensorFlow, so they are set for the
    length of the run only and put back as they were afterwards.

    Args:
        plan: The plan from :func:`plan_devices`.
        deterministic: Turn on TensorFlow op determinism
            (``training.deterministic``; the trainer seeds Keras in every
            run). Bit-identical on one machine; on a GPU an op without a
            deterministic kernel then fails the run with TensorFlow's message.

    Yields:
        The plan.
    """
    import keras

    previous_policy = keras.mixed_precision.global_policy().name
    previous_det = _determinism_enabled()
    keras.mixed_precision.set_global_policy(plan.precision)
    if deterministic:
        _set_determinism(True)
    try:
        yield plan
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        _set_determinism(previous_det)


def _determinism_enabled() -> bool:
    from tensorflow.python.framework import config

    return bool(config.is_op_determinism_enabled())


def _set_determinism(on: bool) -> None:
    from tensorflow.python.framework import config

    if on:
        config.enable_op_determinism()
    else:
        config.disable_op_determinism()


def split_cpu(count: int) -> None:
    """Split the CPU into ``count`` logical devices (for mirrored training on one CPU).

    Must run before TensorFlow initialises its devices, so call it first
    thing in a fresh process.
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
