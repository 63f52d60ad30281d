"""Inspection methods: filters, feature maps, attribution maps, fantasy images, evaluation.

Every method takes a plain ``keras.Model`` (functional; layer names are the
lab's block ids) and numpy inputs, and returns numpy arrays. Importing this
package is light: TensorFlow is imported only when a method is first used,
through the lazy attributes below (or by importing a submodule directly).

Modules:
    session: a saved model with its run folder, samples and class names (CLI and window).
    filters: convolution kernels as ``(n, kh, kw, c)`` filters and image grids.
    activations: feature maps of any layer. tiling: many maps as one grid image.
    attribution, guided, cam, score: saliency and SmoothGrad, guided backprop,
        Grad-CAM, and the class score they differentiate.
    sanity: the model-randomisation check of attribution maps; similarity: its measures.
    explanation: which class to explain and all its maps, with or without the check.
    ascent, fantasy, dream: gradient ascent on the input (activation maximisation,
        dead-unit detection, deep dream).
    evaluation: confusion matrix, per-class figures, confident mistakes, predictions.
    scaling: min-max and signed scaling for display (numpy only).
    images, colormap: resizing, channel conversion, blur; jet colours and overlays.
    report, figures: one labelled matplotlib figure per method (``cnnlab inspect``).
    graph, cache, settings, errors: layer look-up, per-model caches, ascent limits,
        :class:`InspectError`.
"""

from __future__ import annotations

import importlib
from typing import Any

from cnnlab.inspect.errors import InspectError

_LAZY = {
    "filter_grid": "filters",
    "filter_image": "filters",
    "filter_kinds": "filters",
    "as_filters": "filters",
    "raw_kernel": "filters",
    "FilterGrid": "filters",
    "Session": "session",
    "open_model_file": "session",
    "open_run": "session",
    "runs_with_models": "session",
    "attribution_maps": "sanity",
    "explain": "explanation",
    "Explanation": "explanation",
    "explained_class": "explanation",
    "never_active": "fantasy",
    "dead_unit_note": "fantasy",
    "sanity_checks": "sanity",
    "feature_maps": "activations",
    "inspectable_layer_ids": "activations",
    "tile_channels": "tiling",
    "grid": "tiling",
    "saliency": "attribution",
    "smoothgrad": "attribution",
    "input_gradients": "attribution",
    "predicted_class": "score",
    "score_source": "score",
    "guided_backprop": "guided",
    "gradcam": "cam",
    "guided_gradcam": "cam",
    "last_conv_layer_id": "cam",
    "jet": "colormap",
    "overlay": "colormap",
    "AscentProgress": "ascent",
    "AscentResult": "ascent",
    "AscentSettings": "ascent",
    "maximize_filter": "fantasy",
    "maximize_class": "fantasy",
    "deep_dream": "dream",
    "evaluate": "evaluation",
    "Evaluation": "evaluation",
    "WrongExample": "evaluation",
    "Prediction": "evaluation",
    "confusion_matrix": "evaluation",
    "predict_image": "evaluation",
    "sanity_check": "sanity",
    "SanityResult": "sanity",
    "randomized_copy": "sanity",
    "spearman": "similarity",
    "pearson": "similarity",
    "ssim": "similarity",
    "fit_image": "images",
    "to_unit": "scaling",
    "signed_to_unit": "scaling",
    "display_image": "scaling",
}

__all__ = ["InspectError", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cnnlab.inspect' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cnnlab.inspect.{module}"), name)
    globals()[name] = value
    return value
