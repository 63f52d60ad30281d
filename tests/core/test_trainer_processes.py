"""The trainer across processes: SIGKILL and resume, Ctrl-C, shared workspace, mirrored CPUs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import signal  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from core.test_trainer_support import (  # noqa: E402
    REPO,
    Recorder,
    start_python,
    tiny_experiment,
    wait_for,
    write_spec,
)

from cnnlab.runs.store import RunStore  # noqa: E402
from cnnlab.train.events import EpochEnded  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def _epochs_checkpointed(workspace, at_least):
    """The (run id, state) of the only run once its checkpoint covers ``at_least`` epochs."""
    for state_file in (workspace / "runs").glob("*/checkpoints/state.json"):
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            continue
        if state["epochs_done"] >= at_least:
            return state_file.parents[1].name, state
    return None


def _headless(spec, workspace, *extra):
    return start_python(["-m", "cnnlab.train.headless", str(spec), "--workspace",
                         str(workspace), *extra], workspace)


@pytest.mark.slow  # CI budget (10 s); the checkpoint SIGKILL test below and
# test_train_interrupts cover a kill and its resume in the default run
def test_sigkill_mid_epoch_then_resume_continues_the_curve(tmp_path):
    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "spec.json", epochs=5, samples=1500)
    proc = _headless(spec, ws)
    run_id, state = wait_for(lambda: _epochs_checkpointed(ws, 2), proc)
    store = RunStore(ws)
    epoch_seconds = state["metrics"]["seconds"]  # the index is written after the checkpoint
    time.sleep(min(epoch_seconds / 3, 1.0))  # into the third epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert store.get(run_id).status == "interrupted"
    before = store.metrics(run_id)["loss"]
    rec = Recorder()
    out = run(None, rec, workspace=ws, resume=run_id)
    assert out.status == "finished" and out.epochs_done == 5
    initial = rec.events[0].initial_epoch
    assert initial >= max(2, len(before) - 1)  # at most the epoch in progress was lost
    resumed = rec.of(EpochEnded)[0].metrics["loss"]
    assert resumed < before[0] - 0.1  # not a fresh start ...
    assert resumed <= before[initial - 1] + 0.05  # ... but the curve going on
    assert store.get(run_id).status == "finished" and len(store.metrics(run_id)["loss"]) == 5


KILL_DURING_WRITE = textwrap.dedent("""
    import os, signal, sys
    from cnnlab.train import checkpoints
    from cnnlab.train.headless import main

    writes = []

    def die_on_second_write(tmp):
        writes.append(tmp)
        if len(writes) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    checkpoints._before_commit = die_on_second_write
    sys.exit(main(sys.argv[1:]))
""")


def test_sigkill_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path):
    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "spec.json", epochs=3)
    proc = start_python(["-c", KILL_DURING_WRITE, str(spec), "--workspace", str(ws)], ws)
    proc.communicate(timeout=180)
    assert proc.returncode == -signal.SIGKILL
    store = RunStore(ws)
    (record,) = store.list_runs()
    assert record.status == "interrupted"
    folder = record.checkpoint_dir
    assert list(folder.glob(".last.keras.tmp-*"))  # the write that was killed
    assert json.loads((folder / "state.json").read_text())["epochs_done"] == 1
    rec = Recorder()
    out = run(None, rec, workspace=ws, resume=record.id)
    assert out.status == "finished" and rec.events[0].initial_epoch == 1
    assert not list(folder.glob(".*tmp*"))


@pytest.mark.slow  # 8 s; test_train_interrupts' Ctrl-C mid-epoch + resume runs by default
def test_ctrl_c_stops_cleanly_and_keeps_the_model(tmp_path):
    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "spec.json", epochs=30, samples=1500)
    proc = _headless(spec, ws, "--json")
    run_id, _ = wait_for(lambda: _epochs_checkpointed(ws, 1), proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["run_id"] == run_id and result["status"] == "stopped"
    assert 1 <= result["epochs_done"] < 30 and os.path.isfile(result["model_path"])
    assert "stopping after this batch" in err
    assert RunStore(ws).get(run_id).status == "stopped"


@pytest.mark.slow  # CI budget (10 s); tests/core/test_runs_concurrency.py covers two writers
def test_a_child_process_and_this_one_share_a_workspace(tmp_path):
    ws = tmp_path / "ws"
    spec = write_spec(tmp_path / "spec.json", epochs=3, samples=1500)
    proc = _headless(spec, ws, "--json")
    store = RunStore(ws)
    wait_for(lambda: store.list_runs(), proc)
    out = run(tiny_experiment(epochs=2), Recorder(), workspace=ws)
    child_out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    child = json.loads(child_out.strip().splitlines()[-1])
    runs = {r.id: r for r in store.list_runs()}
    assert set(runs) == {out.run_id, child["run_id"]}
    assert all(r.status == "finished" for r in runs.values())
    assert runs[out.run_id].epochs_done == 2 and runs[child["run_id"]].epochs_done == 3
    assert len(store.metrics(child["run_id"])["loss"]) == 3


MIRRORED = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from cnnlab.train.devices import split_cpu

    split_cpu(2)
    from core.test_trainer_support import tiny_experiment
    from cnnlab.train.trainer import run

    result = {}
    for mode in ("none", "mirrored"):
        events = []
        device = {"device": "cpu", "distribute": mode}
        # One batch per epoch: tf.data shuffles in another order under a strategy,
        # and a whole-set batch makes the order irrelevant.
        out = run(tiny_experiment(epochs=3, batch=256, device=device), events.append)
        result[mode] = {"status": out.status, "metrics": out.metrics,
                        "device": events[0].device, "message": out.message}
    odd = run(tiny_experiment(epochs=1, batch=15, device=device), events.append)
    result["odd"] = {"status": odd.status, "message": odd.message}
    print(json.dumps(result))
""")


@pytest.mark.slow  # 12 s; the acceptance matrix trains MirroredStrategy on two CPUs by default
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    proc = start_python(["-c", MIRRORED, str(REPO / "tests")], tmp_path / "ws")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    one, two = result["none"], result["mirrored"]
    assert one["status"] == two["status"] == "finished", (one["message"], two["message"])
    assert one["device"] == "CPU" and two["device"] == "2 x CPU (mirrored)"
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert two["metrics"][key] == pytest.approx(one["metrics"][key], rel=1e-4, abs=1e-5)
    assert result["odd"]["status"] == "failed"
    assert "multiple of 2 (now 15)" in result["odd"]["message"]
