"""The trainer with recipe and device settings: transfer phases, augmentation, precision,
TensorBoard, steps per execution, extras; and the default experiment's headline check."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import Recorder, tiny_experiment  # noqa: E402

from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import Control, EpochEnded  # noqa: E402
from cnnlab.train.headless import train_command  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402


def _state(store, run_id):
    return json.loads((store.run_dir(run_id) / "checkpoints" / "state.json").read_text())



def test_augmentation_in_the_model_is_not_saved(tmp_path):
    import keras

    aug = {"placement": "model", "layers": [{"type": "RandomFlip", "params": {}}]}
    out = run(tiny_experiment(epochs=1, augmentation=aug), Recorder(), workspace=tmp_path)
    assert out.status == "finished"
    names = [layer.name for layer in keras.models.load_model(out.model_path).layers]
    assert names[0] == "input" and names[-1] == "output" and "augmentation" not in names


def test_precision_policy_is_restored(tmp_path):
    import keras

    rec = Recorder()
    device = {"mixed_precision": "mixed_bfloat16"}
    out = run(tiny_experiment(epochs=1, device=device), rec, workspace=tmp_path)
    assert out.status == "finished" and rec.events[0].precision == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_tensorboard_logs_or_a_clear_refusal(tmp_path):
    import importlib.util

    out = run(tiny_experiment(epochs=1, device={"tensorboard": True}), Recorder(),
              workspace=tmp_path)
    if importlib.util.find_spec("tensorboard") is None:
        assert out.user_error and "tensorboard package" in out.message
        assert RunStore(tmp_path).list_runs() == []
        return
    assert out.status == "finished"
    logs = RunStore(tmp_path).run_dir(out.run_id) / "tensorboard"
    assert any(p.name.startswith("events.out") for p in logs.rglob("*"))


def test_steps_per_execution_still_stops_and_records(tmp_path):
    control = Control()

    def stop_in_second_epoch(event):
        events.append(event)
        if isinstance(event, EpochEnded):
            control.stop()  # honoured after the first 4-batch call of epoch 2

    events: list = []
    device = {"steps_per_execution": 4}
    out = run(tiny_experiment(epochs=3, device=device), stop_in_second_epoch, control,
              workspace=tmp_path)
    assert out.status == "stopped" and out.epochs_done == 1
    store = RunStore(tmp_path)
    steps = events[0].steps_per_epoch
    assert _state(store, out.run_id)["iterations"] == steps  # epoch 2's 4 batches do not count
    again = run(None, Recorder(), workspace=tmp_path, resume=out.run_id)
    assert again.status == "finished" and _state(store, out.run_id)["iterations"] == 3 * steps


def test_fine_tune_resumes_into_the_next_phase(tmp_path):
    control = Control()

    def stop_after_the_head_phase(event):
        if isinstance(event, EpochEnded):
            control.stop()  # honoured after the first batch of phase 2

    transfer = {"strategy": "fine_tune", "head_epochs": 1, "lr_multiplier": 0.5}
    exp = tiny_experiment(epochs=3, base="base_", transfer=transfer)
    out = run(exp, stop_after_the_head_phase, control, workspace=tmp_path)
    assert out.status == "stopped" and out.epochs_done == 1
    store = RunStore(tmp_path)
    assert _state(store, out.run_id)["phase"] == 0
    more = Recorder()
    again = run(None, more, workspace=tmp_path, resume=out.run_id)
    assert again.status == "finished" and more.events[0].initial_epoch == 1
    state = _state(store, out.run_id)
    assert state["phase"] == 1 and state["iterations"] == 3 * state["steps_per_epoch"]


def test_a_zero_multiplier_freezes_a_block(tmp_path):
    import keras

    from cnnlab.build import build_model

    transfer = {"strategy": "multipliers", "layer_multipliers": {"conv1": 0.0}}
    exp = tiny_experiment(epochs=1, transfer=transfer)
    keras.utils.set_random_seed(exp.training.seed)
    initial = build_model(exp)
    out = run(exp, Recorder(), workspace=tmp_path)
    trained = keras.models.load_model(out.model_path, compile=False)
    assert out.status == "finished"
    for name, frozen in (("conv1", True), ("conv2", False)):
        before = initial.get_layer(name).get_weights()[0]
        after = trained.get_layer(name).get_weights()[0]
        assert np.array_equal(before, after) == frozen


def test_a_failing_extra_callback_never_fails_the_run(tmp_path, monkeypatch):
    import keras

    from cnnlab.train import filter_history

    class Broken(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("broken extra")

    monkeypatch.setattr(filter_history, "make_callback", lambda run_dir: Broken())
    out = run(tiny_experiment(epochs=2), Recorder(), workspace=tmp_path)
    assert out.status == "finished" and out.epochs_done == 2


def test_device_plan_refusals():
    from cnnlab.errors import CnnlabError
    from cnnlab.spec.sections import DeviceSpec
    from cnnlab.train.devices import plan_devices

    with pytest.raises(CnnlabError, match="GPU"):
        plan_devices(DeviceSpec(device="gpu"))
    with pytest.raises(CnnlabError, match="TF_CONFIG"):
        plan_devices(DeviceSpec(distribute="multi_worker"))
    plan = plan_devices(DeviceSpec(jit_compile="on"), xla_ok=False)
    assert plan.jit_compile is False and plan.notes
    assert plan_devices(DeviceSpec(jit_compile="on")).jit_compile is True


@pytest.mark.slow  # CI budget (15-40 s); the acceptance matrix trains the default experiment,
# shrunk, for every option, and test_default_experiment_reaches_95_percent... is the full check
def test_default_experiment_learns_in_a_few_epochs(tmp_path):
    """The short headline check: the default experiment, four epochs, well above chance."""
    from cnnlab.presetlib import default_experiment

    rec = Recorder()
    out = run(default_experiment(), rec, workspace=tmp_path, epochs=4)
    assert out.status == "finished"
    assert out.metrics["val_accuracy"] > 0.3  # chance is 1/6
    assert not math.isnan(out.metrics["val_loss"])


@pytest.mark.slow
def test_default_experiment_reaches_95_percent_within_two_minutes(tmp_path, capsys):
    """The headline check: ``cnnlab train`` on the default experiment, as shipped."""
    from cnnlab.presetlib import default_experiment

    err = io.StringIO()
    t0 = time.monotonic()
    code = train_command(default_experiment(), workspace=tmp_path, json_out=True, stream=err)
    seconds = time.monotonic() - t0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and result["status"] == "finished", err.getvalue()
    assert result["metrics"]["val_accuracy"] >= 0.95, err.getvalue()
    assert seconds < 120
