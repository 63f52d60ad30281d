"""The trainer in-process: events, stop, pause, NaN, errors, checkpoints, resume, determinism."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import Recorder, tiny_experiment, write_spec  # noqa: E402

from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import (  # noqa: E402
    BatchProgress,
    CheckpointWritten,
    EpochEnded,
    Failed,
    Finished,
    RunStarted,
    Stopped,
)
from cnnlab.train.headless import train_command  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def _state(store, run_id):
    return json.loads((store.run_dir(run_id) / "checkpoints" / "state.json").read_text())


def _finite_weights(path) -> bool:
    import keras

    model = keras.models.load_model(path, compile=False)
    return all(np.isfinite(w).all() for w in model.get_weights())


def test_events_metrics_and_artifacts(tmp_path):
    exp = tiny_experiment(epochs=2)
    rec = Recorder()
    out = run(exp, rec, workspace=tmp_path)
    assert out.status == "finished" and out.epochs_done == 2
    assert isinstance(rec.events[0], RunStarted) and isinstance(rec.events[-1], Finished)
    started = rec.events[0]
    assert started.device == "CPU" and started.precision == "float32"
    assert started.steps_per_epoch == 14 and started.epochs == 2 and started.params > 0
    ended = rec.of(EpochEnded)
    assert [e.epoch for e in ended] == [0, 1]
    assert all(set(METRICS) <= set(e.metrics) for e in ended)
    progress = rec.of(BatchProgress)
    assert progress and all(1 <= p.step <= p.steps == 14 for p in progress)
    assert all(b.elapsed - a.elapsed >= 0.05 for a, b in zip(progress, progress[1:]))
    written = rec.of(CheckpointWritten)
    assert [c.epoch for c in written if not c.best] == [0, 1]
    store = RunStore(tmp_path)
    record = store.get(out.run_id)
    assert record.status == "finished" and record.epochs_done == 2
    assert store.metrics(out.run_id)["loss"] == [e.metrics["loss"] for e in ended]
    run_dir = store.run_dir(out.run_id)
    assert json.loads((run_dir / "spec.json").read_text()) == exp.run_dict()
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert {"cnnlab", "keras", "tensorflow", "python"} <= set(meta["versions"])
    assert meta["device"] == "CPU" and meta["seed"] == 0 and meta["started_at"]
    assert meta["ended_at"]
    for name in ("last.keras", "best.keras", "state.json"):
        assert (run_dir / "checkpoints" / name).is_file()
    assert _state(store, out.run_id)["epochs_done"] == 2
    assert out.model_path == str(run_dir / "model.keras") and _finite_weights(out.model_path)
    assert not list((run_dir / "checkpoints").glob(".*tmp*"))


def test_events_come_on_the_calling_thread(tmp_path):
    threads = set()
    out = run(tiny_experiment(epochs=1), lambda e: threads.add(threading.get_ident()),
              workspace=tmp_path)
    assert out.status == "finished" and threads == {threading.get_ident()}


def test_stop_takes_effect_after_the_current_batch(tmp_path):
    def stop_first(rec, event):
        rec.stop_at = event
        rec.control.stop()

    rec = Recorder(on_batch=stop_first)
    out = run(tiny_experiment(epochs=3), rec, rec.control, workspace=tmp_path)
    assert out.status == "stopped" and isinstance(rec.events[-1], Stopped)
    assert rec.stop_at.epoch == 0 and rec.stop_at.step == 1
    assert len(rec.of(BatchProgress)) == 1
    store = RunStore(tmp_path)
    # The epoch cut short after one batch is not complete: no checkpoint, no metrics.
    assert not rec.of(EpochEnded) and not rec.of(CheckpointWritten) and out.epochs_done == 0
    assert not (store.run_dir(out.run_id) / "checkpoints" / "state.json").exists()
    assert store.get(out.run_id).status == "stopped" and store.get(out.run_id).epochs_done == 0
    assert rec.events[-1].model_path and _finite_weights(rec.events[-1].model_path)


def test_stopped_run_resumes_with_its_optimizer_state(tmp_path):
    control = __import__("cnnlab").Control()

    def sink(event):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == 1:
            control.stop()  # honoured after the first batch of epoch 2

    events: list = []
    out = run(tiny_experiment(epochs=4, samples=600), sink, control, workspace=tmp_path)
    # Epoch 3 was cut short after one batch: it does not count and is not checkpointed.
    assert out.status == "stopped" and out.epochs_done == 2
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0, 1]
    store = RunStore(tmp_path)
    steps = events[0].steps_per_epoch
    assert _state(store, out.run_id)["iterations"] == 2 * steps
    assert store.get(out.run_id).epochs_done == 2
    rec = Recorder()
    again = run(None, rec, workspace=tmp_path, resume=out.run_id)
    assert again.status == "finished" and again.run_id == out.run_id
    assert rec.events[0].initial_epoch == 2 and [e.epoch for e in rec.of(EpochEnded)] == [2, 3]
    state = _state(store, out.run_id)
    assert state["iterations"] == state["updates"] == 4 * steps  # exactly the planned steps
    losses = store.metrics(out.run_id)["loss"]
    assert len(losses) == 4 and losses[3] < losses[0]
    assert store.get(out.run_id).status == "finished"


def test_pause_holds_training_until_resumed(tmp_path):
    def pause_once(rec, event):
        if not hasattr(rec, "paused_at"):
            rec.paused_at = event
            rec.control.pause()
            threading.Timer(0.6, rec.control.resume).start()

    rec = Recorder(on_batch=pause_once)
    out = run(tiny_experiment(epochs=1, samples=600), rec, rec.control, workspace=tmp_path)
    assert out.status == "finished" and not rec.control.paused
    at = rec.events.index(rec.paused_at)
    assert rec.stamps[at + 1] - rec.stamps[at] >= 0.55  # nothing happened while paused
    assert rec.of(EpochEnded)[0].metrics["seconds"] >= 0.55


def test_stop_while_paused(tmp_path):
    def pause_then_stop(rec, event):
        rec.control.pause()
        threading.Timer(0.2, rec.control.stop).start()

    rec = Recorder(on_batch=pause_then_stop)
    out = run(tiny_experiment(epochs=2), rec, rec.control, workspace=tmp_path)
    assert out.status == "stopped" and len(rec.of(BatchProgress)) == 1


def _exploding_optimizer(training, steps, lr_multipliers=None, **kwargs):
    """A sane rate for one epoch and a bit, then an absurd one."""
    import keras

    rate = keras.optimizers.schedules.PiecewiseConstantDecay([steps + 2], [0.01, 1e30])
    return keras.optimizers.SGD(rate)


def test_nan_loss_stops_and_keeps_the_last_good_weights(tmp_path, monkeypatch):
    import keras

    import cnnlab.recipe

    monkeypatch.setattr(cnnlab.recipe, "make_optimizer", _exploding_optimizer)
    rec = Recorder()
    out = run(tiny_experiment(epochs=4), rec, workspace=tmp_path)
    assert out.status == "failed" and isinstance(rec.events[-1], Failed)
    message = rec.events[-1].message
    assert ("NaN" in message or "infinite" in message) and "learning rate" in message
    assert [e.epoch for e in rec.of(EpochEnded)] == [0] and out.epochs_done == 1
    store = RunStore(tmp_path)
    assert store.get(out.run_id).status == "failed"
    assert "learning rate" in store.get(out.run_id).message
    last = store.run_dir(out.run_id) / "checkpoints" / "last.keras"
    assert _finite_weights(out.model_path) and _finite_weights(last)
    saved = keras.models.load_model(out.model_path, compile=False).get_weights()
    good = keras.models.load_model(last, compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(saved, good))


def test_nan_in_the_first_epoch_keeps_the_initial_weights(tmp_path, monkeypatch):
    import keras

    import cnnlab.recipe

    monkeypatch.setattr(cnnlab.recipe, "make_optimizer",
                        lambda *a, **k: keras.optimizers.SGD(1e30))
    out = run(tiny_experiment(epochs=2), Recorder(), workspace=tmp_path)
    assert out.status == "failed" and out.epochs_done == 0
    assert _finite_weights(out.model_path)


def test_out_of_memory_is_a_message_not_a_crash(tmp_path, monkeypatch):
    import tensorflow as tf

    from cnnlab.train.session import Session

    def oom(self, ctx, first, end):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(Session, "_fit", oom)
    rec = Recorder()
    out = run(tiny_experiment(epochs=1), rec, workspace=tmp_path)
    failed = rec.events[-1]
    assert out.status == "failed" and isinstance(failed, Failed) and not out.user_error
    assert "out of memory" in failed.message and "smaller batch size (now 16)" in failed.message
    assert "ResourceExhaustedError" in failed.detail
    assert RunStore(tmp_path).get(out.run_id).status == "failed"


def test_output_units_must_match_the_classes(tmp_path, capsys):
    rec = Recorder()
    out = run(tiny_experiment(units=10), rec, workspace=tmp_path)
    expected = "output: it has 10 units but the data has 3 classes; set units to 3"
    assert out.status == "failed" and out.user_error and expected in out.message
    assert isinstance(rec.events[-1], Failed) and expected in rec.events[-1].message
    assert RunStore(tmp_path).list_runs() == []
    err = io.StringIO()
    assert train_command(tiny_experiment(units=10), workspace=tmp_path, stream=err) == 2
    assert err.getvalue().count("\n") == 1 and expected in err.getvalue()


def test_same_seed_same_metrics(tmp_path):
    def metrics(seed):
        rec = Recorder()
        run(tiny_experiment(epochs=2, seed=seed), rec, workspace=tmp_path)
        return [{k: v for k, v in e.metrics.items() if k != "seconds"}
                for e in rec.of(EpochEnded)]

    first = metrics(3)
    assert metrics(3) == first
    assert metrics(4) != first


def test_a_checkpoint_write_that_dies_leaves_the_previous_one(tmp_path, monkeypatch):
    from cnnlab.train import checkpoints

    calls = []

    def die_on_second(tmp):
        calls.append(tmp)
        assert tmp.is_file()
        if len(calls) == 2:
            raise SystemExit("killed while writing")

    monkeypatch.setattr(checkpoints, "_before_commit", die_on_second)
    rec = Recorder()
    out = run(tiny_experiment(epochs=3), rec, workspace=tmp_path)
    assert out.status == "failed"
    store = RunStore(tmp_path)
    folder = store.run_dir(out.run_id) / "checkpoints"
    assert _state(store, out.run_id)["epochs_done"] == 1 and _finite_weights(folder / "last.keras")
    (folder / ".last.keras.tmp-dead.keras").write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.undo()
    again = run(None, Recorder(), workspace=tmp_path, resume=out.run_id)
    assert again.status == "finished" and again.epochs_done == 3
    assert not list(folder.glob(".*tmp*"))


def test_resume_refuses_a_finished_run_unless_asked_for_more_epochs(tmp_path):
    out = run(tiny_experiment(epochs=1), Recorder(), workspace=tmp_path)
    again = run(None, Recorder(), workspace=tmp_path, resume=out.run_id)
    assert again.status == "failed" and again.user_error and "already trained" in again.message
    more = Recorder()
    again = run(None, more, workspace=tmp_path, resume=out.run_id, epochs=2)
    assert again.status == "finished" and again.epochs_done == 2
    assert more.events[0].initial_epoch == 1 and more.events[0].epochs == 2


def test_headless_json_line_and_progress(tmp_path, capsys):
    err = io.StringIO()
    spec = write_spec(tmp_path / "tiny.json", epochs=3)
    code = train_command(spec, epochs=1, workspace=tmp_path / "ws", json_out=True, stream=err)
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) >= {"run_id", "status", "epochs_done", "metrics", "run_dir", "model_path"}
    assert result["status"] == "finished" and result["epochs_done"] == 1
    assert set(result["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy",
                                      "test_loss", "test_accuracy"}
    assert 0.0 <= result["metrics"]["test_accuracy"] <= 1.0 and result["metrics"]["test_loss"] > 0
    assert "test_acc" in err.getvalue().strip().splitlines()[-1]
    assert os.path.isfile(result["model_path"])
    assert "epoch 1/1" in err.getvalue() and "finished" in err.getvalue()
    assert train_command(tmp_path / "missing.json", stream=err) == 2


def test_an_abort_marks_the_run_interrupted(tmp_path):
    def abort(rec, event):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tiny_experiment(epochs=2), Recorder(on_batch=abort), workspace=tmp_path)
    (record,) = RunStore(tmp_path).list_runs()
    assert record.status == "interrupted"


def test_first_ctrl_c_stops_the_second_aborts():
    import signal

    from cnnlab.train.events import Control
    from cnnlab.train.headless import stop_on_sigint

    control = Control()
    previous = signal.getsignal(signal.SIGINT)
    with stop_on_sigint(control):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert control.stop_requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
    assert signal.getsignal(signal.SIGINT) is previous
