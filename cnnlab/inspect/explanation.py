"""Explaining one prediction: which class, its attribution maps, and their sanity check.

The window's Attribution tab and ``cnnlab inspect`` (saliency, SmoothGrad,
guided backprop, Grad-CAM) explain a class the user picks, or the predicted
one, and say which it is: ``class 'circle' (predicted, p=0.93)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from cnnlab.inspect.sanity import SanityResult, attribution_maps, sanity_checks


@dataclass(frozen=True)
class ExplainedClass:
    """The class a map explains, and the prediction beside it.

    Attributes:
        index: The class explained.
        predicted: The class the model predicts for the image.
        probabilities: The model's probability of every class.
        names: One name per class.

    """

    index: int
    predicted: int
    probabilities: tuple[float, ...]
    names: tuple[str, ...]

    def describe(self) -> str:
        """``class 'circle' (predicted, p=0.93)`` or ``class 'star' (asked, p=0.02; ...)``."""
        names, probs, best = self.names, self.probabilities, self.predicted
        if self.index == best:
            return f"class '{names[best]}' (predicted, p={probs[best]:.2f})"
        return (f"class '{names[self.index]}' (asked, p={probs[self.index]:.2f}; predicted "
                f"'{names[best]}', p={probs[best]:.2f})")


def explained_class(model: keras.Model, image: np.ndarray, class_index: int | None,
                    names: Sequence[str] | None = None) -> ExplainedClass:
    """The class to explain (the asked one, else the predicted one) and the prediction.

    Args:
        model: The classifier.
        image: One image shaped like the model's input.
        class_index: The class asked for, or None for the predicted one.
        names: One name per class (default, or of the wrong length: the indices).

    Raises:
        InspectError: For a class index out of range (one line).

    """
    from cnnlab.inspect.evaluation import probabilities
    from cnnlab.inspect.graph import as_single
    from cnnlab.inspect.score import class_array, class_labels

    class_array(model, 1, class_index)  # range check, one-line error
    labels = class_labels(model, names)
    probs = probabilities(model.predict(as_single(model, image), verbose=0))[0]
    best = int(np.argmax(probs))
    index = best if class_index is None else int(class_index)
    return ExplainedClass(index, best, tuple(float(p) for p in probs), tuple(labels))


@dataclass(frozen=True, eq=False)
class Explanation:
    """Attribution maps of one image for one class, and their sanity checks.

    Attributes:
        target: The class explained and the prediction.
        maps: ``(H, W)`` map per method of :data:`~cnnlab.inspect.sanity.METHODS`.
        checks: Per method, the comparison with randomised weights (empty
            when the sanity check was not asked for).

    """

    target: ExplainedClass
    maps: dict[str, np.ndarray]
    checks: dict[str, SanityResult] = field(default_factory=dict)


def explain(model: keras.Model, image: np.ndarray, class_index: int | None = None,
            names: Sequence[str] | None = None, sanity: bool = False,
            methods: Sequence[str] | None = None,
            options: Mapping[str, Mapping[str, Any]] | None = None) -> Explanation:
    """Compute the attribution maps (and, with ``sanity``, the randomised copy's).

    Args:
        model: The trained model (left untouched).
        image: One image shaped like the model's input.
        class_index: The class to explain; None for the predicted one.
        names: One name per class, for :meth:`ExplainedClass.describe`.
        sanity: Also compare every map with the same map of a randomised copy.
        methods: Which methods (default: all).
        options: Per method, keyword arguments (``{"smoothgrad": {"samples": 16}}``).

    Returns:
        An :class:`Explanation`.

    """
    target = explained_class(model, image, class_index, names)
    if not sanity:
        return Explanation(target, attribution_maps(model, image, target.index, methods,
                                                     options))
    checks = sanity_checks(model, image, methods, target.index, options=options)
    return Explanation(target, {m: r.original for m, r in checks.items()}, checks)
