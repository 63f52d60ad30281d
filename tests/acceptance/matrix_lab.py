"""The acceptance matrix's tools: a tiny experiment, one CLI run per case, what it left.

Every case starts from the experiment ``cnnlab new`` writes, shrunk to 96
shapes images of 16x16 and a narrow network, edits it (a function of the
experiment dict), trains it through ``cnnlab.cli.main(["train", ...])`` in
this process, and checks the JSON line, the run store's metrics, the run
folder and the saved ``model.keras``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.cli import main

SAMPLES = 96
SIZE = 16
BATCH = 16
Edit = Callable[[dict], None]


def cli(*args: Any) -> tuple[int, str, str]:
    """Run ``cnnlab ARGS`` in this process; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def shrink(d: dict, size: int = SIZE) -> dict:
    """Make the default experiment tiny: 96 images of size x size, 8 filters, 1 epoch."""
    d["data"]["shapes"].update(image_size=size, samples=SAMPLES)
    for node in d["model"]["nodes"]:
        p = node["params"]
        if node["type"] == "Input":
            p["shape"] = [size, size, p["shape"][2]]
        if "filters" in p:
            p["filters"] = 8
        if node["id"] == "fc1":
            p["units"] = 16
    d["training"].update(epochs=1, batch_size=BATCH)
    return d


def node(d: dict, node_id: str) -> dict:
    """The node ``node_id`` of an experiment dict."""
    return next(n for n in d["model"]["nodes"] if n["id"] == node_id)


def insert_after(d: dict, src: str, new_id: str, kind: str, params: dict) -> None:
    """Put a new block between ``src`` and the block(s) it feeds."""
    edges = d["model"]["edges"]
    for e in edges:
        if e["src"] == src:
            e["src"] = new_id
    edges.append({"src": src, "dst": new_id})
    d["model"]["nodes"].append({"id": new_id, "type": kind, "params": params})


@dataclass
class Run:
    """What one ``cnnlab train`` left behind."""

    code: int
    stdout: str
    stderr: str
    workspace: Path
    spec: dict
    result: dict = field(default_factory=dict)
    _model: Any = None

    @property
    def ok(self) -> bool:
        """Finished with status 0 and a JSON line."""
        return self.code == 0 and self.result.get("status") == "finished"

    def describe(self) -> str:
        """The run's output, for assertion messages."""
        return f"exit {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"

    @property
    def run_dir(self) -> Path:
        """The run folder."""
        return Path(self.result["run_dir"])

    @property
    def metrics(self) -> dict[str, list[float]]:
        """Per-epoch metrics from the run store (incl. ``lr``)."""
        from cnnlab.runs.store import RunStore

        return RunStore(self.workspace).metrics(self.result["run_id"])

    @property
    def metadata(self) -> dict:
        """The run's ``metadata.json``."""
        return json.loads((self.run_dir / "metadata.json").read_text())

    @property
    def model(self) -> Any:
        """The saved ``model.keras`` (uncompiled)."""
        if self._model is None:
            import keras

            import cnnlab.layers  # noqa: F401 - registers the lab's layers

            self._model = keras.models.load_model(self.result["model_path"], compile=False)
        return self._model

    def weights(self) -> dict[str, list[np.ndarray]]:
        """Layer name -> its weights (numpy), from the saved model."""
        return {layer.name: [np.asarray(w) for w in layer.get_weights()]
                for layer in self.model.layers}

    def steps_per_epoch(self) -> int:
        """Training batches per epoch, from the run's recorded split sizes."""
        train = self.metadata["data"]["sizes"]["train"]
        return math.ceil(train / self.spec["training"]["batch_size"])

    def val_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The validation images and labels as the run saw them."""
        return self.arrays("val")

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The training images and labels before augmentation."""
        return self.arrays("train")

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The images and labels of one split, loaded again from the run's spec."""
        from cnnlab.data import load_data
        from cnnlab.spec.load import experiment_from_dict

        exp = experiment_from_dict(self.spec)
        shape = tuple(self.model.input_shape[1:])
        return load_data(exp.data, shape, exp.training.seed).arrays(split)


class Lab:
    """One workspace for the whole matrix, the tiny base experiment, cached baselines."""

    def __init__(self, root: Path):
        self.root = root
        self.workspace = root / "ws"
        self._count = 0
        self._cache: dict[str, Run] = {}
        base = root / "base.json"
        code, _, err = cli("new", base)
        assert code == 0, err
        self.base = shrink(json.loads(base.read_text()))

    def spec(self, *edits: Edit, size: int = SIZE) -> dict:
        """A fresh copy of the base experiment with ``edits`` applied."""
        d = copy.deepcopy(self.base) if size == SIZE else shrink(copy.deepcopy(self.base),
                                                                  size)
        for edit in edits:
            edit(d)
        return d

    def write(self, d: dict, name: str = "case") -> Path:
        """Write an experiment dict to a new file."""
        self._count += 1
        path = self.root / f"{self._count:03d}_{name}.json"
        path.write_text(json.dumps(d))
        return path

    def train(self, d: dict, *args: Any) -> Run:
        """``cnnlab train SPEC --workspace W --json ARGS`` of an experiment dict."""
        path = self.write(d)
        code, out, err = cli("train", path, "--workspace", self.workspace, "--json", *args)
        lines = [line for line in out.strip().splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {}
        return Run(code, out, err, self.workspace, d, result)

    def cached(self, key: str, *edits: Edit, size: int = SIZE) -> Run:
        """A run shared by several cases (trained once per session)."""
        if key not in self._cache:
            run = self.train(self.spec(*edits, size=size))
            assert run.ok, run.describe()
            self._cache[key] = run
        return self._cache[key]


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    """Exit status 2, one ``cnnlab: error:`` line naming ``words``, no traceback."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("cnnlab: error:")]
    assert len(errors) == 1, err
    for word in words:
        assert word in errors[0], errors[0]


def layer_names(run: Run) -> list[str]:
    """The saved model's layer names, in order."""
    return [layer.name for layer in run.model.layers]


def changed(a: Iterable[np.ndarray], b: Iterable[np.ndarray]) -> bool:
    """True when any array differs."""
    return any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def identical(a: Iterable[np.ndarray], b: Iterable[np.ndarray]) -> bool:
    """True when every array is bit-identical."""
    a, b = list(a), list(b)
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
