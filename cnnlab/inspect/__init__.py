"""Inspection methods: filters, feature maps, attribution maps, fantasy images, evaluation.

Every method takes a plain ``keras.Model`` (functional; layer names are the
lab's block ids) and numpy inputs, and returns numpy arrays. Importing this
package is light: TensorFlow is imported only when a method is first used,
through the lazy attributes below (or by importing a submodule directly).
"""

from __future__ import annotations

import importlib
from typing import Any

from cnnlab.inspect.errors import InspectError

_LAZY = {
    "filter_grid": "filters",
    "FilterGrid": "filters",
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
    "to_unit": "images",
    "signed_to_unit": "images",
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
