"""Spec -> ``keras.Model`` through the functional API; layer names equal block ids.

A block with an explicit padding P becomes ``ZeroPadding2D`` (``{id}_pad``)
followed by the layer; the experiment-wide batch-norm switch adds
``{id}_bn`` (and ``{id}_act``) after every convolution. :func:`block_output`
maps a block id to the layer that holds its output.

With ``training.transfer.head = "svm"`` the final Output block is the
lectures' linear SVM: a Dense layer with no activation (its outputs are the
class margins) and ``kernel_regularizer = L2(svm_l2)``, trained with the
squared hinge (:mod:`cnnlab.recipe.losses`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cnnlab.analysis import CONV_TYPES, analyze
from cnnlab.blocks.base import REG_PARAM_NAMES
from cnnlab.blocks.registry import BLOCKS
from cnnlab.errors import SpecError
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.graph import FlatNode, ModelSpec
from cnnlab.spec.sections import RegularizationSpec


class BuildContext:
    """What block constructors need besides their params: regularizers, seeds, BN."""

    def __init__(self, regularization: RegularizationSpec, seed: int,
                 svm_l2: float | None = None):
        self.defaults = {n: getattr(regularization, n) for n in REG_PARAM_NAMES}
        self.batchnorm = regularization.batchnorm
        self.base_seed = seed
        self.svm_l2 = svm_l2  # None: no SVM head
        self._conv = False
        self.block_type = ""

    def seed(self, name: str) -> int:
        """A stable per-layer seed derived from the experiment seed and the block id."""
        return (self.base_seed * 1_000_003 + sum(map(ord, name)) * 7919) % (2**31 - 1)

    def activation(self, p: Mapping[str, Any]) -> str | None:
        """The activation the Keras layer itself applies."""
        act = p.get("activation", "linear")
        if self._conv and self.batchnorm == "before_activation":
            return None
        return None if act == "linear" else act

    def weight_kwargs(self, p: Mapping[str, Any], kernel: str = "kernel") -> dict[str, Any]:
        """Keras regularizer/constraint kwargs from the block's fields and the defaults."""
        import keras

        from cnnlab.layers import KLSparsity

        v = {n: p.get(n) if p.get(n) is not None else self.defaults[n] for n in REG_PARAM_NAMES}
        out: dict[str, Any] = {}
        if v["kernel_l1"] or v["kernel_l2"]:
            out[f"{kernel}_regularizer"] = keras.regularizers.L1L2(
                l1=v["kernel_l1"] or 0.0, l2=v["kernel_l2"] or 0.0)
        if v["bias_l2"] and p.get("use_bias", True):
            out["bias_regularizer"] = keras.regularizers.L2(v["bias_l2"])
        if v["max_norm"]:
            axis = _max_norm_axis(self.block_type, kernel, p)
            out[f"{kernel}_constraint"] = keras.constraints.MaxNorm(v["max_norm"], axis=axis)
        if v["sparsity_rho"] is not None and v["sparsity_beta"]:
            out["activity_regularizer"] = KLSparsity(v["sparsity_rho"], v["sparsity_beta"],
                                                     v["activity_l1"] or 0.0)
        elif v["activity_l1"]:
            out["activity_regularizer"] = keras.regularizers.L1(v["activity_l1"])
        return out

    def finish(self, p: Mapping[str, Any], name: str, fn):
        """Append the inserted batch-norm (and activation) after a convolution."""
        if self.batchnorm == "none":
            return fn
        import keras

        act = p.get("activation", "linear")

        def with_bn(xs):
            y = keras.layers.BatchNormalization(name=f"{name}_bn")(fn(xs))
            if self.batchnorm == "before_activation" and act != "linear":
                y = keras.layers.Activation(act, name=f"{name}_act")(y)
            return y

        return with_bn


