"""Interrupting real ``cnnlab train`` processes (issue 13): Ctrl-C in the middle of an epoch,
and two trainers of one run at once."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from core.test_trainer_support import (  # noqa: E402
    Recorder,
    start_python,
    tiny_experiment,
    wait_for,
    write_spec,
)

from cnnlab.cli import main  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import Control, EpochEnded  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")

CLI = "import sys; from cnnlab.cli import main; sys.exit(main(sys.argv[1:]))"


def _cnnlab(workspace, *args):
    """Start ``cnnlab ARGS`` in a child process (the real command-line entry point)."""
    return start_python(["-c", CLI, *args, "--workspace", str(workspace)], workspace)


def _state(workspace):
    for path in (workspace / "runs").glob("*/checkpoints/state.json"):
        try:
            return path.parents[1].name, json.loads(path.read_text())
        except ValueError:
            continue
    return None


def test_ctrl_c_mid_epoch_then_resume_trains_exactly_the_planned_steps(tmp_path):
    ws = tmp_path / "ws"
    epochs = 3
    spec = write_spec(tmp_path / "spec.json", epochs=epochs, samples=900)
    proc = _cnnlab(ws, "train", str(spec), "--json")
    run_id, state = wait_for(lambda: _state(ws), proc)  # epoch 1 is checkpointed
    steps = state["steps_per_epoch"]
    store = RunStore(ws)
    time.sleep(min(state["metrics"]["seconds"] / 3, 1.0))  # into epoch 2
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "stopped"
    assert "an epoch cut short does not count" in err
    done = result["epochs_done"]
    assert 1 <= done < epochs
    _, state = _state(ws)
    # Only complete epochs count: checkpoint, index and the JSON line agree.
    assert state["epochs_done"] == done and state["iterations"] == done * steps
    assert store.get(run_id).epochs_done == done == len(store.metrics(run_id)["loss"])

    proc = _cnnlab(ws, "train", "--resume", run_id, "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["status"] == "finished"
    _, state = _state(ws)
    assert state["epochs_done"] == epochs
    assert state["iterations"] == state["updates"] == epochs * steps  # the planned total
    assert len(store.metrics(run_id)["loss"]) == epochs


def _stopped_run(workspace):
    """A run of 40 epochs stopped after its first one (a resume trains for a while)."""
    control = Control()

    def stop_after_one(event):
        if isinstance(event, EpochEnded):
            control.stop()

    out = run(tiny_experiment(epochs=40, samples=600), stop_after_one, control,
              workspace=workspace)
    assert out.status == "stopped" and out.epochs_done == 1
    return out.run_id


@pytest.mark.slow  # 10 s; test_store_claims names the holder in a second process by default
def test_a_second_resume_of_a_run_being_trained_names_who_holds_it(tmp_path, capsys):
    ws = tmp_path / "ws"
    run_id = _stopped_run(ws)
    store = RunStore(ws)
    proc = _cnnlab(ws, "train", "--resume", run_id)
    try:
        wait_for(lambda: store.get(run_id).status == "running", proc)
        rec = Recorder()
        second = run(None, rec, workspace=ws, resume=run_id)
        assert second.status == "failed" and second.user_error
        assert f"run {run_id} is being trained by process {proc.pid}" in second.message
        assert main(["train", "--resume", run_id, "--workspace", str(ws)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"by process {proc.pid}" in err
        assert store.get(run_id).status == "running"  # the refusals changed nothing
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    # The killed trainer's claim went with its process: the run resumes here.
    again = run(None, Recorder(), workspace=ws, resume=run_id, epochs=2)
    assert again.status == "finished" and again.epochs_done >= 2
