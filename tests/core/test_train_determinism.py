"""``training.deterministic`` (issue 13): seeds plus TensorFlow op determinism for the run
only, recorded in the run; two such runs give bit-identical weights on a CPU."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
from core.test_trainer_support import tiny_experiment  # noqa: E402

from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import RunStarted  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402


def _op_determinism() -> bool:
    from tensorflow.python.framework import config

    return bool(config.is_op_determinism_enabled())


def _train(workspace, deterministic):
    """Train, noting whether op determinism was on while the run trained."""
    seen = []

    def sink(event):
        if isinstance(event, RunStarted):
            seen.append(_op_determinism())

    out = run(tiny_experiment(epochs=2, deterministic=deterministic,
                              augmentation={"layers": [{"type": "RandomFlip", "params": {}}]}),
              sink, workspace=workspace)
    assert out.status == "finished", out.message
    return out, seen[0]


def _weights(path):
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


def test_deterministic_runs_are_bit_identical_and_recorded(tmp_path):
    assert not _op_determinism()
    first, during = _train(tmp_path, True)
    assert during and not _op_determinism()  # on for the run, restored afterwards
    second, _ = _train(tmp_path, True)
    a, b = _weights(first.model_path), _weights(second.model_path)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    store = RunStore(tmp_path)
    for out in (first, second):
        meta = json.loads((store.run_dir(out.run_id) / "metadata.json").read_text())
        assert meta["deterministic"] is True
        assert store.get(out.run_id).deterministic


def test_an_ordinary_run_leaves_op_determinism_off_and_says_so(tmp_path):
    out, during = _train(tmp_path, False)
    assert not during and not _op_determinism()
    meta = json.loads((RunStore(tmp_path).run_dir(out.run_id) / "metadata.json").read_text())
    assert meta["deterministic"] is False and not RunStore(tmp_path).get(out.run_id).deterministic
