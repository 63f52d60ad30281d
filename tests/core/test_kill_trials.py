"""Kill trials (tools/kill_trials.py): a run SIGKILLed at any moment can be resumed to finished.

Every trial is real: ``cnnlab new``, ``cnnlab train`` in a subprocess killed
with SIGKILL, ``cnnlab train --resume``, ``cnnlab runs show`` and ``cnnlab
export`` (each a subprocess), and ``model.keras`` loaded with Keras.
"""

import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "kill_trials.py"


def _load_tool():
    if str(TOOL.parent) not in sys.path:  # as `python tools/kill_trials.py` has it: its helpers
        sys.path.insert(0, str(TOOL.parent))
    spec = importlib.util.spec_from_file_location("kill_trials", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_trials"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


kt = _load_tool()


def test_plan_spreads_the_moments_over_every_kind_and_repeats_with_the_seed():
    plan = kt.plan_trials(12, random.Random(3))
    assert Counter(moment.kind for moment, _ in plan) == {kind: 2 for kind in kt.KINDS}
    assert all(epochs in (3, 4) for _, epochs in plan)
    assert plan == kt.plan_trials(12, random.Random(3))
    assert plan != kt.plan_trials(12, random.Random(4))


@pytest.mark.slow  # ~18 s; SIGKILL mid-epoch + resume runs by default in test_trainer_processes
def test_killed_mid_epoch_resumes_to_finished(tmp_path):
    # Killed 20 ms into epoch 2 (once epoch 1's checkpoint and filter snapshot are written).
    result = kt.run_trial(1, kt.Moment("mid-epoch", 1, 0.02), tmp_path, epochs=3, seed=1)
    assert result.at_kill.startswith("1 epoch(s) checkpointed, indexed, listed"), result.line()
    assert result.problems == [], result.line()
    assert result.outcome == "resumed"
    assert "listed as interrupted" in result.at_kill
    assert result.resumes == 1
    assert (tmp_path / "trial-01" / "export.keras").is_file()


@pytest.mark.slow  # racy by nature; test_train_endings kills inside the save deterministically
def test_killed_while_saving_model_keras_resumes_to_finished(tmp_path):
    # Killed as soon as model.keras's temporary file appears: every epoch is checkpointed,
    # the run never ended. Resume must write the model, mark it finished, leave no temp file.
    # A tiny model's save takes milliseconds, so the kill can land just after the rename
    # under load: such a trial missed its moment and is tried again (at most 3 times).
    for attempt in range(1, 4):
        result = kt.run_trial(attempt, kt.Moment("final-save"), tmp_path, epochs=3, seed=2)
        if ".model.keras.tmp-" in result.at_kill:
            break
    assert ".model.keras.tmp-" in result.at_kill, result.line()
    assert result.at_kill.startswith("3 epoch(s) checkpointed, indexed")
    assert result.problems == [], result.line()
    assert result.outcome == "resumed"
    assert result.resumes == 1


@pytest.mark.slow
def test_eight_trials_at_random_moments(tmp_path, capsys):
    status = kt.main(["--trials", "8", "--seed", "11", "--workspace", str(tmp_path / "trials")])
    out = capsys.readouterr().out
    assert status == 0, out
    summary = [line for line in out.splitlines() if line.startswith("8 trials: ")]
    assert summary and " 0 failed" in summary[0], out


@pytest.mark.slow
def test_killed_between_the_run_folder_and_its_index_row_resumes_to_finished(tmp_path):
    # Killed once spec.json is in the new run folder; the index row usually is not there yet
    # (the at_kill text says "no index row"): the next open indexes the folder, resume finishes.
    result = kt.run_trial(1, kt.Moment("run-created"), tmp_path, epochs=3, seed=3)
    assert result.outcome in ("resumed", "before-run"), result.line()
    assert result.problems == [], result.line()
