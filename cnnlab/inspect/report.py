"""One labelled figure per inspection method, for ``cnnlab inspect`` and the window.

``inspection_figure(model, request)`` runs a method of this package (numpy
out) and draws it with :mod:`cnnlab.inspect.figures`: a title naming where
the model came from, the layer, the method and the class; class names, filter
and channel indices on the axes; colour bars. ``figures.save_png`` writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnlab.inspect import figures as fg
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.settings import DREAM_DEFAULTS, FANTASY_DEFAULTS, METHODS

NEEDS_IMAGE = ("feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam",
               "deep-dream")
MAX_CHANNEL_TILES = 4096  # a figure has room for more tiles than the window
TITLES = {"saliency": "Saliency", "smoothgrad": "SmoothGrad", "guided-backprop": "Guided backprop",
          "gradcam": "Grad-CAM"}


@dataclass(frozen=True, eq=False)
class Request:
    """What to show and how to label it.

    Attributes:
        method: One of :data:`METHODS`.
        source: Where the model came from (``run 'name' (id)``, a file name).
        layer: Block id (filters, feature maps, Grad-CAM, fantasy, deep dream;
            comma-separated ids for deep dream).
        class_index: Class to explain or maximise (default: the predicted one), or
            the filter index for a fantasy of a layer.
        image: One input ``(H, W, C)`` shaped for the model.
        image_label: What the image is (``test sample 0 (true: circle)``, a file name).
        class_names: One name per class (default: the indices).
        eval_data: ``(x, y, split name)`` for ``confusion``.
        value_range: The model's input value range (ascent clipping).
        steps: Gradient steps (fantasy; per octave for deep dream).
        step_size: Step size as a fraction of the value range.
        octaves: Deep-dream octaves.

    """

    method: str
    source: str = ""
    layer: str | None = None
    class_index: int | None = None
    image: np.ndarray | None = None
    image_label: str = "an image"
    class_names: Sequence[str] | None = None
    eval_data: tuple | None = None
    value_range: tuple[float, float] = (0.0, 1.0)
    steps: int | None = None
    step_size: float | None = None
    octaves: int | None = None


def inspection_figure(model, request: Request):
    """Compute one inspection method and return its labelled matplotlib figure.

    Raises:
        InspectError: For an unknown method, a missing input, or bad settings.

    """
    method = request.method
    if method not in METHODS:
        raise InspectError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if method in NEEDS_IMAGE and request.image is None:
        raise InspectError(f"{method} needs an input image (--image PATH)")
    return _DRAW[method](model, request)


def class_names(model, request: Request) -> list[str]:
    """The request's class names, or the class indices as text."""
    from cnnlab.inspect.score import class_labels

    return class_labels(model, request.class_names)


def _explained_class(model, request: Request) -> tuple[int, str]:
    """(class index, how to say it in a title), from the asked or the predicted class."""
    from cnnlab.inspect.explanation import explained_class

    target = explained_class(model, request.image, request.class_index, request.class_names)
    return target.index, target.describe()


def _where(request: Request) -> str:
    return f"{request.source}; input: {request.image_label}"


def first_conv(model) -> str:
    """The first convolution's id (the default layer of ``filters``)."""
    from cnnlab.inspect.cam import last_conv_layer_id

    for layer in model.layers:
        if "Conv" in type(layer).__name__:
            return layer.name
    return last_conv_layer_id(model)


