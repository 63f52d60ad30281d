"""How runs end (issues 12 and 13): the test-set result, completing a run killed during its
final save, and an index that never counts an epoch the checkpoint does not hold."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import signal  # noqa: E402
import textwrap  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import Recorder, start_python, tiny_experiment, write_spec  # noqa: E402

from cnnlab.cli import main  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import Finished  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

SIX = ("circle", "square", "triangle", "star", "cross", "ring")


def _json_line(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _evaluate(model_path, exp, split="test"):
    """Keras's own evaluation of a saved model on a split of the experiment's data."""
    import keras

    from cnnlab.data import load_data
    from cnnlab.train.preparation import input_shape

    data = load_data(exp.data, input_shape(exp), exp.training.seed)
    x, y = data.arrays(split)
    model = keras.models.load_model(model_path, compile=False)
    probs = model.predict(x, verbose=0)
    loss = float(keras.losses.sparse_categorical_crossentropy(y, probs).numpy().mean())
    top5 = np.argsort(-probs, axis=1)[:, :5]
    return {"loss": loss, "accuracy": float((probs.argmax(1) == y).mean()),
            "top5": float(np.mean([label in row for label, row in zip(y, top5)]))}


def test_train_json_reports_the_test_split_everywhere(tmp_path, capsys):
    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "six.json", epochs=2, classes=SIX, samples=240,
                      metrics=["accuracy", "top5"])
    assert main(["train", str(spec), "--workspace", str(ws), "--json"]) == 0
    result = _json_line(capsys)
    metrics = result["metrics"]
    assert {"test_loss", "test_accuracy", "test_top5"} <= set(metrics)
    exp = tiny_experiment(epochs=2, classes=SIX, samples=240, metrics=["accuracy", "top5"])
    expected = _evaluate(result["model_path"], exp)
    assert metrics["test_accuracy"] == pytest.approx(expected["accuracy"], abs=1e-6)
    assert metrics["test_top5"] == pytest.approx(expected["top5"], abs=1e-6)
    assert metrics["test_loss"] == pytest.approx(expected["loss"], rel=1e-4)
    assert metrics["test_top5"] >= metrics["test_accuracy"]
    record = RunStore(ws).get(result["run_id"])
    assert record.test_accuracy == pytest.approx(metrics["test_accuracy"])
    assert record.test_top5 == pytest.approx(metrics["test_top5"])
    meta = json.loads((RunStore(ws).run_dir(result["run_id"]) / "metadata.json").read_text())
    assert meta["test"]["loss"] == pytest.approx(metrics["test_loss"])


def test_the_finished_event_and_the_final_line_carry_the_test_result(tmp_path, capsys):
    rec = Recorder()
    out = run(tiny_experiment(epochs=1), rec, workspace=tmp_path)
    finished = rec.events[-1]
    assert isinstance(finished, Finished) and out.status == "finished"
    assert {"test_loss", "test_accuracy"} <= set(finished.metrics)
    assert "test_top5" not in finished.metrics  # only when the experiment asks for it
    assert out.metrics["test_accuracy"] == finished.metrics["test_accuracy"]
    code = main(["train", str(write_spec(tmp_path / "t.json", epochs=1)),
                 "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0 and "test_acc" in err[-1] and "test_loss" in err[-1]


def test_a_stopped_run_is_tested_when_its_resume_finishes(tmp_path, capsys):
    def stop_first(rec, event):
        rec.control.stop()

    rec = Recorder(on_batch=stop_first)
    out = run(tiny_experiment(epochs=2), rec, rec.control, workspace=tmp_path)
    assert out.status == "stopped" and "test_accuracy" not in out.metrics
    assert RunStore(tmp_path).get(out.run_id).test_accuracy is None
    assert main(["train", "--resume", out.run_id, "--workspace", str(tmp_path), "--json"]) == 0
    result = _json_line(capsys)
    assert result["status"] == "finished" and result["metrics"]["test_accuracy"] is not None
    assert RunStore(tmp_path).get(out.run_id).test_accuracy == result["metrics"]["test_accuracy"]


DIE_IN_FINAL_SAVE = textwrap.dedent("""
    import contextlib, os, signal, sys
    from cnnlab.train import session
    from cnnlab.cli import main

    real = session.atomic_path

    @contextlib.contextmanager
    def die_before_the_rename(path, *args, **kwargs):
        with real(path, *args, **kwargs) as tmp:
            yield tmp  # model.keras is written to its temporary file ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before the rename

    session.atomic_path = die_before_the_rename
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_run_killed_while_saving_its_model_is_completed_by_resume(tmp_path, capsys):
    import keras

    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "spec.json", epochs=3)
    proc = start_python(["-c", DIE_IN_FINAL_SAVE, "train", str(spec), "--workspace", str(ws)],
                        ws)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    store = RunStore(ws)
    (record,) = store.list_runs()
    assert record.status == "interrupted" and record.epochs_done == 3
    assert not store.model_path(record.id).exists()
    checkpoint = keras.models.load_model(record.checkpoint_dir / "last.keras", compile=False)

    assert main(["train", "--resume", record.id, "--workspace", str(ws), "--json"]) == 0
    result = _json_line(capsys)
    assert result["status"] == "finished" and result["epochs_done"] == 3
    assert result["metrics"]["test_accuracy"] is not None
    assert result["metrics"]["val_accuracy"] is not None  # the last epoch's, from the index
    saved = keras.models.load_model(result["model_path"], compile=False)
    for a, b in zip(saved.get_weights(), checkpoint.get_weights()):
        np.testing.assert_array_equal(a, b)
    record = store.get(record.id)
    assert record.status == "finished" and record.test_accuracy is not None
    left = [p.name for p in record.run_dir.rglob("*") if ".tmp-" in p.name]
    assert left == []  # the killed save's .model.keras.tmp-* went with the completing resume
    assert len(store.metrics(record.id)["loss"]) == 3
    # Now it is complete: a further resume refuses, and export finds the model.
    assert main(["train", "--resume", record.id, "--workspace", str(ws)]) == 2
    assert "already trained 3 of 3 epochs" in capsys.readouterr().err


