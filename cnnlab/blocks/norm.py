"""Normalization and noise/dropout regularization blocks."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.blocks.base import Block, Cost, P, Shape, need_image
from cnnlab.params import Param

RATE = Param("rate", "float", 0.5, "Fraction of units dropped in training", min=0, max=0.99)


class BatchNormalization(Block):
    """Batch normalization over the channel axis."""

    type = "BatchNormalization"
    group = "Normalization"
    help = "Normalise each channel over the batch, then scale (gamma) and shift (beta)"
    params = (Param("momentum", "float", 0.99, "Momentum of the moving averages", min=0,
                    max=1),
              Param("epsilon", "float", 1e-3, "Added to the variance", min=0, max=1),
              Param("center", "bool", True, "Learn the shift beta"),
              Param("scale", "bool", True, "Learn the scale gamma"))

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        c = ins[0][-1]
        return Cost((int(p["center"]) + int(p["scale"])) * c, state=2 * c)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.BatchNormalization(momentum=p["momentum"], epsilon=p["epsilon"],
                                                center=p["center"], scale=p["scale"], name=name)
        return lambda xs: layer(xs[0])


class LocalResponseNormalization(Block):
    """AlexNet's local response normalization (NORM) across channels."""

    type = "LocalResponseNormalization"
    group = "Normalization"
    help = "AlexNet's NORM: divide by (k + alpha*sum of squares of nearby channels)^beta"
    params = (Param("depth_radius", "int", 2, "Neighbouring channels on each side (n=5 is 2)",
                    min=0, max=64),
              Param("bias", "float", 2.0, "k", min=0, max=100),
              Param("alpha", "float", 1e-4, "alpha", min=0, max=10),
              Param("beta", "float", 0.75, "beta", min=0, max=10))

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        return ins[0]

    def summary(self, p: P) -> str:
        return f"n={2 * p['depth_radius'] + 1}"

    def build(self, p: P, name: str, ctx):
        from cnnlab.layers import LocalResponseNormalization as LRN

        layer = LRN(p["depth_radius"], p["bias"], p["alpha"], p["beta"], name=name)
        return lambda xs: layer(xs[0])


class _TrainingNoise(Block):
    """A Keras layer of the same name, active in training only, seeded per block."""

    group = "Regularization"
    strength = "rate"  # the parameter passed to the Keras layer first

    def build(self, p: P, name: str, ctx):
        import keras

        cls = getattr(keras.layers, self.type)
        layer = cls(p[self.strength], seed=ctx.seed(name), name=name)
        return lambda xs: layer(xs[0])


class Dropout(_TrainingNoise):
    """Dropout."""

    type = "Dropout"
    help = "Zero a random fraction of units in training (inactive at inference)"
    params = (RATE,)

    def summary(self, p: P) -> str:
        return f"p={p['rate']:g}"


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps."""

    type = "SpatialDropout2D"
    help = "Drop whole channels (feature maps) in training"

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        return ins[0]


class GaussianNoise(_TrainingNoise):
    """Additive Gaussian noise in training."""

    type = "GaussianNoise"
    help = "Add N(0, sigma^2) noise in training (inactive at inference)"
    params = (Param("stddev", "float", 0.1, "sigma", min=0, max=100),)
    strength = "stddev"

    def summary(self, p: P) -> str:
        return f"sigma={p['stddev']:g}"


class GaussianDropout(Dropout):
    """Multiplicative Gaussian noise with mean 1."""

    type = "GaussianDropout"
    help = "Multiply by N(1, rate/(1-rate)) noise in training"

BLOCKS = (BatchNormalization(), LocalResponseNormalization(), Dropout(), SpatialDropout2D(),
          GaussianNoise(), GaussianDropout())