def _filters(model, request: Request):
    from cnnlab.inspect.filters import auto_mode, filter_image, kernels
    from cnnlab.inspect.graph import find_layer

    layer_id = request.layer or first_conv(model)
    layer = find_layer(model, layer_id)
    w = kernels(layer)  # (n, kh, kw, c)
    n, kh, kw, c = w.shape
    head = (f"filters of {layer_id} ({type(layer).__name__}): {n} filters of "
            f"{kh}x{kw}x{c}\n{request.source}")
    mode = auto_mode(w, max_tiles=MAX_CHANNEL_TILES)
    if mode == "rgb":
        return fg.grid_figure(filter_image(w, "rgb").tiles, head,
                              xlabel="filter = row + column", ylabel="",
                              note="colour = the filter's weights on the R, G, B input, "
                                   "each filter scaled to its own min..max")
    if mode == "channels":
        tiles = w.transpose(0, 3, 1, 2).reshape(n * c, kh, kw)
        return fg.grid_figure(tiles, head, cols=c, xlabel="input channel", ylabel="filter",
                              row_step=1, cbar_label="weight", cmap="RdBu_r",
                              vrange=fg.symmetric(w))
    tiles = w.mean(axis=-1)
    label = "mean weight over the input channels" if c > 1 else "weight"
    return fg.grid_figure(tiles, head, xlabel="filter = row + column", ylabel="",
                          cbar_label=label, cmap="RdBu_r", vrange=fg.symmetric(tiles))


def _feature_maps(model, request: Request):
    from cnnlab.inspect.activations import feature_maps
    from cnnlab.inspect.graph import find_layer

    layer = request.layer
    maps = feature_maps(model, request.image, [layer] if layer else None)
    name = layer or next((k for k, v in maps.items() if np.ndim(v) == 3), None)
    if name is None or np.ndim(maps[name]) != 3:
        raise InspectError(f"{name or 'the model'} has no feature maps (its output is a vector)")
    act = maps[name]
    h, w, c = act.shape
    kind = type(find_layer(model, name)).__name__
    head = f"feature maps of {name} ({kind}): {c} channels of {h}x{w}\n{_where(request)}"
    return fg.grid_figure(np.moveaxis(act, -1, 0), head, xlabel="channel = row + column",
                          ylabel="", cbar_label="activation (one scale for the layer)")


def _attribution(model, request: Request):
    import cnnlab.inspect as ins

    index, which = _explained_class(model, request)
    image, method = request.image, request.method
    fig = fg.new_figure(11.5, 4.4)
    axes = fig.subplots(1, 3)
    fg.show_image(axes[0], image, "input")
    if method == "guided-backprop":
        g = ins.guided_backprop(model, image, index)
        fg.show_image(axes[1], ins.signed_to_unit(g), "guided backprop (grey = 0)")
        summed = g.sum(axis=-1)
        lo, hi = fg.symmetric(summed)
        fg.show_map(fig, axes[2], summed, "summed over channels",
                    "d score / d pixel (guided)", cmap="RdBu_r", vmin=lo, vmax=hi)
    else:
        heat, caption, label = _heat(model, request, index)
        hi = max(float(heat.max()), 1e-12)
        fg.show_map(fig, axes[1], heat, caption, label, vmin=0, vmax=hi)
        fg.show_map(fig, axes[2], heat, "overlay on the input (same scale)", None, vmin=0,
                    vmax=hi, under=image)
    layer = f" at {request.layer or ins.last_conv_layer_id(model)}" if method == "gradcam" else ""
    fg.title(fig, f"{TITLES[method]}{layer} for {which}\n{_where(request)}")
    return fig


def _heat(model, request: Request, index: int) -> tuple[np.ndarray, str, str]:
    import cnnlab.inspect as ins

    image = request.image
    if request.method == "saliency":
        return (ins.saliency(model, image, index), "saliency",
                "|d score / d pixel|, max over channels")
    if request.method == "smoothgrad":
        return (ins.smoothgrad(model, image, index), "SmoothGrad (25 noisy copies)",
                "|mean d score / d pixel|, max over channels")
    heat = ins.gradcam(model, image, layer_id=request.layer, class_index=index)
    return heat, "Grad-CAM", "Grad-CAM (1 = its peak)"


