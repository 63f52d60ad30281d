"""Gradient accumulation through the trainer (issue 12, defect 1).

Every run here has 64 training samples (``samples=91`` of the shapes data),
so a whole epoch's gradient does not depend on the shuffled order and
accumulated runs can be compared exactly with large-batch ones.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import Recorder, tiny_experiment  # noqa: E402

from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import Control, EpochEnded  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

TRAIN_64 = 91  # shapes samples that leave exactly 64 for training


def _state(workspace, run_id):
    path = RunStore(workspace).run_dir(run_id) / "checkpoints" / "state.json"
    return json.loads(path.read_text())


def _weights(path):
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


def _assert_same_weights(a, b, atol):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


def test_four_accumulated_batches_of_16_equal_one_batch_of_64(tmp_path):
    import keras

    from cnnlab.build import build_model

    sgd = {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}
    exp = tiny_experiment(samples=TRAIN_64, epochs=2, batch=16, optimizer=sgd,
                          gradient_accumulation_steps=4)
    accumulated = run(exp, Recorder(), workspace=tmp_path)
    large = run(tiny_experiment(samples=TRAIN_64, epochs=2, batch=64, optimizer=sgd),
                Recorder(), workspace=tmp_path)
    assert accumulated.status == large.status == "finished", accumulated.message
    a, b = _weights(accumulated.model_path), _weights(large.model_path)
    _assert_same_weights(a, b, atol=1e-5)
    keras.utils.set_random_seed(exp.training.seed)
    start = build_model(exp).get_weights()  # the same start the trainer built
    assert max(np.abs(x - y).max() for x, y in zip(a, start)) > 1e-3  # two real updates
    # Counters: the schedule position counts batches, ``iterations`` counts updates.
    acc_state, large_state = _state(tmp_path, accumulated.run_id), _state(tmp_path, large.run_id)
    assert acc_state["iterations"] == 8 and acc_state["updates"] == 2
    assert large_state["iterations"] == large_state["updates"] == 2
    last = RunStore(tmp_path).run_dir(accumulated.run_id) / "checkpoints" / "last.keras"
    optimizer = keras.models.load_model(last).optimizer
    assert int(optimizer.iterations) == 2 and optimizer.gradient_accumulation_steps == 4


OPTIMIZERS = {
    "sgd": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    "adam": {"name": "adam", "learning_rate": 0.01},
    "adamw": {"name": "adamw", "learning_rate": 0.01, "weight_decay": 0.01},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.005, "momentum": 0.5},
    "adagrad": {"name": "adagrad", "learning_rate": 0.05},
}


def _fine_tune(optimizer):
    """4 epochs of 2 batches, 4 batches per update; the head alone for 2 epochs, then all."""
    transfer = {"strategy": "fine_tune", "head_epochs": 2, "lr_multiplier": 0.5}
    return tiny_experiment(samples=TRAIN_64, epochs=4, batch=32, base="base_",
                           optimizer=OPTIMIZERS[optimizer], transfer=transfer,
                           gradient_accumulation_steps=4,
                           schedule={"name": "cosine"})


# Adam by default (with moments); SGD and the other three are slow (about 5 s each; CI budget).
@pytest.mark.parametrize("optimizer", [o if o == "adam" else
                                       pytest.param(o, marks=pytest.mark.slow)
                                       for o in sorted(OPTIMIZERS)])
def test_accumulation_with_phases_resumes_exactly(tmp_path, optimizer):
    """Stopped in the middle of an accumulation group, the resumed run ends where an
    uninterrupted one does: accumulated gradients, slots and both counters are restored."""
    whole = run(_fine_tune(optimizer), Recorder(), workspace=tmp_path)
    assert whole.status == "finished", whole.message

    control = Control()

    def stop_in_the_last_epoch(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            control.stop()  # honoured after the first batch of epoch 4

    stopped = run(_fine_tune(optimizer), stop_in_the_last_epoch, control, workspace=tmp_path)
    assert stopped.status == "stopped" and stopped.epochs_done == 3
    state = _state(tmp_path, stopped.run_id)
    # 6 batches: one update in the head phase, and 2 batches waiting in the accumulators.
    assert (state["iterations"], state["updates"], state["phase"]) == (6, 1, 1)
    resumed = run(None, Recorder(), workspace=tmp_path, resume=stopped.run_id)
    assert resumed.status == "finished" and resumed.epochs_done == 4
    state = _state(tmp_path, stopped.run_id)
    assert (state["iterations"], state["updates"]) == (8, 2)
    assert _state(tmp_path, whole.run_id)["updates"] == 2
    _assert_same_weights(_weights(resumed.model_path), _weights(whole.model_path), atol=1e-6)


def test_accumulation_resumes_into_the_next_phase(tmp_path):
    """Stopped in the head phase, resumed into the fine-tuning phase (a new optimizer)."""
    control = Control()

    def stop_after_the_first_epoch(event):
        if isinstance(event, EpochEnded):
            control.stop()

    stopped = run(_fine_tune("adam"), stop_after_the_first_epoch, control, workspace=tmp_path)
    assert stopped.status == "stopped" and stopped.epochs_done == 1
    rec = Recorder()
    resumed = run(None, rec, workspace=tmp_path, resume=stopped.run_id)
    assert resumed.status == "finished" and rec.events[0].initial_epoch == 1
    state = _state(tmp_path, stopped.run_id)
    assert (state["phase"], state["iterations"], state["updates"]) == (1, 8, 2)
