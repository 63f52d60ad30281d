"""The SVM head (``transfer.head: svm``): the lectures' linear SVM instead of the output layer.

A linear Output (no softmax) whose outputs are the class margins, the squared hinge
on +-1 labels, L2 = ``svm_l2`` on its kernel; trained, inspected and exported through
the real ``cnnlab`` command.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from core.test_trainer_support import tiny_spec  # noqa: E402
from core.test_transfer_support import cli, load, shrink, train  # noqa: E402

from cnnlab.build import build_model  # noqa: E402
from cnnlab.spec import experiment_from_dict  # noqa: E402


def test_keras_squared_hinge_turns_one_hot_labels_into_plus_minus_one():
    margins = np.array([[0.3, -1.2, 2.0], [-0.5, 0.4, 0.1]], dtype="float32")
    one_hot = np.array([[0, 0, 1], [1, 0, 0]], dtype="float32")
    signs = 2 * one_hot - 1
    expected = np.mean(np.maximum(1 - signs * margins, 0) ** 2, axis=-1).mean()
    loss = keras.losses.SquaredHinge()
    assert float(loss(one_hot, margins)) == pytest.approx(expected, rel=1e-6)
    assert float(loss(signs, margins)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("head", ["softmax", "svm"])
def test_the_output_block_is_a_linear_svm_only_under_the_svm_head(head):
    transfer = {"head": head, "svm_l2": 0.05}
    spec = tiny_spec(transfer=transfer, regularization={"kernel_l2": 0.001})
    last = build_model(experiment_from_dict(spec)).layers[-1]
    config = last.get_config()
    if head == "softmax":
        assert config["activation"] == "softmax"
        assert last.kernel_regularizer.get_config() == {"l1": 0.0, "l2": 0.001}
        return
    assert isinstance(last, keras.layers.Dense) and config["activation"] == "linear"
    assert type(last.kernel_regularizer) is keras.regularizers.L2
    assert last.kernel_regularizer.get_config()["l2"] == pytest.approx(0.05)
    assert last.dtype == "float32"


@pytest.fixture(scope="module")
def svm_run(tmp_path_factory):
    """A default experiment with the SVM head, written and trained through the CLI."""
    folder = tmp_path_factory.mktemp("svm")
    spec = folder / "svm.json"
    code, out, err = cli(None, "new", spec, "--head", "svm", "--svm-l2", "0.02")
    assert code == 0 and "head svm" in out and "fc1 before the SVM also trains" in out, err
    shrink(spec, samples=120, epochs=2)
    return folder, train(None, spec, folder / "ws")


def test_a_trained_svm_run_is_a_linear_svm_with_accuracy(svm_run):
    folder, result = svm_run
    assert 0.0 <= result["metrics"]["accuracy"] <= 1.0 and result["metrics"]["val_accuracy"]
    model = load(result)
    last = model.layers[-1]
    assert last.get_config()["activation"] == "linear"
    assert type(last.kernel_regularizer) is keras.regularizers.L2
    assert last.kernel_regularizer.get_config()["l2"] == pytest.approx(0.02)
    assert isinstance(model.loss, keras.losses.SquaredHinge)
    x = np.random.default_rng(0).random((4, *model.input_shape[1:]), dtype=np.float32)
    margins = np.asarray(model(x))
    assert not np.allclose(margins.sum(axis=1), 1.0)  # margins, not probabilities
    from cnnlab.inspect.score import score_source

    assert score_source(model) == "model output (no softmax)"


@pytest.mark.slow  # CI budget (13 s); the transfer matrix trains and exports SVM heads and
# test_a_trained_svm_run_is_a_linear_svm_with_accuracy checks the head in the default run
def test_an_svm_run_inspects_and_exports(svm_run, capsys, tmp_path):
    folder, result = svm_run
    run_id, ws = result["run_id"], folder / "ws"
    for method in ("saliency", "confusion"):
        png = tmp_path / f"{method}.png"
        code, _, err = cli(capsys, "inspect", run_id, "--method", method, "--out", png,
                           "--workspace", ws)
        assert code == 0 and png.stat().st_size > 0, err
    for fmt, name in (("keras", "m.keras"), ("h5", "m.h5"), ("savedmodel", "m_saved"),
                      ("python", "m.py")):
        code, out, err = cli(capsys, "export", run_id, "--format", fmt, "--out",
                             tmp_path / name, "--workspace", ws)
        assert code == 0, err
    assert "def build_model" in (tmp_path / "m.py").read_text()
    for name in ("m.keras", "m.h5"):
        last = keras.models.load_model(tmp_path / name, compile=False).layers[-1]
        assert last.get_config()["activation"] == "linear", name
        assert last.kernel_regularizer.get_config()["l2"] == pytest.approx(0.02), name