def build_model(source: Experiment | ModelSpec, regularization: RegularizationSpec | None = None,
                seed: int | None = None, name: str | None = None):
    """Build the Keras functional model of an experiment or model section.

    Args:
        source: The experiment (its recipe's regularization and seed are used)
            or a bare model section.
        regularization: Overrides the experiment's regularization defaults.
        seed: Overrides the experiment's seed (for dropout/noise layers).
        name: The model's name (default: derived from the experiment name).

    Returns:
        An uncompiled ``keras.Model``.

    Raises:
        SpecError: When the graph has errors (the message lists them), or when
            the experiment's transfer recipe does not fit its graph
            (:func:`cnnlab.recipe.transfer.check_transfer`).

    """
    import keras

    svm_l2 = None
    if isinstance(source, Experiment):
        model = source.model
        regularization = regularization or source.training.regularization
        seed = source.training.seed if seed is None else seed
        name = name or source.name
        if source.training.transfer.head == "svm":
            svm_l2 = float(source.training.transfer.svm_l2)
    else:
        model = source
    regularization = regularization or RegularizationSpec()
    result = analyze(model, regularization.batchnorm)
    if not result.ok:
        first = result.errors()[0]  # the same line `cnnlab validate` prints first
        raise SpecError(first.node or "model", first.message)
    if isinstance(source, Experiment):
        from cnnlab.recipe.transfer import check_transfer

        check_transfer(source)
    graph = model.expand()
    ctx = BuildContext(regularization, seed or 0, svm_l2)
    tensors = _build_tensors(graph, result, ctx)
    inp = next(n.id for n in graph.nodes if n.type == "Input")
    return keras.Model(tensors[inp], tensors[result.output], name=_model_name(name))


def _build_tensors(graph, result, ctx: BuildContext) -> dict[str, Any]:
    import keras

    nodes = {n.id: n for n in graph.nodes}
    tensors: dict[str, Any] = {}
    for info in result.layers:
        node: FlatNode = nodes[info.id]
        if node.type == "Input":
            tensors[node.id] = keras.Input(shape=tuple(node.params["shape"]), name=node.id)
            continue
        ctx._conv = node.type in CONV_TYPES
        ctx.block_type = node.type
        if ctx.svm_l2 is not None and node.type == "Output" and node.id == result.output:
            fn = svm_output(node.params, node.id, ctx)
        else:
            fn = BLOCKS[node.type].build(node.params, node.id, ctx)
        tensors[node.id] = fn([tensors[i] for i in info.inputs])
    return tensors


def svm_output(p: Mapping[str, Any], name: str, ctx: BuildContext):
    """The Output block as a linear SVM: Dense, no activation, ``L2(svm_l2)`` on the kernel.

    ``svm_l2`` replaces the block's own kernel penalties; its bias penalty,
    max-norm and activity penalties stay. Computed in float32, like Output.
    """
    import keras

    kwargs = ctx.weight_kwargs(p)
    kwargs.pop("kernel_regularizer", None)
    if ctx.svm_l2:
        kwargs["kernel_regularizer"] = keras.regularizers.L2(ctx.svm_l2)
    layer = keras.layers.Dense(p["units"], activation="linear", use_bias=p["use_bias"],
                               name=name, dtype="float32", **kwargs)
    return lambda xs: layer(xs[0])


def _max_norm_axis(block_type: str, kernel: str, p: Mapping[str, Any]) -> int | list[int]:
    """Return the kernel axes of one column: the weights into one output unit."""
    if kernel == "depthwise":  # (kh, kw, channels, multiplier): one filter per channel
        return [0, 1]
    if block_type == "Conv2DTranspose":  # (kh, kw, filters, input channels)
        return [0, 1, 3]
    return [0, 1, 2] if "kernel_size" in p else 0


def block_output(model, block_id: str):
    """The Keras layer holding a block's output (after inserted BN/activation)."""
    names = {layer.name for layer in model.layers}
    for suffix in ("_act", "_bn", ""):
        if f"{block_id}{suffix}" in names:
            return model.get_layer(f"{block_id}{suffix}")
    raise KeyError(block_id)


def _model_name(name: str | None) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]+", "_", name or "model").strip("_")
    return clean or "model"