def _fantasy(model, request: Request):
    from cnnlab.inspect.ascent import AscentSettings
    from cnnlab.inspect.fantasy import dead_unit_note, maximize_class, maximize_filter, never_active

    steps = request.steps or FANTASY_DEFAULTS["steps"]
    settings = AscentSettings(steps=steps,
                              step_size=request.step_size or FANTASY_DEFAULTS["step_size"])
    index = request.class_index or 0
    if request.layer:
        result = maximize_filter(model, request.layer, index, settings, request.value_range)
        what, objective = f"filter {index} of {request.layer}", "mean activation"
    else:
        result = maximize_class(model, index, settings, request.value_range)
        what = f"class '{class_names(model, request)[index]}'"
        objective = "class score (logit)"
    fig = fg.new_figure(10, 4.4)
    axes = fig.subplots(1, 2)
    fg.show_image(axes[0], result.image, f"the input that maximises {what}")
    fg.curve(axes[1], result.values, f"{objective}: {result.start_value:.3g} -> "
             f"{result.final_value:.3g}", objective)
    fg.title(fig, f"fantasy image of {what}: {len(result.values)} steps, step size "
                  f"{settings.step_size:g}\n{request.source}")
    if never_active(result):
        fig.supxlabel(dead_unit_note(what.capitalize()), fontsize=8, wrap=True)
    return fig


def dream_layers(model, layer: str | None) -> list[str]:
    """The layers a deep dream amplifies: comma-separated ids, or the last convolution."""
    from cnnlab.inspect.cam import last_conv_layer_id

    ids = [part.strip() for part in (layer or "").split(",") if part.strip()]
    return ids or [last_conv_layer_id(model)]


def _deep_dream(model, request: Request):
    from cnnlab.inspect.dream import deep_dream

    layers = dream_layers(model, request.layer)
    octaves = request.octaves or DREAM_DEFAULTS["octaves"]
    steps = request.steps or DREAM_DEFAULTS["steps"]
    step_size = request.step_size or DREAM_DEFAULTS["step_size"]
    result = deep_dream(model, request.image, layers, octaves=octaves, steps=steps,
                        step_size=step_size, input_range=request.value_range)
    return dream_figure(request.image, result.image, layers, (octaves, steps, step_size),
                        (result.start_value, result.final_value), _where(request))


def dream_figure(image: np.ndarray, dreamed: np.ndarray, layers: Sequence[str],
                 settings: tuple[int, int, float], objective: tuple[float, float],
                 where: str):
    """Input, dream and their difference (with a colour bar), titled with the settings.

    Args:
        image: The input.
        dreamed: The dreamed image.
        layers: The amplified layers.
        settings: ``(octaves, steps per octave, step size)``.
        objective: The objective before and after.
        where: The source and input, for the title.

    Returns:
        The figure.

    """
    octaves, steps, step_size = settings
    fig = fg.new_figure(11.5, 4.4)
    axes = fig.subplots(1, 3)
    fg.show_image(axes[0], image, "input")
    fg.show_image(axes[1], dreamed, "deep dream")
    change = (np.asarray(dreamed, np.float32) - np.asarray(image, np.float32)).mean(axis=-1)
    lo, hi = fg.symmetric(change)
    fg.show_map(fig, axes[2], change, "what changed", "dream - input (mean over channels)",
                cmap="RdBu_r", vmin=lo, vmax=hi)
    fg.title(fig, f"deep dream on {', '.join(layers)}: {octaves} octaves x {steps} steps, "
                  f"step size {step_size:g}; objective {objective[0]:.3g} -> "
                  f"{objective[1]:.3g}\n{where}")
    return fig


def _confusion(model, request: Request):
    from cnnlab.inspect.evaluation import evaluate

    if request.eval_data is None:
        raise InspectError("confusion needs the run's dataset (give a run id, not a file)")
    x, y, split = request.eval_data
    ev = evaluate(model, x, y, class_names(model, request))
    head = (f"confusion matrix on {len(y)} {split} samples: accuracy "
            f"{ev.overall_accuracy:.1%}\n{request.source}")
    return fg.confusion_figure(ev.confusion, ev.class_names, head)


_DRAW = {"filters": _filters, "feature-maps": _feature_maps, "saliency": _attribution,
         "smoothgrad": _attribution, "guided-backprop": _attribution, "gradcam": _attribution,
         "fantasy": _fantasy, "deep-dream": _deep_dream, "confusion": _confusion}
