"""Model-randomisation sanity check for attribution maps (Adebayo et al. 2018).

An attribution method that explains the model should change when the learned
weights are replaced by random ones. The same map is computed on the model
and on a randomised copy, and their similarity is measured; a faithful method
gives low similarity.

Randomisation replaces every learned float weight of a copy: ``"normal"``
draws from a normal distribution with the standard deviation of the weight it
replaces (zero mean for kernels, the original mean for vectors such as biases
and BatchNorm scales; seeded); ``"initializer"`` uses the fresh values from the
layers' own initialisers (seeded only where those are). Statistics that are not
learned (BatchNorm moving mean/variance, adapted Normalization layers, integer
counters) are copied. The original model is never modified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from cnnlab.inspect.attribution import abs_max, saliency, smoothgrad
from cnnlab.inspect.cam import gradcam
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, input_tensor, layer_output
from cnnlab.inspect.guided import guided_backprop
from cnnlab.inspect.score import predicted_class
from cnnlab.inspect.similarity import pearson, spearman, ssim

_STAT_LAYERS = (keras.layers.Normalization,)


def _guided_map(model: keras.Model, image: np.ndarray, class_index: int | None) -> np.ndarray:
    return abs_max(guided_backprop(model, image, class_index))


METHODS: dict[str, Callable[..., np.ndarray]] = {
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "guided": _guided_map,
    "gradcam": gradcam,
}


@dataclass(frozen=True, eq=False)
class SanityResult:
    """The two maps side by side and their similarity (``spearman`` of absolute values)."""

    method: str
    class_index: int
    original: np.ndarray
    randomized: np.ndarray
    spearman: float
    pearson: float
    ssim: float


def _learned(model: keras.Model) -> set[int]:
    keep = set()
    for layer in model.layers:
        if isinstance(layer, _STAT_LAYERS):
            keep.update(id(v) for v in layer.weights)
    return {id(v) for v in model.weights
            if id(v) not in keep and np.issubdtype(np.dtype(v.dtype), np.floating)
            and not v.name.startswith("moving_")}


def _draw(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mean = 0.0 if w.ndim >= 2 else float(w.mean())
    return rng.normal(mean, float(w.std()), size=w.shape).astype(w.dtype)


def randomized_copy(model: keras.Model, seed: int = 0, mode: str = "normal") -> keras.Model:
    """Return a copy of ``model`` with its learned weights randomised (see module docs).

    Raises:
        InspectError: For an unknown mode or a model that cannot be cloned.

    """
    if mode not in ("normal", "initializer"):
        raise InspectError(f"Unknown randomisation '{mode}'; use normal or initializer")
    inp = input_tensor(model)
    name = next((layer.name for layer in model.layers
                 if isinstance(layer, keras.layers.InputLayer)
                 and layer_output(model, layer) is inp), None)
    try:  # a fresh input of the same name, so every block id is found in the copy
        fresh_input = keras.Input(batch_shape=inp.shape, dtype=inp.dtype, name=name)
        clone = keras.models.clone_model(model, input_tensors=fresh_input)
    except (TypeError, ValueError) as exc:
        raise InspectError(f"Cannot copy model '{model.name}': {exc}") from exc
    if len(clone.weights) != len(model.weights):
        raise InspectError(f"Cannot copy model '{model.name}': its weights do not line up")
    learned, rng = _learned(model), np.random.default_rng(seed)
    values = []
    for var, fresh in zip(model.weights, clone.weights, strict=True):
        w = np.asarray(var)
        if id(var) not in learned:
            values.append(w)
        else:
            values.append(_draw(w, rng) if mode == "normal" else np.asarray(fresh))
    clone.set_weights(values)
    return clone


def attribution_maps(model: keras.Model, image: np.ndarray, class_index: int,
                     methods: Sequence[str] | None = None,
                     options: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> dict[str, np.ndarray]:
    """The ``(H, W)`` maps of several methods for one image and one class.

    Args:
        model: The model.
        image: One image shaped like the model's input.
        class_index: The class to explain.
        methods: Keys of :data:`METHODS` (default: all, in that order).
        options: Per method, keyword arguments (``{"smoothgrad": {"samples": 16}}``).

    Raises:
        InspectError: For an unknown method.

    """
    chosen = list(METHODS) if methods is None else list(methods)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise InspectError(f"Unknown attribution method '{unknown[0]}'; use "
                           f"{', '.join(METHODS)}")
    options = options or {}
    return {m: METHODS[m](model, image, class_index=class_index, **options.get(m, {}))
            for m in chosen}


def sanity_checks(model: keras.Model, image: np.ndarray, methods: Sequence[str] | None = None,
                  class_index: int | None = None, seed: int = 0, mode: str = "normal",
                  options: Mapping[str, Mapping[str, Any]] | None = None
                  ) -> dict[str, SanityResult]:
    """Compare several attribution maps on the model and on one randomised copy.

    Args:
        model: The trained model (left untouched).
        image: One image shaped like the model's input.
        methods: Keys of :data:`METHODS` (default: all).
        class_index: The class to explain in both; ``None`` for the class the
            trained model predicts.
        seed: Seed of the randomisation.
        mode: ``normal`` or ``initializer`` (see module docs).
        options: Per method, keyword arguments (see :func:`attribution_maps`).

    Returns:
        One :class:`SanityResult` per method.

    """
    x = as_single(model, image)
    cls = predicted_class(model, x) if class_index is None else int(class_index)
    original = attribution_maps(model, x, cls, methods, options)
    copy = randomized_copy(model, seed, mode)
    randomized = attribution_maps(copy, x, cls, list(original), options)
    return {m: SanityResult(m, cls, original[m], randomized[m],
                            spearman(original[m], randomized[m]),
                            pearson(original[m], randomized[m]),
                            ssim(original[m], randomized[m])) for m in original}


def sanity_check(model: keras.Model, image: np.ndarray, method: str = "saliency",
                 class_index: int | None = None, seed: int = 0, mode: str = "normal",
                 **options: Any) -> SanityResult:
    """Compare one attribution map on the model and on a randomised copy.

    Args:
        model: The trained model (left untouched).
        image: One image shaped like the model's input.
        method: ``saliency``, ``smoothgrad``, ``guided`` (abs-max over channels)
            or ``gradcam``.
        class_index: The class to explain in both; ``None`` for the class the
            trained model predicts.
        seed: Seed of the randomisation.
        mode: ``normal`` or ``initializer`` (see module docs).
        **options: Passed to the method (e.g. ``layer_id`` for Grad-CAM).

    Returns:
        A :class:`SanityResult`.

    """
    return sanity_checks(model, image, [method], class_index, seed, mode,
                         {method: options})[method]
