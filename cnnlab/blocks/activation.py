"""Activation blocks, including PReLU and Maxout."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.blocks.base import REG_PARAMS, Block, Cost, P, Shape, prod
from cnnlab.params import Param

ACTIVATION_CHOICES = ("relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "sigmoid", "tanh",
                      "softplus", "softmax", "linear", "swish", "relu6")


class Activation(Block):
    """An element-wise non-linearity."""

    type = "Activation"
    group = "Activation"
    help = "Non-linearity applied to every value (ReLU, leaky ReLU, PReLU, ELU, ...)"
    params = (
        Param("activation", "choice", "relu", "Function", choices=ACTIVATION_CHOICES),
        Param("negative_slope", "float", 0.1, "leaky_relu: slope for negative inputs", min=0,
              max=1),
        Param("alpha", "float", 1.0, "elu: value for large negative inputs", min=0, max=10),
    )

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        if p["activation"] != "prelu":
            return Cost()
        # PReLU learns one slope per channel (shared over H and W), as in He et al. 2015.
        return Cost(ins[0][-1] if len(ins[0]) == 3 else prod(ins[0]))

    def summary(self, p: P) -> str:
        return p["activation"]

    def build(self, p: P, name: str, ctx):
        import keras

        kind = p["activation"]
        if kind == "leaky_relu":
            layer = keras.layers.LeakyReLU(negative_slope=p["negative_slope"], name=name)
        elif kind == "elu":
            layer = keras.layers.ELU(alpha=p["alpha"], name=name)
        elif kind == "prelu":
            layer = None
        else:
            layer = keras.layers.Activation(kind, name=name)
        if layer is not None:
            return lambda xs: layer(xs[0])

        def prelu(xs):
            shared = [1, 2] if len(xs[0].shape) == 4 else None
            return keras.layers.PReLU(shared_axes=shared, name=name)(xs[0])

        return prelu


class Maxout(Block):
    """Maxout (Goodfellow et al. 2013): the max of k linear pieces per unit."""

    type = "Maxout"
    group = "Activation"
    help = "Maxout: each of N units is the max of k linear functions of the input"
    weighted = True
    params = (Param("units", "int", 64, "Number of output units N", min=1, max=100_000),
              Param("pieces", "int", 2, "Linear pieces k per unit", min=2, max=64)) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        return ins[0][:-1] + (p["units"],)

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        n_in, k, u = ins[0][-1], p["pieces"], p["units"]
        return Cost(n_in * u * k + u * k, 0, prod(ins[0][:-1]) * n_in * u * k)

    def summary(self, p: P) -> str:
        return f"{p['units']} k={p['pieces']}"

    def build(self, p: P, name: str, ctx):
        from cnnlab.layers import Maxout as KerasMaxout

        layer = KerasMaxout(p["units"], p["pieces"], name=name, **ctx.weight_kwargs(p))
        return lambda xs: layer(xs[0])


BLOCKS = (Activation(), Maxout())
