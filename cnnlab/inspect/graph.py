"""Finding layers and fitting numpy inputs to a model's single input."""

from __future__ import annotations

import keras
import numpy as np

from cnnlab.inspect.errors import InspectError


def find_layer(model: keras.Model, layer_id: str) -> keras.layers.Layer:
    """Return the layer named ``layer_id`` (the lab's block id).

    Raises:
        InspectError: If the model has no layer of that name.

    """
    for layer in model.layers:
        if layer.name == layer_id:
            return layer
    names = [layer.name for layer in model.layers]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise InspectError(f"Unknown layer id '{layer_id}'; the model's layers are: {shown}")


def input_tensor(model: keras.Model):
    """Return the model's only symbolic input.

    Raises:
        InspectError: If the model has no defined input or more than one.

    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise InspectError(f"Model '{model.name}' has no defined input shape; build it first")
    if len(inputs) != 1:
        raise InspectError(f"Model '{model.name}' has {len(inputs)} inputs; inspection needs one")
    return inputs[0]


def input_shape(model: keras.Model) -> tuple[int | None, ...]:
    """Return the shape of one input sample, without the batch axis."""
    return tuple(input_tensor(model).shape[1:])


def output_tensor(model: keras.Model):
    """Return the model's first symbolic output (the class scores)."""
    outputs = model.outputs
    if not outputs:
        raise InspectError(f"Model '{model.name}' has no outputs")
    return outputs[0]


def _graph_nodes(model: keras.Model) -> list | None:
    """Return the model's own graph nodes, deepest (nearest the input) first, if known."""
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if not by_depth:
        return None
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def _node_of(model: keras.Model, layer: keras.layers.Layer):
    # A layer shared with another model (a base re-used in a new graph) has a
    # node per graph; ``layer.output`` would give the first graph's tensor.
    nodes = _graph_nodes(model)
    if nodes is None:
        return None
    mine = [node for node in nodes if node.operation is layer]
    if not mine:
        raise InspectError(f"Layer '{layer.name}' is not connected in the model's graph")
    return mine[0]


def _single(tensors, layer: keras.layers.Layer):
    if isinstance(tensors, (list, tuple)):
        if len(tensors) != 1:
            raise InspectError(f"Layer '{layer.name}' has several inputs or outputs; "
                               "pick a layer with one")
        return tensors[0]
    if isinstance(tensors, dict):
        raise InspectError(f"Layer '{layer.name}' has several outputs; pick a layer with one")
    return tensors


def _fallback(layer: keras.layers.Layer, attribute: str):
    try:
        return getattr(layer, attribute)
    except (AttributeError, ValueError) as exc:
        raise InspectError(f"Layer '{layer.name}' is not connected in the model's graph") from exc


def layer_output(model: keras.Model, layer: keras.layers.Layer):
    """Return the layer's symbolic output tensor in ``model``'s graph.

    Raises:
        InspectError: If the layer has no single tensor output in that graph.

    """
    node = _node_of(model, layer)
    return _single(node.outputs if node is not None else _fallback(layer, "output"), layer)


def layer_input(model: keras.Model, layer: keras.layers.Layer):
    """Return the layer's symbolic input tensor in ``model``'s graph.

    Raises:
        InspectError: If the layer has no single tensor input in that graph.

    """
    node = _node_of(model, layer)
    return _single(node.input_tensors if node is not None else _fallback(layer, "input"), layer)


def producer(model: keras.Model, tensor) -> keras.layers.Layer | None:
    """Return the layer of ``model`` whose node outputs ``tensor`` (``None`` if unknown)."""
    nodes = _graph_nodes(model)
    if nodes is None:
        return None
    for node in nodes:
        if any(t is tensor for t in node.outputs):
            return node.operation
    return None


def as_batch(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Return ``images`` as a float32 batch that fits the model's input.

    A single sample gets a batch axis; a missing trailing channel axis of
    size 1 is added.

    Raises:
        InspectError: If the shape does not fit the model's input.

    """
    shape = input_shape(model)
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == len(shape) - 1 and shape[-1] == 1:
        x = x[..., None]
    if x.ndim == len(shape):
        x = x[None]
    if x.ndim != len(shape) + 1 or any(
        want is not None and want != got for want, got in zip(shape, x.shape[1:], strict=True)
    ):
        want = tuple("?" if d is None else d for d in shape)
        raise InspectError(
            f"Image shape {tuple(np.shape(images))} does not fit the model input {want}; "
            "resize it with cnnlab.inspect.fit_image"
        )
    return x


def as_single(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Return one image as a batch of one; refuse a batch of several."""
    x = as_batch(model, image)
    if x.shape[0] != 1:
        raise InspectError(f"Expected one image, got a batch of {x.shape[0]}")
    return x


def value_range(x: np.ndarray) -> tuple[float, float]:
    """Return ``(min, max)`` of ``x``, widened to a span of 1 when ``x`` is constant."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)
