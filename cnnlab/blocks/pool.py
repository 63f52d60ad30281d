"""Pooling and padding blocks."""

from __future__ import annotations

from collections.abc import Sequence

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


class ZeroPadding2D(Block):
    """Zero padding around the image."""

    type = "ZeroPadding2D"
    group = "Reshape"
    help = "Add P rows and columns of zeros on each side"
    params = (Param("padding", "int_or_pair", 1, "P (or [ph, pw])", min=0, max=512),)

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        ph, pw = pair(p["padding"])
        return (ins[0][0] + 2 * ph, ins[0][1] + 2 * pw, ins[0][2])

    def summary(self, p: P) -> str:
        return f"P={pair(p['padding'])[0]}"

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.ZeroPadding2D(pair(p["padding"]), name=name)
        return lambda xs: layer(xs[0])


BLOCKS = (MaxPooling2D(), AveragePooling2D(), GlobalAveragePooling2D(), GlobalMaxPooling2D(),
          ZeroPadding2D())
