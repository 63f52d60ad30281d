"""The lectures' FC-to-convolution conversion: a Flatten+Dense head becomes Conv2D layers.

A fully connected layer of D units after an F x F x C volume is a convolution
with D filters of F x F x C (padding 0, stride 1): "you do not have to
recompute the weights, you just rearrange them". Keras's Flatten unrolls the
volume channels-last in row-major order, so the Dense kernel of shape
``(F*F*C, D)`` reshaped to ``(F, F, C, D)`` is exactly that convolution's
kernel. The Dense layers after the first one see a 1 x 1 x D' volume and
become 1 x 1 convolutions. The converted model takes inputs of any size at
least the original one: at the original size it gives the original scores
(as a 1 x 1 map), on a larger image a map of class scores, one per window of
the original size, ``stride`` pixels apart.

The model is copied with :func:`keras.models.clone_model` onto an input of
shape ``(None, None, C)``: every layer keeps its name (the block ids), the
Flatten is left out, and the weights are copied (the Dense kernels reshaped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlab.errors import ModelFileError

# Layers a head may hold between (and after) its Dense layers: they act on the
# last axis alone, so they act the same on the channels of a score map.
PASS_THROUGH = ("Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise", "Activation",
                "ReLU", "LeakyReLU", "ELU", "Softmax")
PER_UNIT = ("BatchNormalization", "PReLU")
HEAD_TYPES = ("Dense", *PASS_THROUGH, *PER_UNIT)
GLOBAL_POOLING = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")


@dataclass(frozen=True)
class Rewrite:
    """One Dense layer that became a convolution of the same name."""

    layer: str
    units_in: int
    kernel: tuple[int, int, int, int]  # (F_h, F_w, C, D)

    def describe(self) -> str:
        """``fc1: Dense 4096 -> 64 became 64 filters of 8x8x64``."""
        kh, kw, c, d = self.kernel
        return f"{self.layer}: Dense {self.units_in} -> {d} became {d} filters of {kh}x{kw}x{c}"


@dataclass(frozen=True)
class Head:
    """A Flatten and the chain of layers after it, up to the model's output."""

    flatten: str
    volume: tuple[int, int, int]  # what the Flatten unrolls: (F_h, F_w, C)
    layers: tuple[str, ...]


@dataclass(frozen=True)
class FullyConv:
    """A converted model and how it relates to the original.

    Attributes:
        model: The fully convolutional ``keras.Model``, input ``(None, None, C)``.
        head: The head that was converted.
        rewrites: The Dense layers that became convolutions, in order.
        input_shape: The original input ``(H, W, C)``: the window of one score.
        stride: Pixels between neighbouring scores of the map ``(rows, columns)``.
    """

    model: Any
    head: Head
    rewrites: tuple[Rewrite, ...]
    input_shape: tuple[int, int, int]
    stride: tuple[int, int]

    def map_size(self, height: int, width: int) -> tuple[int, int]:
        """The score map's size for an input of ``height`` x ``width`` pixels."""
        shape = self.model.compute_output_shape((1, int(height), int(width),
                                                 self.input_shape[2]))
        return int(shape[1]), int(shape[2])


