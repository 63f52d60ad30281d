"""Input, fully-connected, output and reshaping blocks."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.blocks.base import (
    ACTIVATIONS,
    GLOBAL,
    MAX_DIM,
    REG_PARAMS,
    Block,
    BlockProblem,
    Cost,
    P,
    Shape,
    fmt_shape,
    prod,
)
from cnnlab.params import Param


class Input(Block):
    """The model's input."""

    type = "Input"
    group = "Input/Output"
    help = "The input image [H, W, C] (or a vector [N])"
    params = (Param("shape", "int_list", [32, 32, 3], "Input shape [H, W, C]", min=1,
                    max=100_000),)
    min_inputs = 0
    max_inputs = 0

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        return tuple(p["shape"])

    def summary(self, p: P) -> str:
        return fmt_shape(tuple(p["shape"]))

    def build(self, p: P, name: str, ctx):
        raise NotImplementedError("the builder creates keras.Input itself")


class Dense(Block):
    """A fully-connected layer (applied to the last axis)."""

    type = "Dense"
    group = "Core"
    help = "Fully connected: every input connected to each of N units"
    weighted = True
    params = (Param("units", "int", 128, "Number of units N", min=1, max=1_000_000),
              Param("activation", "choice", "relu", "Activation", choices=ACTIVATIONS),
              Param("use_bias", "bool", True, "Add a bias per unit")) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        return ins[0][:-1] + (p["units"],)

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        n_in, units = ins[0][-1], p["units"]
        weights = n_in * units + (units if p["use_bias"] else 0)
        return Cost(weights, 0, prod(ins[0][:-1]) * n_in * units)

    def window(self, p: P) -> str:
        return GLOBAL

    def summary(self, p: P) -> str:
        return f"{p['units']} {p['activation']}"

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Dense(p["units"], activation=ctx.activation(p),
                                   use_bias=p["use_bias"], name=name, **ctx.weight_kwargs(p))
        return lambda xs: layer(xs[0])


class Output(Dense):
    """The classification output (computed in float32 under mixed precision)."""

    type = "Output"
    group = "Input/Output"
    help = "Classifier output: one unit per class (softmax, sigmoid or linear)"
    params = (Param("units", "int", 10, "Number of classes", min=1, max=1_000_000),
              Param("activation", "choice", "softmax", "softmax for one class per image",
                    choices=("softmax", "sigmoid", "linear")),
              Param("use_bias", "bool", True, "Add a bias per unit")) + REG_PARAMS

    def build(self, p: P, name: str, ctx):
        import keras

        # Keras's mixed-precision guide: keep the final softmax in float32.
        layer = keras.layers.Dense(p["units"], activation=ctx.activation(p),
                                   use_bias=p["use_bias"], name=name, dtype="float32",
                                   **ctx.weight_kwargs(p))
        return lambda xs: layer(xs[0])


class Flatten(Block):
    """Flatten to a vector."""

    type = "Flatten"
    group = "Reshape"
    help = "Unroll HxWxC into one vector of H*W*C values"

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        return (prod(ins[0]),)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Flatten(name=name)
        return lambda xs: layer(xs[0])


class Reshape(Block):
    """Reshape to a target shape."""

    type = "Reshape"
    group = "Reshape"
    help = "Rearrange the values into a new shape (one entry may be -1)"
    params = (Param("target_shape", "int_list", [-1], "New shape without the batch axis",
                    min=-1, max=MAX_DIM),)

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        target, total = list(p["target_shape"]), prod(ins[0])
        if 0 in target or target.count(-1) > 1:
            raise BlockProblem("target_shape may contain one -1 and no 0")
        known = prod([t for t in target if t != -1])
        if -1 in target:
            if total % known:
                raise BlockProblem(f"{total} values cannot be arranged as "
                                   f"{fmt_shape(tuple(target))}")
            target[target.index(-1)] = total // known
        elif known != total:
            raise BlockProblem(f"{fmt_shape(ins[0])} has {total} values but "
                               f"{fmt_shape(tuple(target))} needs {known}")
        return tuple(target)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Reshape(tuple(p["target_shape"]), name=name)
        return lambda xs: layer(xs[0])


BLOCKS = (Input(), Dense(), Output(), Flatten(), Reshape())
