"""Defining studies: spaces, paths, the study file and every refusal, through `cnnlab study new`.

No trial runs here (no TensorFlow): the spec's own loader judges each bound and choice.
"""

import json

import pytest

from cnnlab.cli import main
from cnnlab.studies import load_study, new_study, parse_space, trial_experiment
from cnnlab.studies.paths import PathError, get_value, set_value
from cnnlab.studies.space import SpaceError

LR = "training.optimizer.learning_rate"
BN = "training.regularization.batchnorm"


@pytest.fixture()
def experiment(tmp_path, capsys):
    path = tmp_path / "exp.json"
    assert main(["new", str(path)]) == 0
    capsys.readouterr()
    return path


def study_new(capsys, *args):
    code = main(["study", "new", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line(code, err, *words):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("cnnlab: error: "), err
    for word in words:
        assert word in lines[0], lines[0]


def test_spaces_parse_without_eval():
    assert parse_space("loguniform(1e-4, 1e-1)").args == (1e-4, 1e-1)
    assert parse_space("uniform(0,1)").args == (0.0, 1.0)
    assert parse_space("int(8,64)").grid()[:2] == [8, 9]
    choice = parse_space('choice(none, before_activation, "after_activation", 3, true)')
    assert choice.args == ("none", "before_activation", "after_activation", 3, True)
    for bad in ("loguniform(0,1)", "uniform(2,1)", "int(1.5,3)", "choice()", "choice(a,a)",
                "__import__('os')", "uniform(1,nan)", "int(1)", "choice([1])", "range(1,2)"):
        with pytest.raises(SpaceError):
            parse_space(bad)
    with pytest.raises(SpaceError, match="grid"):
        parse_space("uniform(0,1)").grid()


def test_paths_pick_blocks_by_id_and_never_change_the_input():
    tree = {"model": {"nodes": [{"id": "conv1", "params": {"filters": 8}}]}}
    out = set_value(tree, "model.nodes[conv1].params.filters", 16)
    assert get_value(out, "model.nodes[conv1].params.filters") == 16
    assert tree["model"]["nodes"][0]["params"]["filters"] == 8
    assert set_value(tree, "model.nodes[0].params.kernel_size", 5)["model"]["nodes"][0][
        "params"]["kernel_size"] == 5  # a block parameter left at its default
    for bad in ("model.nodes[conv9].params.filters", "model.edges", "model..nodes", "x[1"):
        with pytest.raises(PathError):
            set_value(tree, bad, 1)


def test_new_writes_a_checked_study_file_and_refuses_to_overwrite(experiment, tmp_path, capsys):
    out = tmp_path / "lr.json"
    code, printed, err = study_new(
        capsys, out, "--experiment", experiment, "--param", f"{LR}=loguniform(1e-4,1e-1)",
        "--param", "model.nodes[conv1].params.filters=int(4,8)", "--trials", 3,
        "--sampler", "random", "--prune", "--epochs", 2)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["format"] == "cnnlab-study" and data["version"] == 1
    assert data["params"][0] == {"path": LR, "space": "loguniform(1e-4,1e-1)"}
    assert (data["trials"], data["sampler"], data["prune"], data["epochs"]) == (3, "random",
                                                                                True, 2)
    study = load_study(out)
    exp = trial_experiment(study, {LR: 0.01, "model.nodes[conv1].params.filters": 5})
    assert exp.training.optimizer.learning_rate == 0.01
    assert next(n for n in exp.model.nodes if n.id == "conv1").params["filters"] == 5
    code, _, err = study_new(capsys, out, "--experiment", experiment, "--param",
                             f"{LR}=uniform(0.01,0.1)")
    assert_one_line(code, err, "--force")
    assert json.loads(out.read_text()) == data  # untouched


@pytest.mark.parametrize(("param", "words"), [
    ("training.optimizer.learning_rat=loguniform(1e-4,1e-1)", ("learning_rat", "known")),
    ("model.nodes[convX].params.filters=int(1,8)", ("convX",)),
    (f"{LR}=loguniform(0,1)", ("above 0",)),
    (f"{LR}=eval(1)", ("bad search space",)),
    (f"{BN}=choice(none,sideways)", ("sideways", "refuses")),
    ("model.nodes[conv1].params.filters=int(0,8)", ("filters", "refuses")),
    ("training.optimizer.learning_rate", ("PATH=SPACE",)),
])
def test_new_refuses_bad_input_in_one_line(experiment, tmp_path, capsys, param, words):
    out = tmp_path / "bad.json"
    code, _, err = study_new(capsys, out, "--experiment", experiment, "--param", param)
    assert_one_line(code, err, *words)
    assert not out.exists()


def test_grid_needs_discrete_spaces_and_counts_its_points(experiment, tmp_path, capsys):
    out = tmp_path / "grid.json"
    code, _, err = study_new(capsys, out, "--experiment", experiment, "--sampler", "grid",
                             "--param", f"{LR}=uniform(0.01,0.1)")
    assert_one_line(code, err, "grid")
    code, _, err = study_new(capsys, out, "--experiment", experiment, "--sampler", "grid",
                             "--param", f"{BN}=choice(none,before_activation)", "--trials", 3)
    assert_one_line(code, err, "grid's 2 points")
    raw = json.loads(experiment.read_text())
    study = new_study(out, raw, [f"{BN}=choice(none,before_activation,after_activation)"],
                      sampler="grid", variants={"small": {"model.nodes[conv1].params.filters":
                                                          4}, "wide": {}})
    assert study.trials == 6 and study.param_names == [BN, "variant"]
    assert trial_experiment(study, {BN: "none", "variant": "small"}).model.nodes[1].params[
        "filters"] == 4


def test_study_files_are_data_and_bad_ones_are_one_line(experiment, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    for text in ("[1]", '{"format": "cnnlab-study", "version": 9}', "{not json"):
        bad.write_text(text)
        code, _, err = (main(["study", "show", str(bad)]), None, capsys.readouterr().err)
        assert_one_line(code, err)
    code, _, err = study_new(capsys, tmp_path / "t.json", "--experiment", experiment,
                             "--param", f"{LR}=uniform(0.01,0.1)", "--objective",
                             "test_accuracy", "--name", "../escape")
    assert_one_line(code, err, "study name")


def test_a_storage_refuses_a_different_study_of_the_same_name(experiment, tmp_path, capsys):
    from cnnlab.studies.storage import open_storage, optuna_study
    from cnnlab.studies.studyfile import StudyError

    raw = json.loads(experiment.read_text())
    first = new_study(tmp_path / "a" / "same.json", raw, [f"{LR}=uniform(0.01,0.1)"])
    other = new_study(tmp_path / "b" / "same.json", raw, [f"{LR}=uniform(0.01,0.2)"])
    wider = new_study(tmp_path / "c" / "same.json", raw, [f"{LR}=uniform(0.01,0.1)"],
                      trials=20, sampler="random")  # a new budget and sampler: the same study
    storage = open_storage(first, workspace=tmp_path / "ws")
    optuna_study(first, storage)
    assert optuna_study(wider, storage).study_name == "same"
    with pytest.raises(StudyError, match="another --name"):
        optuna_study(other, storage)
    assert (tmp_path / "ws" / "studies" / "same.db").is_file()
