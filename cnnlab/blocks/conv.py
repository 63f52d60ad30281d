"""Convolution blocks: Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.blocks.base import (
    ACTIVATIONS,
    REG_PARAMS,
    Block,
    BlockProblem,
    Cost,
    P,
    Shape,
    Window,
    conv_length,
    effective_kernel,
    fmt_pair,
    need_image,
    pair,
)
from cnnlab.params import Param

KERNEL = Param("kernel_size", "int_or_pair", 3, "Kernel size F (or [h, w])", min=1, max=512)
STRIDES = Param("strides", "int_or_pair", 1, "Stride S", min=1, max=512)
PADDING = Param("padding", "padding", "valid", "valid (no padding), same (keep size when "
                "S=1), or an explicit P", min=0, max=512)
DILATION = Param("dilation_rate", "int_or_pair", 1, "Dilation (atrous) rate", min=1, max=64)
ACTIVATION = Param("activation", "choice", "linear", "Activation applied to the output",
                   choices=ACTIVATIONS)
USE_BIAS = Param("use_bias", "bool", True, "Add a bias per filter")
FILTERS = Param("filters", "int", 32, "Number of filters D", min=1, max=65536)
MULTIPLIER = Param("depth_multiplier", "int", 1, "Filters per input channel", min=1, max=64)


class _Spatial(Block):
    """Shared shape logic of windowed blocks (kernel, stride, padding, dilation)."""

    group = "Convolution"
    weighted = True

    def _out_hw(self, p: P, shape: Shape) -> tuple[int, int]:
        need_image(self.type, shape)
        (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["strides"])
        (dh, dw) = pair(p.get("dilation_rate", 1))
        if (dh > 1 or dw > 1) and (sh > 1 or sw > 1):
            raise BlockProblem("a dilated convolution must use stride 1 (Keras does not "
                               "support both)")
        eh, ew = effective_kernel(kh, dh), effective_kernel(kw, dw)
        h = conv_length(shape[0], eh, sh, p["padding"], 0)
        w = conv_length(shape[1], ew, sw, p["padding"], 1)
        if h <= 0 or w <= 0:
            ph, pw = (0, 0) if isinstance(p["padding"], str) else pair(p["padding"])
            raise BlockProblem(
                f"a {eh}x{ew} kernel does not fit the {shape[0] + 2 * ph}x{shape[1] + 2 * pw} "
                "input; pad it or use a smaller kernel")
        return h, w

    def window(self, p: P) -> Window:
        (kh, kw), (dh, dw) = pair(p["kernel_size"]), pair(p.get("dilation_rate", 1))
        return Window((effective_kernel(kh, dh), effective_kernel(kw, dw)), pair(p["strides"]))

    def summary(self, p: P) -> str:
        s = pair(p["strides"])[0]
        act = "" if p.get("activation", "linear") == "linear" else f" {p['activation']}"
        head = f"{p['filters']} " if "filters" in p else ""
        return f"{head}{fmt_pair(p['kernel_size'])}" + (f"/{s}" if s > 1 else "") + act

    def _padded(self, p: P, name: str, layer):
        """Wrap ``layer`` with a ZeroPadding2D when padding is an explicit P."""
        import keras

        if isinstance(p["padding"], str):
            return lambda xs: layer(xs[0])
        pad = keras.layers.ZeroPadding2D(pair(p["padding"]), name=f"{name}_pad")
        return lambda xs: layer(pad(xs[0]))

    def _keras_padding(self, p: P) -> str:
        return p["padding"] if isinstance(p["padding"], str) else "valid"


class Conv2D(_Spatial):
    """A 2D convolution."""

    type = "Conv2D"
    help = "2D convolution: D filters of FxF over all input channels"
    params = (FILTERS, KERNEL, STRIDES, PADDING, DILATION, ACTIVATION, USE_BIAS) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        h, w = self._out_hw(p, ins[0])
        return (h, w, p["filters"])

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        kh, kw = pair(p["kernel_size"])
        c, d = ins[0][2], p["filters"]
        weights = kh * kw * c * d + (d if p["use_bias"] else 0)
        return Cost(weights, 0, out[0] * out[1] * d * kh * kw * c)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Conv2D(
            p["filters"], pair(p["kernel_size"]), strides=pair(p["strides"]),
            padding=self._keras_padding(p), dilation_rate=pair(p["dilation_rate"]),
            activation=ctx.activation(p), use_bias=p["use_bias"], name=name,
            **ctx.weight_kwargs(p))
        return ctx.finish(p, name, self._padded(p, name, layer))


class DepthwiseConv2D(_Spatial):
    """A depthwise convolution: one FxF filter per input channel."""

    type = "DepthwiseConv2D"
    help = "Depthwise convolution: each channel filtered on its own"
    params = (KERNEL, STRIDES, PADDING, MULTIPLIER, DILATION, ACTIVATION, USE_BIAS) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        h, w = self._out_hw(p, ins[0])
        return (h, w, ins[0][2] * p["depth_multiplier"])

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        kh, kw = pair(p["kernel_size"])
        d = ins[0][2] * p["depth_multiplier"]
        return Cost(kh * kw * d + (d if p["use_bias"] else 0), 0, out[0] * out[1] * d * kh * kw)

    def build(self, p: P, name: str, ctx):
        import keras

        kw = ctx.weight_kwargs(p, kernel="depthwise")
        layer = keras.layers.DepthwiseConv2D(
            pair(p["kernel_size"]), strides=pair(p["strides"]), padding=self._keras_padding(p),
            depth_multiplier=p["depth_multiplier"], dilation_rate=pair(p["dilation_rate"]),
            activation=ctx.activation(p), use_bias=p["use_bias"], name=name, **kw)
        return ctx.finish(p, name, self._padded(p, name, layer))


class SeparableConv2D(_Spatial):
    """Depthwise then pointwise (1x1) convolution."""

    type = "SeparableConv2D"
    help = "Separable convolution: depthwise FxF, then 1x1 to D filters"
    params = (FILTERS, KERNEL, STRIDES, PADDING, MULTIPLIER, DILATION, ACTIVATION,
              USE_BIAS) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        h, w = self._out_hw(p, ins[0])
        return (h, w, p["filters"])

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        kh, kw = pair(p["kernel_size"])
        mid = ins[0][2] * p["depth_multiplier"]
        d = p["filters"]
        weights = kh * kw * mid + mid * d + (d if p["use_bias"] else 0)
        return Cost(weights, 0, out[0] * out[1] * (mid * kh * kw + mid * d))

    def build(self, p: P, name: str, ctx):
        import keras

        kw = ctx.weight_kwargs(p, kernel="pointwise")
        layer = keras.layers.SeparableConv2D(
            p["filters"], pair(p["kernel_size"]), strides=pair(p["strides"]),
            padding=self._keras_padding(p), depth_multiplier=p["depth_multiplier"],
            dilation_rate=pair(p["dilation_rate"]), activation=ctx.activation(p),
            use_bias=p["use_bias"], name=name, **kw)
        return ctx.finish(p, name, self._padded(p, name, layer))


class Conv2DTranspose(_Spatial):
    """A transposed ("de-") convolution that upsamples."""

    type = "Conv2DTranspose"
    help = "Transposed convolution: upsamples by the stride"
    params = (FILTERS, KERNEL, STRIDES,
              Param("padding", "choice", "valid", "valid or same", choices=("valid", "same")),
              ACTIVATION, USE_BIAS) + REG_PARAMS

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        need_image(self.type, ins[0])
        (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["strides"])
        if p["padding"] == "same":
            return (ins[0][0] * sh, ins[0][1] * sw, p["filters"])
        return (ins[0][0] * sh + max(kh - sh, 0), ins[0][1] * sw + max(kw - sw, 0),
                p["filters"])

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        kh, kw = pair(p["kernel_size"])
        c, d = ins[0][2], p["filters"]
        weights = kh * kw * c * d + (d if p["use_bias"] else 0)
        return Cost(weights, 0, ins[0][0] * ins[0][1] * c * kh * kw * d)

    def window(self, p: P) -> Window:
        return Window(pair(p["kernel_size"]), pair(p["strides"]), upsample=True)

    def build(self, p: P, name: str, ctx):
        import keras

        layer = keras.layers.Conv2DTranspose(
            p["filters"], pair(p["kernel_size"]), strides=pair(p["strides"]),
            padding=p["padding"], activation=ctx.activation(p), use_bias=p["use_bias"],
            name=name, **ctx.weight_kwargs(p))
        return ctx.finish(p, name, lambda xs: layer(xs[0]))


BLOCKS = (Conv2D(), DepthwiseConv2D(), SeparableConv2D(), Conv2DTranspose())