@pytest.mark.slow  # up to 50 s late in the suite; test_a_kill_between_checkpoint_and_index_... and
# test_trainer_processes' kill while a checkpoint is written keep this boundary in the default run
def test_the_index_never_counts_an_epoch_that_is_not_checkpointed(tmp_path, monkeypatch):
    from cnnlab.train import checkpoints

    calls = []

    def die_on_second(tmp):
        calls.append(tmp)
        if len(calls) == 2:
            raise SystemExit("killed while writing")

    monkeypatch.setattr(checkpoints, "_before_commit", die_on_second)
    out = run(tiny_experiment(epochs=3), Recorder(), workspace=tmp_path)
    assert out.status == "failed"
    store = RunStore(tmp_path)
    state = json.loads((store.run_dir(out.run_id) / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 1
    assert store.get(out.run_id).epochs_done == 1 and len(store.metrics(out.run_id)["loss"]) == 1


def test_a_kill_between_checkpoint_and_index_loses_no_metrics(tmp_path, monkeypatch):
    original = RunStore.record_epoch

    def die_on_second(self, run_id, epoch, metrics):
        if epoch == 1:
            raise SystemExit("killed before the index write")
        original(self, run_id, epoch, metrics)

    monkeypatch.setattr(RunStore, "record_epoch", die_on_second)
    out = run(tiny_experiment(epochs=3), Recorder(), workspace=tmp_path)
    store = RunStore(tmp_path)
    assert out.status == "failed" and len(store.metrics(out.run_id)["loss"]) == 1
    state = json.loads((store.run_dir(out.run_id) / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2 and state["metrics"]["loss"] > 0
    monkeypatch.undo()
    rec = Recorder()
    again = run(None, rec, workspace=tmp_path, resume=out.run_id)
    assert again.status == "finished" and rec.events[0].initial_epoch == 2
    losses = store.metrics(out.run_id)["loss"]
    assert len(losses) == 3 and losses[1] == pytest.approx(state["metrics"]["loss"])
