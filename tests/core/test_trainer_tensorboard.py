"""Optional TensorBoard logging: a run with the setting on writes event files."""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

pytest.importorskip("tensorboard")

from cnnlab import default_experiment  # noqa: E402
from cnnlab.train.trainer import run  # noqa: E402


def test_tensorboard_setting_writes_event_files(tmp_path):
    exp = default_experiment()
    t = exp.training
    exp = dataclasses.replace(
        exp, data=dataclasses.replace(exp.data, shapes=dataclasses.replace(exp.data.shapes,
                                                                            samples=200)),
        training=dataclasses.replace(t, epochs=1,
                                     device=dataclasses.replace(t.device, tensorboard=True)))
    outcome = run(exp, sink=lambda event: None, workspace=tmp_path)
    assert outcome.status == "finished", outcome.message
    events = list((tmp_path / "runs" / outcome.run_id / "tensorboard").rglob("events.out.*"))
    assert events
