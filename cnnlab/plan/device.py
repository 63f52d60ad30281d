"""The memory the chosen device has free: GPU memory from TensorFlow, else available RAM."""

from __future__ import annotations

from typing import Any


def available_ram() -> int | None:
    """The RAM the kernel can give without swapping, in bytes; None: unknown.

    The same measure as the folder cache's budget (``MemAvailable``; psutil
    elsewhere), else the machine's total memory.
    """
    from cnnlab.analysis import machine_memory
    from cnnlab.data.cache_plan import available_memory as available_now

    return available_now() or machine_memory()


def available_memory(plan: Any) -> int | None:
    """Free bytes on the device a :class:`~cnnlab.train.devices.DevicePlan` trains on.

    A GPU: the memory TensorFlow may use there (its device details) minus what
    it already holds (``tf.config.experimental.get_memory_info``). A CPU:
    :func:`available_ram`.
    """
    if getattr(plan, "kind", "cpu") != "gpu":
        return available_ram()
    return gpu_free_bytes(0)


def gpu_free_bytes(index: int) -> int | None:
    """Free bytes TensorFlow can still use on GPU ``index`` (None when it does not say)."""
    import tensorflow as tf

    try:
        from tensorflow.python.client import device_lib

        gpus = [d for d in device_lib.list_local_devices() if d.device_type == "GPU"]
        limit = int(gpus[index].memory_limit)
    except Exception:  # noqa: BLE001 - a private API; without it the memory is unknown
        return None
    try:
        used = int(tf.config.experimental.get_memory_info(f"GPU:{index}")["current"])
    except (ValueError, RuntimeError):
        used = 0
    return max(limit - used, 0)