def _history_names(obj: Any) -> Iterator[str]:
    """The layer names a node's arguments come from (``keras_history`` entries)."""
    if isinstance(obj, dict):
        history = obj.get("keras_history")
        if isinstance(history, (list, tuple)) and history:
            yield str(history[0])
        for value in obj.values():
            yield from _history_names(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _history_names(value)


@dataclass(frozen=True)
class _Graph:
    """A functional model's wiring, from its config: layer classes, sources, consumers."""

    kinds: dict[str, str]
    sources: dict[str, list[str]]
    consumers: dict[str, list[str]]
    input: str
    output: str


def _endpoint(config: dict, key: str) -> str:
    value = config.get(key) or [[""]]
    return str(value[0] if isinstance(value[0], str) else value[0][0])


def _graph(model: Any) -> _Graph:
    """The wiring of a functional model with one input and one output."""
    config = model.get_config()
    kinds: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    consumers: dict[str, list[str]] = {}
    for layer in config["layers"]:
        name = layer["name"]
        kinds[name] = layer["class_name"]
        sources[name] = list(dict.fromkeys(_history_names(layer.get("inbound_nodes", []))))
        for src in sources[name]:
            consumers.setdefault(src, []).append(name)
    return _Graph(kinds, sources, consumers, _endpoint(config, "input_layers"),
                  _endpoint(config, "output_layers"))


def find_head(model: Any) -> Head:
    """The model's Flatten+Dense head.

    Raises:
        ModelFileError: When the model has no such head (one line saying why).
    """
    from cnnlab.modelio.convert import as_functional

    model = as_functional(model)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError("only a model with one input and one output can be made fully "
                             "convolutional")
    graph = _graph(model)
    flattens = [name for name, kind in graph.kinds.items() if kind == "Flatten"]
    if not flattens:
        raise ModelFileError(_no_head(graph.kinds))
    if len(flattens) > 1:
        raise ModelFileError(f"the model has {len(flattens)} Flatten layers "
                             f"({', '.join(map(repr, flattens))}); a fully convolutional copy "
                             "needs exactly one, followed by Dense layers up to the output")
    flatten = flattens[0]
    chain = _chain(flatten, graph)
    volume = tuple(model.get_layer(flatten).input.shape[1:])
    if len(volume) != 3 or None in volume:
        raise ModelFileError(f"{flatten!r} unrolls a {_shape_text(volume)} tensor; the "
                             "conversion needs an H x W x C volume of known size")
    return Head(flatten, tuple(int(v) for v in volume), chain)


def _chain(flatten: str, graph: _Graph) -> tuple[str, ...]:
    kinds = graph.kinds
    chain: list[str] = []
    name = flatten
    while name != graph.output:
        after = graph.consumers.get(name, [])
        if len(after) != 1:
            raise ModelFileError(f"{name!r} feeds {len(after)} layers; a Flatten+Dense head "
                                 "must be one chain of layers up to the output")
        name = after[0]
        if kinds[name] not in HEAD_TYPES:
            raise ModelFileError(f"{name!r} ({kinds[name]}) after {flatten!r} cannot become "
                                 "a convolution; the head may hold Dense, Dropout, activation "
                                 "and batch-norm layers")
        chain.append(name)
    if not any(kinds[n] == "Dense" for n in chain):
        raise ModelFileError(f"no Dense layer follows {flatten!r}: there is no fully "
                             "connected layer to turn into a convolution")
    return tuple(chain)


def _no_head(kinds: dict[str, str]) -> str:
    pooled = [name for name, kind in kinds.items() if kind in GLOBAL_POOLING]
    why = "the model has no Flatten followed by Dense layers, so there is nothing to convert"
    if pooled:
        why += (f" (its global pooling {pooled[0]!r} already takes any input size, but gives "
                "one score per image)")
    return why


def _shape_text(shape: tuple) -> str:
    return "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def fully_convolutional(model: Any) -> FullyConv:
    """Convert a model's Flatten+Dense head to convolutions with the same weights.

    Args:
        model: A built ``keras.Model`` with one input ``(H, W, C)`` and one output.

    Returns:
        The converted model (not yet verified; see :mod:`cnnlab.modelio.fully_conv_file`).

    Raises:
        ModelFileError: When the model has no Flatten+Dense head, or the layers
            before it cannot take inputs of other sizes.
    """
    import keras

    from cnnlab.modelio.convert import as_functional

    model = as_functional(model)
    head = find_head(model)
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    rewrites = _rewrites(model, head)
    by_name = {r.layer: r for r in rewrites}
    new_input = keras.Input(shape=(None, None, input_shape[-1]), dtype=model.inputs[0].dtype,
                            name=_graph(model).input)

    def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        return args[0] if layer.name == head.flatten else layer(*args, **kwargs)

    try:
        fcn = keras.models.clone_model(model, input_tensors=new_input,
                                       clone_function=lambda layer: _clone(layer, head, by_name),
                                       call_function=call)
    except Exception as exc:  # Keras raises many types for a layer that needs fixed sizes
        from cnnlab.modelio.safety import first_line

        raise ModelFileError(f"the layers before {head.flatten!r} cannot take inputs of "
                             f"other sizes ({first_line(exc)})") from None
    _copy_weights(model, fcn, head, by_name)
    return FullyConv(fcn, head, rewrites, input_shape, _stride(model, head.flatten))


def _rewrites(model: Any, head: Head) -> tuple[Rewrite, ...]:
    found: list[Rewrite] = []
    volume = head.volume
    for name in head.layers:
        layer = model.get_layer(name)
        if type(layer).__name__ != "Dense":
            continue
        units_in, units = (int(d) for d in layer.kernel.shape)
        found.append(Rewrite(name, units_in, (*volume, units)))
        volume = (1, 1, units)
    return tuple(found)


def _clone(layer: Any, head: Head, rewrites: dict[str, Rewrite]) -> Any:
    import keras

    rewrite = rewrites.get(layer.name)
    if rewrite is not None:
        return keras.layers.Conv2D(rewrite.kernel[3], rewrite.kernel[:2], padding="valid",
                                   activation=layer.activation, use_bias=layer.use_bias,
                                   dtype=layer.dtype_policy, name=layer.name)
    config = layer.get_config()
    if layer.name in head.layers and type(layer).__name__ == "BatchNormalization":
        config["axis"] = -1  # the units are the channels of the map
    if layer.name in head.layers and type(layer).__name__ == "PReLU":
        config["shared_axes"] = [1, 2]  # one slope per unit, shared over the map
    return type(layer).from_config(config)


def _copy_weights(model: Any, fcn: Any, head: Head, rewrites: dict[str, Rewrite]) -> None:
    for layer in fcn.layers:
        if not layer.weights:
            continue
        weights = model.get_layer(layer.name).get_weights()
        rewrite = rewrites.get(layer.name)
        if rewrite is not None:  # Keras's Flatten order: channels last, row-major
            weights[0] = weights[0].reshape(rewrite.kernel)
        elif layer.name in head.layers and type(layer).__name__ == "PReLU":
            weights = [w.reshape((1, 1, -1)) for w in weights]
        layer.set_weights(weights)


def _stride(model: Any, flatten: str) -> tuple[int, int]:
    """The product of the strides on the path from the input to the Flatten (first inputs)."""
    sources = _graph(model).sources
    stride = [1, 1]
    name = flatten
    while sources.get(name):
        name = sources[name][0]
        step = getattr(model.get_layer(name), "strides", None)
        if isinstance(step, (list, tuple)) and len(step) == 2:
            stride = [stride[0] * int(step[0]), stride[1] * int(step[1])]
    return stride[0], stride[1]


def score_maps(fc: FullyConv, image: np.ndarray) -> np.ndarray:
    """Every class's score map for one image ``(H, W, C)`` at least the original size.

    Returns:
        ``(rows, columns, classes)``: the scores of the window at each position.

    Raises:
        ModelFileError: When the image is smaller than the original input or
            has another channel count.
    """
    image = np.asarray(image, dtype=np.float32)
    h0, w0, c = fc.input_shape
    if image.ndim != 3 or image.shape[2] != c or image.shape[0] < h0 or image.shape[1] < w0:
        raise ModelFileError(f"the score map needs an image of at least {h0}x{w0}x{c} "
                             f"(got {_shape_text(image.shape)})")
    return np.asarray(fc.model(image[None], training=False))[0]


def map_rect(fc: FullyConv, rows: int, columns: int) -> tuple[float, float, float, float]:
    """Where a ``rows`` x ``columns`` score map lies over the image: ``(x, y, width, height)``.

    Cell (i, j) scores the window whose top-left corner is ``(i*S, j*S)``; its
    square is drawn centred on that window, ``S`` pixels wide.
    """
    (h0, w0, _c), (sh, sw) = fc.input_shape, fc.stride
    return (w0 / 2 - sw / 2, h0 / 2 - sh / 2, float(columns * sw), float(rows * sh))


def mosaic(samples: np.ndarray, per_side: int) -> np.ndarray:
    """The first ``per_side**2`` samples ``(N, H, W, C)`` tiled into one larger image.

    Raises:
        ModelFileError: When there are fewer samples than tiles.
    """
    n = per_side * per_side
    if per_side < 1 or len(samples) < n:
        raise ModelFileError(f"a {per_side}x{per_side} mosaic needs {n} samples "
                             f"(got {len(samples)})")
    rows = [np.concatenate(list(samples[r * per_side:(r + 1) * per_side]), axis=1)
            for r in range(per_side)]
    return np.concatenate(rows, axis=0).astype(np.float32)


def scene_size(fc: FullyConv, height: int, width: int, most: int = 4) -> tuple[int, int]:
    """A size for an image of ``height`` x ``width`` to be scored at: its own, within bounds.

    An image smaller than the original input is enlarged to cover one window;
    one longer than ``most`` windows is shrunk (aspect ratio kept, at least one window).
    """
    h0, w0, _c = fc.input_shape
    scale = max(h0 / height, w0 / width, 1.0)
    scale = min(scale, most * max(h0, w0) / max(height, width))
    scale = max(scale, h0 / height, w0 / width)
    return max(h0, round(height * scale)), max(w0, round(width * scale))
