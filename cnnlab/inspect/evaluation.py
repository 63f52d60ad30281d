"""Evaluation of a classifier: confusion matrix, per-class figures, confident mistakes.

Per-class ``accuracy`` is the one-vs-rest accuracy ``(TP + TN) / N`` (per-class
recall is reported separately). Model outputs are turned into probabilities:
rows that already are probabilities (softmax output) are kept, other outputs
are treated as logits (softmax; a single unit as a sigmoid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_batch, input_shape
from cnnlab.inspect.images import fit_image


@dataclass(frozen=True)
class WrongExample:
    """A misclassified example: its index, true and predicted class, and confidence."""

    index: int
    true: int
    predicted: int
    confidence: float


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Evaluation figures; per-class arrays are indexed by class."""

    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    accuracy: np.ndarray
    support: np.ndarray
    overall_accuracy: float
    wrong: list[WrongExample]
    class_names: list[str]


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image; ``top`` lists ``(class name, probability)``."""

    class_index: int
    class_name: str
    confidence: float
    top: list[tuple[str, float]]


def labels(y: np.ndarray) -> np.ndarray:
    """Return integer labels from integer or one-hot ``y``."""
    y = np.asarray(y)
    return np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1).astype(int)


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Return ``(N, K)`` class probabilities from model outputs (see module docs)."""
    out = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if out.shape[1] == 1:
        p = out[:, 0] if ((out >= 0) & (out <= 1)).all() else 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if ((out >= 0) & (out <= 1)).all() and np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        return out
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Return the ``(K, K)`` int64 confusion matrix: rows true, columns predicted."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels(y_true), labels(y_pred)), 1)
    return cm


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(num.shape, dtype=np.float64), where=den > 0)


def most_confident_wrong(probs: np.ndarray, y_true: np.ndarray, k: int) -> list[WrongExample]:
    """Return up to ``k`` misclassified examples, most confident first."""
    true, pred = labels(y_true), probs.argmax(axis=1)
    conf = probs.max(axis=1)
    wrong = np.flatnonzero(pred != true)
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
    return [WrongExample(int(i), int(true[i]), int(pred[i]), float(conf[i])) for i in order]


def _names(class_names: Sequence[str] | None, k: int) -> list[str]:
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise InspectError(f"Got {len(names)} class names for a model with {k} classes")
    return names


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray,
             class_names: Sequence[str] | None = None, batch_size: int = 64,
             top_wrong: int = 16) -> Evaluation:
    """Evaluate a classifier on ``(x, y)``.

    Args:
        model: The model.
        x: Inputs, a batch shaped like the model's input.
        y: Integer labels ``(N,)`` or one-hot ``(N, K)``.
        class_names: Names of the classes, for the result.
        batch_size: Batch size for prediction.
        top_wrong: How many confidently wrong examples to return.

    Returns:
        An :class:`Evaluation`.

    """
    probs = probabilities(model.predict(as_batch(model, x), batch_size=batch_size, verbose=0))
    k = probs.shape[1]
    true = labels(y)
    if len(true) != len(probs):
        raise InspectError(f"Got {len(true)} labels for {len(probs)} inputs")
    if len(true) and (true.min() < 0 or true.max() >= k):
        raise InspectError(f"Labels must be in 0..{k - 1} for a model with {k} classes")
    cm = confusion_matrix(true, probs.argmax(axis=1), k)
    tp, total = np.diag(cm).astype(np.float64), cm.sum()
    fp, fn = cm.sum(axis=0) - tp, cm.sum(axis=1) - tp
    return Evaluation(
        confusion=cm, precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
        accuracy=_ratio(total - fp - fn, np.full(k, float(total))), support=cm.sum(axis=1),
        overall_accuracy=float(tp.sum() / total) if total else 0.0,
        wrong=most_confident_wrong(probs, true, top_wrong), class_names=_names(class_names, k),
    )


def predict_image(model: keras.Model, image: np.ndarray,
                  class_names: Sequence[str] | None = None, top_k: int = 5,
                  value_range: tuple[float, float] = (0.0, 1.0)) -> Prediction:
    """Classify a user's own image, resizing and converting channels to fit the model.

    Args:
        model: The model.
        image: ``(H, W)`` or ``(H, W, C)``; ``uint8`` images are mapped to ``value_range``.
        class_names: Names of the classes; ``None`` for their indices.
        top_k: How many classes to list in ``top``.
        value_range: The model's input range for integer images (see :func:`fit_image`).

    Returns:
        A :class:`Prediction`.

    """
    x = fit_image(image, input_shape(model), value_range)
    probs = probabilities(model.predict(x[None], verbose=0))[0]
    names = _names(class_names, len(probs))
    order = np.argsort(-probs, kind="stable")[: max(1, top_k)]
    best = int(order[0])
    return Prediction(best, names[best], float(probs[best]),
                      [(names[i], float(probs[i])) for i in order])
