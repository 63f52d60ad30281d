"""Helpers shared by the trainer tests: tiny experiments on the shapes data, event sinks."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from cnnlab.spec import experiment_from_dict  # noqa: E402
from cnnlab.train.events import BatchProgress, Control  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def tiny_spec(samples: int = 300, size: int = 16, epochs: int = 2, batch: int = 16,
              seed: int = 0, units: int | None = None, lr: float = 0.01, width: int = 8,
              classes: tuple = ("circle", "square", "cross"), head: str = "flatten",
              base: str = "", **training) -> dict:
    """A small CNN on small shapes images, as a spec dict (``base`` prefixes the conv ids)."""
    layers = [
        (f"{base}conv1", "Conv2D", {"filters": width, "kernel_size": 3, "padding": "same",
                                    "activation": "relu"}),
        (f"{base}pool1", "MaxPooling2D", {"pool_size": 2}),
        (f"{base}conv2", "Conv2D", {"filters": 2 * width, "kernel_size": 3, "padding": "same",
                                    "activation": "relu"}),
        ("gap", "GlobalAveragePooling2D" if head == "gap" else "Flatten", {}),
        ("output", "Output", {"units": units or len(classes), "activation": "softmax"}),
    ]
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [size, size, 3]}}]
    nodes += [{"id": i, "type": t, "params": p} for i, t, p in layers]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    train = {"epochs": epochs, "batch_size": batch, "seed": seed,
             "optimizer": {"name": "adam", "learning_rate": lr}}
    train.update(training)
    return {"schema_version": 1, "name": "tiny", "model": {"nodes": nodes, "edges": edges},
            "data": {"source": "shapes", "shapes": {"image_size": size, "samples": samples,
                                                     "classes": list(classes)}},
            "training": train}


def tiny_experiment(**kwargs):
    """:func:`tiny_spec` as an Experiment."""
    return experiment_from_dict(tiny_spec(**kwargs))


def write_spec(path: Path, **kwargs) -> Path:
    """Write a tiny spec file and return its path."""
    path.write_text(json.dumps(tiny_spec(**kwargs)), encoding="utf-8")
    return path


class Recorder:
    """An event sink that keeps every event (as the window's adapter does) and can act."""

    def __init__(self, control: Control | None = None, on_batch=None):
        self.events: list = []
        self.stamps: list[float] = []  # time.monotonic() at each event
        self.control = control or Control()
        self.on_batch = on_batch
        self.thread = threading.current_thread()

    def __call__(self, event) -> None:
        self.events.append(event)
        self.stamps.append(time.monotonic())
        if self.on_batch is not None and isinstance(event, BatchProgress):
            self.on_batch(self, event)

    def of(self, kind) -> list:
        """The events of one type."""
        return [e for e in self.events if isinstance(e, kind)]


def python_env(workspace: Path) -> dict:
    """Environment for a child Python that trains into ``workspace``."""
    env = dict(os.environ, CNNLAB_HOME=str(workspace), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return env


def start_python(args: list[str], workspace: Path, **kwargs) -> subprocess.Popen:
    """Start ``python ARGS`` with the repo importable and the workspace as CNNLAB_HOME."""
    return subprocess.Popen([sys.executable, *args], env=python_env(workspace), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def wait_for(predicate, proc, timeout=180.0):
    """Poll until ``predicate()`` returns something truthy; fail if ``proc`` ends first."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the child ended early ({proc.returncode}):\n{out}\n{err[-3000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("timed out waiting for the child")
