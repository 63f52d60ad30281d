"""Evaluation figures, user-image prediction and map similarity, checked by hand."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.inspect import InspectError  # noqa: E402
from cnnlab.inspect.evaluation import (  # noqa: E402
    confusion_matrix,
    evaluate,
    predict_image,
    probabilities,
)
from cnnlab.inspect.images import fit_image  # noqa: E402
from cnnlab.inspect.similarity import pearson, ranks, spearman, ssim  # noqa: E402


@pytest.fixture(scope="module")
def argmax_model():
    """Predicts the argmax of its 3 inputs, with softmax of 4x the inputs as confidence."""
    inp = keras.Input((3,))
    out = keras.layers.Dense(3, activation="softmax", name="out")(inp)
    model = keras.Model(inp, out)
    model.get_layer("out").set_weights([4 * np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    return model


def test_evaluation_figures_match_a_hand_count(argmax_model):
    x = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 2, 0], [3, 0, 0], [0, 0, 1]], "float32")
    y = np.array([0, 1, 2, 0, 2, 2])  # two mistakes: 3 (true 0 -> 1) and 4 (true 2 -> 0)
    ev = evaluate(argmax_model, x, y, class_names=["a", "b", "c"], top_wrong=5)
    np.testing.assert_array_equal(ev.confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(ev.precision, [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(ev.recall, [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(ev.accuracy, [4 / 6, 5 / 6, 5 / 6])  # one-vs-rest
    np.testing.assert_array_equal(ev.support, [2, 1, 3])
    assert ev.overall_accuracy == pytest.approx(4 / 6)
    assert [(w.index, w.true, w.predicted) for w in ev.wrong] == [(4, 2, 0), (3, 0, 1)]
    expected = np.exp(12) / (np.exp(12) + 2)
    assert ev.wrong[0].confidence == pytest.approx(expected, rel=1e-5)
    one_hot = np.eye(3)[y]
    np.testing.assert_array_equal(evaluate(argmax_model, x, one_hot).confusion, ev.confusion)


def test_confusion_matrix_and_probabilities():
    np.testing.assert_array_equal(confusion_matrix([0, 1, 1], [1, 1, 0], 2), [[0, 1], [1, 1]])
    np.testing.assert_allclose(probabilities(np.array([[0.0], [0.75]])), [[1, 0], [0.25, 0.75]])
    np.testing.assert_allclose(probabilities(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


def test_evaluation_errors(argmax_model):
    x = np.zeros((2, 3), "float32")
    with pytest.raises(InspectError, match="2 labels|3 labels"):
        evaluate(argmax_model, x, [0, 1, 2])
    with pytest.raises(InspectError, match="Labels must be in 0..2"):
        evaluate(argmax_model, x, [0, 3])
    with pytest.raises(InspectError, match="2 class names"):
        evaluate(argmax_model, x, [0, 1], class_names=["a", "b"])


def test_predict_image_fits_a_users_image():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.GlobalAveragePooling2D()(inp)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="out")(h))
    model.get_layer("out").set_weights([np.array([[-5, 5]] * 3, "float32"), np.array([2.5, -2.5],
                                                                                      "float32")])
    bright = np.full((20, 30), 230, np.uint8)  # grey uint8, other size
    p = predict_image(model, bright, ["dark", "bright"], top_k=2)
    assert (p.class_index, p.class_name) == (1, "bright")
    assert [name for name, _ in p.top] == ["bright", "dark"]
    assert p.confidence == pytest.approx(sum(prob for _, prob in p.top[:1]))
    assert predict_image(model, np.zeros((5, 5, 4), np.uint8)).class_name == "0"
    fitted = fit_image(bright, (8, 8, 3))
    assert fitted.shape == (8, 8, 3) and fitted.dtype == np.float32
    np.testing.assert_allclose(fitted, 230 / 255, rtol=1e-5)
    assert fit_image(np.ones((4, 4, 3)), (None, None, 1)).shape == (4, 4, 1)


def test_rank_correlation_by_hand():
    np.testing.assert_array_equal(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    a = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    assert spearman(a, a**3) == pytest.approx(1)
    assert spearman(a, -a, absolute=False) == pytest.approx(-1)
    assert spearman(a, -a) == pytest.approx(1)  # absolute values by default
    b = np.array([0.3, 0.1, 0.5, 0.9, 0.2])
    d = ranks(a) - ranks(b)
    assert spearman(a, b) == pytest.approx(1 - 6 * (d**2).sum() / (5 * (25 - 1)))
    assert pearson(a, 2 * a + 1) == pytest.approx(1)
    assert ssim(a, a) == pytest.approx(1) and ssim(a, b) < 0.9
    with pytest.raises(InspectError):
        spearman(a, a[:3])
