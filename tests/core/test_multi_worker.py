"""MultiWorkerMirroredStrategy (issue 15): two `cnnlab train` workers on 127.0.0.1, a chief
and a worker described by TF_CONFIG, train one tiny experiment in sync.

Each worker sees its own half of every global batch (8 of 16 here), so the two
end with the same weights only if their gradients were all-reduced every step.
Keras 3 cannot fit under the plain strategy (keras-team/keras#20585: a nested
batch and scalar logs reach ``strategy.reduce``), so ``cnnlab.train.devices``
trains under ``keras_multi_worker_strategy``, which reduces them as Keras means.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import socket  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import start_python, write_spec  # noqa: E402

EPOCHS = 2
TIMEOUT_S = 420  # two TensorFlow processes on a busy 2-core machine


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _start(spec, workspace, cluster, role, monkeypatch):
    config = {"cluster": cluster, "task": {"type": role, "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))  # start_python copies os.environ
    return start_python(["-m", "cnnlab.cli", "train", str(spec), "--workspace",
                         str(workspace), "--json"], workspace)


def _result(proc) -> dict:
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except Exception:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow  # two TensorFlow processes: about 30 s of CPU, minutes on a busy machine
def test_two_workers_train_in_sync_and_agree_on_the_weights(tmp_path, monkeypatch):
    import keras

    import cnnlab.layers  # noqa: F401 - the lab's layers, for loading
    from cnnlab.runs.store import RunStore

    spec = write_spec(tmp_path / "e.json", samples=64, size=8, epochs=EPOCHS, batch=16,
                      width=4, device={"device": "cpu", "distribute": "multi_worker"})
    chief_port, worker_port = _free_ports(2)
    cluster = {"chief": [f"127.0.0.1:{chief_port}"], "worker": [f"127.0.0.1:{worker_port}"]}
    procs = [_start(spec, tmp_path / role, cluster, role, monkeypatch)
             for role in ("chief", "worker")]
    try:
        results = [_result(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for result in results:
        assert result["status"] == "finished" and result["epochs_done"] == EPOCHS, result
    chief = RunStore(tmp_path / "chief")
    metrics = chief.metrics(results[0]["run_id"])
    assert len(metrics["loss"]) == EPOCHS and all(np.isfinite(metrics["loss"]))
    metadata = json.loads((chief.run_dir(results[0]["run_id"]) / "metadata.json").read_text())
    assert metadata["devices"]["replicas"] == 2
    assert metadata["device"] == "2 workers x CPU (multi-worker)"
    weights = [keras.models.load_model(r["model_path"], compile=False).get_weights()
               for r in results]
    assert len(weights[0]) == len(weights[1]) > 0
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
