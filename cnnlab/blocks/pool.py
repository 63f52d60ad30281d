"""Pooling and padding blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlab.blocks.base import (
    GLOBAL,
    Block,
    BlockProblem,
    P,
    Shape,
    Window,
    conv_length,
    fmt_pair,
    need_image,
    pair,
)
from cnnlab.params import Param


class _Pool(Block):
    group = "Pooling"
    keras_name = ""
    params = (
        Param("pool_size", "int_or_pair", 2, "Window size F", min=1, max=512),
        Param("strides", "int_or_pair", None, "Stride S (empty: the window size)", min=1,
              max=512, optional=True),
        Param("padding", "choice", "valid", "valid or same", choices=("valid", "same")),
    )

    def _strides(self, p: P) -> tuple[int, int]:
        return pair(p["strides"] if p["strides"] is not None else p["pool_size"])

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        shape = ins[0]
        need_image(self.type, shape)
        (kh, kw), (sh, sw) = pair(p["pool_size"]), self._strides(p)
        h = conv_length(shape[0], kh, sh, p["padding"], 0)
        w = conv_length(shape[1], kw, sw, p["padding"], 1)
        if h <= 0 or w <= 0:
            raise BlockProblem(f"a {kh}x{kw} pooling window does not fit the "
                               f"{shape[0]}x{shape[1]} input; use a smaller window")
        return (h, w, shape[2])

    def window(self, p: P) -> Window:
        return Window(pair(p["pool_size"]), self._strides(p))

    def summary(self, p: P) -> str:
        s = self._strides(p)[0]
        return f"{fmt_pair(p['pool_size'])}/{s}"

    def build(self, p: P, name: str, ctx):
        import keras

        layer = getattr(keras.layers, self.keras_name)(
            pair(p["pool_size"]), strides=self._strides(p), padding=p["padding"], name=name)
        return lambda xs: layer(xs[0])


class MaxPooling2D(_Pool):
    """Max pooling."""

    type = "MaxPooling2D"
    keras_name = "MaxPooling2D"
    help = "Max pooling: keeps the largest value of each FxF window"


class AveragePooling2D(_Pool):
    """Average pooling."""

    type = "AveragePooling2D"
    keras_name = "AveragePooling2D"
    help = "Average pooling: the mean of each FxF window"


class _GlobalPool(Block):
    group = "Pooling"
    keras_name = ""

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        return (ins[0][2],)

    def window(self, p: P) -> str:
        return GLOBAL

    def build(self, p: P, name: str, ctx):
        import keras

        layer = getattr(keras.layers, self.keras_name)(name=name)
        return lambda xs: layer(xs[0])


class GlobalAveragePooling2D(_GlobalPool):
    """Global average pooling."""

    type = "GlobalAveragePooling2D"
    keras_name = "GlobalAveragePooling2D"
    help = "Mean of each channel over the whole map (HxWxC -> C)"


class GlobalMaxPooling2D(_GlobalPool):
    """Global max pooling."""

    type = "GlobalMaxPooling2D"
    keras_name = "GlobalMaxPooling2D"
    help = "Max of each channel over the whole map (HxWxC -> C)"


class _PaddingParam(Param):
    """``P``, ``[ph, pw]`` or Keras's asymmetric ``[[top, bottom], [left, right]]``."""

    def validate(self, value: Any, path: str) -> Any:
        """Accept a pair of pairs as well as the plain int-or-pair forms."""
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(
                isinstance(v, (list, tuple)) for v in value):
            pair_param = Param(self.name, "int_or_pair", 0, self.help, min=self.min,
                               max=self.max)
            return [list(pair(pair_param.validate(v, f"{path}[{i}]")))
                    for i, v in enumerate(value)]
        return super().validate(value, path)


def pad_sides(padding) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of a ZeroPadding2D ``padding`` value."""
    if isinstance(padding, (list, tuple)) and isinstance(padding[0], (list, tuple)):
        (t, b), (left, r) = pair(padding[0]), pair(padding[1])
        return t, b, left, r
    ph, pw = pair(padding)
    return ph, ph, pw, pw


class ZeroPadding2D(Block):
    """Zero padding around the image."""

    type = "ZeroPadding2D"
    group = "Reshape"
    help = "Add P rows and columns of zeros on each side ([[top, bottom], [left, right]] too)"
    params = (_PaddingParam("padding", "int_or_pair", 1, "P, [ph, pw] or [[top, bottom], "
                            "[left, right]]", min=0, max=512),)

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        t, b, left, r = pad_sides(p["padding"])
        return (ins[0][0] + t + b, ins[0][1] + left + r, ins[0][2])

    def summary(self, p: P) -> str:
        t, b, left, r = pad_sides(p["padding"])
        return f"P={t}" if t == b == left == r else f"P={t},{b},{left},{r}"

    def build(self, p: P, name: str, ctx):
        import keras

        t, b, left, r = pad_sides(p["padding"])
        layer = keras.layers.ZeroPadding2D(((t, b), (left, r)), name=name)
        return lambda xs: layer(xs[0])


BLOCKS = (MaxPooling2D(), AveragePooling2D(), GlobalAveragePooling2D(), GlobalMaxPooling2D(),
          ZeroPadding2D())
