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

from cnnlab.inspect.errors import InspectError
from cnnlab.lazy import lazy_exports

_LAZY = {
    "filter_grid": "cnnlab.inspect.filters:filter_grid",
    "filter_image": "cnnlab.inspect.filters:filter_image",
    "filter_kinds": "cnnlab.inspect.filters:filter_kinds",
    "as_filters": "cnnlab.inspect.filters:as_filters",
    "raw_kernel": "cnnlab.inspect.filters:raw_kernel",
    "FilterGrid": "cnnlab.inspect.filters:FilterGrid",
    "Session": "cnnlab.inspect.session:Session",
    "open_model_file": "cnnlab.inspect.session:open_model_file",
    "open_run": "cnnlab.inspect.session:open_run",
    "runs_with_models": "cnnlab.inspect.session:runs_with_models",
    "attribution_maps": "cnnlab.inspect.sanity:attribution_maps",
    "explain": "cnnlab.inspect.explanation:explain",
    "Explanation": "cnnlab.inspect.explanation:Explanation",
    "explained_class": "cnnlab.inspect.explanation:explained_class",
    "never_active": "cnnlab.inspect.fantasy:never_active",
    "dead_unit_note": "cnnlab.inspect.fantasy:dead_unit_note",
    "sanity_checks": "cnnlab.inspect.sanity:sanity_checks",
    "feature_maps": "cnnlab.inspect.activations:feature_maps",
    "inspectable_layer_ids": "cnnlab.inspect.activations:inspectable_layer_ids",
    "tile_channels": "cnnlab.inspect.tiling:tile_channels",
    "grid": "cnnlab.inspect.tiling:grid",
    "saliency": "cnnlab.inspect.attribution:saliency",
    "smoothgrad": "cnnlab.inspect.attribution:smoothgrad",
    "input_gradients": "cnnlab.inspect.attribution:input_gradients",
    "predicted_class": "cnnlab.inspect.score:predicted_class",
    "score_source": "cnnlab.inspect.score:score_source",
    "guided_backprop": "cnnlab.inspect.guided:guided_backprop",
    "gradcam": "cnnlab.inspect.cam:gradcam",
    "guided_gradcam": "cnnlab.inspect.cam:guided_gradcam",
    "last_conv_layer_id": "cnnlab.inspect.cam:last_conv_layer_id",
    "jet": "cnnlab.inspect.colormap:jet",
    "overlay": "cnnlab.inspect.colormap:overlay",
    "AscentProgress": "cnnlab.inspect.ascent:AscentProgress",
    "AscentResult": "cnnlab.inspect.ascent:AscentResult",
    "AscentSettings": "cnnlab.inspect.ascent:AscentSettings",
    "maximize_filter": "cnnlab.inspect.fantasy:maximize_filter",
    "maximize_class": "cnnlab.inspect.fantasy:maximize_class",
    "deep_dream": "cnnlab.inspect.dream:deep_dream",
    "evaluate": "cnnlab.inspect.evaluation:evaluate",
    "Evaluation": "cnnlab.inspect.evaluation:Evaluation",
    "WrongExample": "cnnlab.inspect.evaluation:WrongExample",
    "Prediction": "cnnlab.inspect.evaluation:Prediction",
    "confusion_matrix": "cnnlab.inspect.evaluation:confusion_matrix",
    "predict_image": "cnnlab.inspect.evaluation:predict_image",
    "sanity_check": "cnnlab.inspect.sanity:sanity_check",
    "SanityResult": "cnnlab.inspect.sanity:SanityResult",
    "randomized_copy": "cnnlab.inspect.sanity:randomized_copy",
    "spearman": "cnnlab.inspect.similarity:spearman",
    "pearson": "cnnlab.inspect.similarity:pearson",
    "ssim": "cnnlab.inspect.similarity:ssim",
    "fit_image": "cnnlab.inspect.images:fit_image",
    "to_unit": "cnnlab.inspect.scaling:to_unit",
    "signed_to_unit": "cnnlab.inspect.scaling:signed_to_unit",
    "display_image": "cnnlab.inspect.scaling:display_image",
    "DREAM_DEFAULTS": "cnnlab.inspect.settings:DREAM_DEFAULTS",
    "DreamFrame": "cnnlab.inspect.dream:DreamFrame",
    "LIMITS": "cnnlab.inspect.settings:LIMITS",
    "dream_figure": "cnnlab.inspect.report:dream_figure",
    "probabilities": "cnnlab.inspect.evaluation:probabilities",
    "save_png": "cnnlab.inspect.figures:save_png",
}

__all__ = ["InspectError", *sorted(_LAZY)]


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
