"""Blocks Keras applications and imported models need: Multiply, Rescaling, Normalization, Opaque.

``Opaque`` keeps a Keras layer the catalogue does not know: its serialized
config, the shapes it was recorded with and its parameter count. It is frozen
(its weights never train) and analysed from what was recorded, so imported
models and pretrained bases stay whole even where the lab cannot edit them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlab.blocks.base import GLOBAL, MAX_DIM, Block, BlockProblem, Cost, P, Shape, fmt_shape
from cnnlab.errors import SpecError
from cnnlab.params import Param


class Multiply(Block):
    """Element-wise product of its inputs (squeeze-and-excitation gates)."""

    type = "Multiply"
    group = "Merge"
    help = "Product of its inputs; sizes of 1 broadcast (an SE gate 1x1xC times a map HxWxC)"
    min_inputs = 2
    max_inputs = 64

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        out = ins[0]
        for other in ins[1:]:
            out = _broadcast(out, other)
        return out

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Multiply(name=name)
        return lambda xs: layer(list(xs))


def _broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy-style broadcast of two shapes of equal rank, or BlockProblem."""
    if len(a) != len(b):
        raise BlockProblem(f"its inputs {fmt_shape(a)} and {fmt_shape(b)} have different "
                           "ranks; Multiply needs equal ranks")
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise BlockProblem(f"its inputs {fmt_shape(a)} and {fmt_shape(b)} do not match; "
                               "each size must be equal or 1")
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(out)


def _numbers(value: Any) -> list[float] | None:
    """``value`` as a list of numbers (a scalar gives one), or None when it is not."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            for v in items):
        return None
    return [float(v) for v in items]


def _check_per_channel(name: str, value: Any, shape: Shape) -> None:
    nums = _numbers(value)
    if nums is None:
        raise BlockProblem(f"{name} must be a number or a list of numbers (got {value!r})")
    if isinstance(value, list) and len(nums) not in (1, shape[-1]):
        raise BlockProblem(f"{name} has {len(nums)} values but the input has "
                           f"{shape[-1]} channels")


class Rescaling(Block):
    """``x * scale + offset`` (scalar or per channel)."""

    type = "Rescaling"
    group = "Core"
    help = "Multiply by scale and add offset (per channel with lists), e.g. 1/255"
    params = (Param("scale", "json", 1.0, "Factor: a number or one per channel"),
              Param("offset", "json", 0.0, "Added after scaling: a number or one per channel"))

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        _check_per_channel("scale", p["scale"], ins[0])
        _check_per_channel("offset", p["offset"], ins[0])
        return ins[0]

    def summary(self, p: P) -> str:
        s = p["scale"]
        return f"x{s:.4g}" if isinstance(s, (int, float)) else "x[...]"

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Rescaling(p["scale"], p["offset"], name=name)
        return lambda xs: layer(xs[0])


class Normalization(Block):
    """Feature-wise standardisation ``(x - mean) / sqrt(variance)`` over the last axis."""

    type = "Normalization"
    group = "Normalization"
    help = ("Subtract a per-channel mean and divide by the standard deviation; without "
            "mean/variance they are stored weights (adapted or loaded)")
    params = (Param("mean", "json", None, "Per-channel means (empty: stored weights)",
                    optional=True),
              Param("variance", "json", None, "Per-channel variances (empty: stored weights)",
                    optional=True),
              Param("invert", "bool", False, "Undo the normalization instead"))

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        if (p["mean"] is None) != (p["variance"] is None):
            raise BlockProblem("give both mean and variance, or neither")
        for key in ("mean", "variance"):
            if p[key] is not None:
                _check_per_channel(key, p[key], ins[0])
        return ins[0]

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        # Stored statistics: mean and variance per channel plus Keras's sample count.
        return Cost(0, 2 * ins[0][-1] + 1) if p["mean"] is None else Cost()

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Normalization(axis=-1, mean=p["mean"], variance=p["variance"],
                                           invert=p["invert"], name=name)
        return lambda xs: layer(xs[0])


class _ShapesParam(Param):
    """A list of shapes, each a non-empty list of sizes from 1 to ``max``."""

    def validate(self, value: Any, path: str) -> list[list[int]]:
        """Return the shapes as lists of ints, or raise SpecError naming the bad entry."""
        if not isinstance(value, list) or len(value) > 64:
            raise SpecError(path, f"{self.name} must be a list of at most 64 shapes "
                            "(lists of sizes)")
        shape = Param(self.name, "int_list", [1], self.help, min=1, max=self.max)
        return [shape.validate(v, f"{path}[{i}]") for i, v in enumerate(value)]


class Opaque(Block):
    """A Keras layer the catalogue does not know, kept whole and frozen."""

    type = "Opaque"
    group = "Core"
    help = ("A Keras layer the lab cannot edit (from an imported model or a pretrained "
            "base), kept with its config and weights; frozen")
    params = (Param("layer", "json", {}, "The Keras layer's serialized config"),
              _ShapesParam("input_shapes", "json", [], "Input shapes it was recorded with",
                           max=MAX_DIM),
              Param("output_shape", "int_list", [1], "Output shape it was recorded with",
                    min=1, max=MAX_DIM),
              Param("params", "int", 0, "Its number of parameters (all frozen)", min=0,
                    max=10**12))
    max_inputs = 64

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        from cnnlab.errors import ModelFileError
        from cnnlab.modelio.safety import check_layer_config

        try:
            check_layer_config(p["layer"])
        except ModelFileError as exc:
            raise BlockProblem(str(exc)) from None
        recorded = [tuple(s) for s in p["input_shapes"]] if p["input_shapes"] else None
        if recorded is not None and recorded != [tuple(s) for s in ins]:
            got = ", ".join(fmt_shape(s) for s in ins)
            want = ", ".join(fmt_shape(s) for s in recorded)
            raise BlockProblem(f"this {self.summary(p)} layer was recorded for input {want} "
                               f"but gets {got}; it cannot be changed, so keep its input")
        return tuple(p["output_shape"])

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, p["params"])

    def window(self, p: P) -> str:
        return GLOBAL

    def summary(self, p: P) -> str:
        layer = p["layer"]
        return str(layer.get("class_name", "?")) if isinstance(layer, dict) else "?"

    def build(self, p: P, name: str, ctx):
        import keras

        import cnnlab.layers  # noqa: F401  (registers the lab's serializables)

        config = dict(p["layer"])
        config["config"] = {**config.get("config", {}), "name": name}
        layer = keras.saving.deserialize_keras_object(config, safe_mode=True)
        layer.trainable = False
        return lambda xs: layer(xs[0] if len(xs) == 1 else list(xs))


BLOCKS = (Multiply(), Rescaling(), Normalization(), Opaque())
