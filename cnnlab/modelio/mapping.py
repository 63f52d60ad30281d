"""Keras layer configs -> catalogue blocks (type and parameters, Keras names).

Each mapper takes a layer's ``get_config()`` dict and returns the block type
and parameters, or raises :class:`Unmapped` when the catalogue cannot express
the layer exactly (the importer then keeps it as an ``Opaque`` block).
Regularizers and constraints the catalogue cannot express are dropped with a
note; initializers are never kept (weights come with the model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTIVATION_NAMES = {"silu": "swish"}
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear")


class Unmapped(Exception):
    """The layer has no exact block; the message says why."""


@dataclass
class Mapped:
    """A block type with its parameters, and notes about what was dropped."""

    type: str
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LayerContext:
    """What a mapper needs besides the config: input ranks, whether it is the model output."""

    in_ranks: tuple[int, ...]
    is_output: bool = False


def _need(ok: bool, reason: str) -> None:
    if not ok:
        raise Unmapped(reason)


def _compact(v: Any) -> Any:
    """``[3, 3]`` -> ``3``; other pairs stay lists."""
    if isinstance(v, (list, tuple)):
        v = [int(x) for x in v]
        return v[0] if len(v) == 2 and v[0] == v[1] else v
    return v


def _activation(name: Any) -> str:
    _need(isinstance(name, str), f"activation {name!r} is not a Keras built-in")
    return ACTIVATION_NAMES.get(name, name)


def _spatial(cfg: dict) -> None:
    _need(cfg.get("data_format") in (None, "channels_last"), "data_format is channels_first")


def _serialized(obj: Any) -> tuple[str, dict] | None:
    if obj is None:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("config"), dict):
        name = obj.get("registered_name") or obj.get("class_name")
        return str(name), obj["config"]
    return ("?", {})


def _kernel_reg(obj: Any, out: dict, notes: list[str], what: str) -> None:
    reg = _serialized(obj)
    if reg is None:
        return
    name, c = reg
    if name in ("L1L2", "L1", "L2"):
        l1, l2 = float(c.get("l1", 0.0)), float(c.get("l2", 0.0))
        out.update({k: v for k, v in (("kernel_l1", l1), ("kernel_l2", l2)) if v})
    else:
        notes.append(f"{what} regularizer {name} dropped")


def _bias_reg(obj: Any, out: dict, notes: list[str]) -> None:
    reg = _serialized(obj)
    if reg is None:
        return
    name, c = reg
    if name in ("L2", "L1L2") and not c.get("l1"):
        if c.get("l2"):
            out["bias_l2"] = float(c["l2"])
    else:
        notes.append(f"bias regularizer {name} dropped")


def _activity_reg(obj: Any, out: dict, notes: list[str]) -> None:
    reg = _serialized(obj)
    if reg is None:
        return
    name, c = reg
    if name == "L1" or (name == "L1L2" and not c.get("l2")):
        out["activity_l1"] = float(c.get("l1", 0.0)) or None
    elif name == "cnnlab>KLSparsity":
        out.update(sparsity_rho=float(c["rho"]), sparsity_beta=float(c["beta"]),
                   activity_l1=float(c.get("l1", 0.0)) or None)
    else:
        notes.append(f"activity regularizer {name} dropped")


def _constraint(obj: Any, axis: Any, out: dict, notes: list[str], what: str) -> None:
    con = _serialized(obj)
    if con is None:
        return
    name, c = con
    if name == "MaxNorm" and c.get("axis") == axis:
        out["max_norm"] = float(c["max_value"])
    else:
        notes.append(f"{what} constraint {name} dropped")


def _regularization(cfg: dict, kernel: str, conv: bool) -> tuple[dict, list[str]]:
    """The REG_PARAMS of a weighted layer, as the builder's ``weight_kwargs`` writes them."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    _kernel_reg(cfg.get(f"{kernel}_regularizer"), out, notes, kernel)
    _bias_reg(cfg.get("bias_regularizer"), out, notes)
    _activity_reg(cfg.get("activity_regularizer"), out, notes)
    _constraint(cfg.get(f"{kernel}_constraint"), [0, 1, 2] if conv else 0, out, notes, kernel)
    others = ["bias_constraint"]
    if kernel == "pointwise":
        others += ["depthwise_regularizer", "depthwise_constraint"]
    notes += [f"{o.replace('_', ' ')} dropped" for o in others if cfg.get(o) is not None]
    return out, notes


def _dense(cfg: dict, ctx: LayerContext) -> Mapped:
    _need(not cfg.get("lora_rank") and not cfg.get("quantization_config"),
          "LoRA or quantized Dense")
    act = _activation(cfg.get("activation", "linear"))
    kind = "Output" if ctx.is_output and act in OUTPUT_ACTIVATIONS else "Dense"
    regs, notes = _regularization(cfg, "kernel", conv=False)
    return Mapped(kind, {"units": cfg["units"], "activation": act,
                         "use_bias": cfg.get("use_bias", True), **regs}, notes)


def _conv_common(cfg: dict, kernel: str) -> tuple[dict, list[str]]:
    _spatial(cfg)
    _need(cfg.get("padding") in ("valid", "same"), f"padding {cfg.get('padding')!r}")
    _need(cfg.get("groups", 1) == 1, "grouped convolution")
    _need(not cfg.get("lora_rank"), "LoRA convolution")
    regs, notes = _regularization(cfg, kernel, conv=True)
    params = {"kernel_size": _compact(cfg["kernel_size"]), "strides": _compact(cfg["strides"]),
              "padding": cfg["padding"], "activation": _activation(cfg.get("activation")),
              "use_bias": cfg.get("use_bias", True), **regs}
    if "dilation_rate" in cfg:
        params["dilation_rate"] = _compact(cfg["dilation_rate"])
    return params, notes


def _conv2d(cfg: dict, ctx: LayerContext) -> Mapped:
    params, notes = _conv_common(cfg, "kernel")
    return Mapped("Conv2D", {"filters": cfg["filters"], **params}, notes)


def _depthwise(cfg: dict, ctx: LayerContext) -> Mapped:
    params, notes = _conv_common(cfg, "depthwise")
    return Mapped("DepthwiseConv2D", {"depth_multiplier": cfg.get("depth_multiplier", 1),
                                      **params}, notes)


def _separable(cfg: dict, ctx: LayerContext) -> Mapped:
    params, notes = _conv_common(cfg, "pointwise")
    return Mapped("SeparableConv2D", {"filters": cfg["filters"],
                                      "depth_multiplier": cfg.get("depth_multiplier", 1),
                                      **params}, notes)


def _transpose(cfg: dict, ctx: LayerContext) -> Mapped:
    _need(cfg.get("output_padding") is None, "output_padding")
    _need(_compact(cfg.get("dilation_rate", 1)) == 1, "dilated transposed convolution")
    params, notes = _conv_common(cfg, "kernel")
    params.pop("dilation_rate", None)
    return Mapped("Conv2DTranspose", {"filters": cfg["filters"], **params}, notes)


def _pool(kind: str) -> Callable[[dict, LayerContext], Mapped]:
    def mapper(cfg: dict, ctx: LayerContext) -> Mapped:
        _spatial(cfg)
        size, strides = _compact(cfg["pool_size"]), _compact(cfg.get("strides"))
        return Mapped(kind, {"pool_size": size, "strides": None if strides == size else strides,
                             "padding": cfg.get("padding", "valid")})
    return mapper


def _global_pool(kind: str) -> Callable[[dict, LayerContext], Mapped]:
    def mapper(cfg: dict, ctx: LayerContext) -> Mapped:
        _spatial(cfg)
        _need(not cfg.get("keepdims"), "keepdims=True")
        return Mapped(kind, {})
    return mapper


def _zero_padding(cfg: dict, ctx: LayerContext) -> Mapped:
    _spatial(cfg)
    (t, b), (left, r) = cfg["padding"]
    if t == b and left == r:
        return Mapped("ZeroPadding2D", {"padding": t if t == left else [t, left]})
    return Mapped("ZeroPadding2D", {"padding": [[t, b], [left, r]]})


def _channel_axis(axis: Any, ctx: LayerContext) -> None:
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    _need(len(axes) == 1 and axes[0] in (-1, ctx.in_ranks[0]), f"axis {axis!r} is not the "
          "channel axis")


def _batchnorm(cfg: dict, ctx: LayerContext) -> Mapped:
    _channel_axis(cfg.get("axis", -1), ctx)
    _need(not cfg.get("renorm") and not cfg.get("synchronized"), "batch renormalization")
    return Mapped("BatchNormalization", {k: cfg[k] for k in ("momentum", "epsilon", "center",
                                                             "scale")})


def _activation_layer(cfg: dict, ctx: LayerContext) -> Mapped:
    act = _activation(cfg["activation"])
    params: dict[str, Any] = {"activation": act}
    if act == "leaky_relu":
        params["negative_slope"] = 0.2  # keras.activations.leaky_relu's default
    return Mapped("Activation", params)


def _relu(cfg: dict, ctx: LayerContext) -> Mapped:
    top, slope = cfg.get("max_value"), cfg.get("negative_slope", 0.0)
    _need(cfg.get("threshold", 0.0) == 0.0, "ReLU threshold")
    if top is None and slope:
        return Mapped("Activation", {"activation": "leaky_relu", "negative_slope": slope})
    _need(not slope and top in (None, 6.0), f"ReLU with max_value={top}, slope={slope}")
    return Mapped("Activation", {"activation": "relu" if top is None else "relu6"})


def _prelu(cfg: dict, ctx: LayerContext) -> Mapped:
    want = [1, 2] if ctx.in_ranks[0] == 3 else None
    _need(cfg.get("shared_axes") == want, f"PReLU shared_axes {cfg.get('shared_axes')}")
    return Mapped("Activation", {"activation": "prelu"})


def _softmax(cfg: dict, ctx: LayerContext) -> Mapped:
    _channel_axis(cfg.get("axis", -1), ctx)
    return Mapped("Activation", {"activation": "softmax"})


def _dropout(kind: str) -> Callable[[dict, LayerContext], Mapped]:
    def mapper(cfg: dict, ctx: LayerContext) -> Mapped:
        _need(cfg.get("noise_shape") is None, "dropout noise_shape")
        return Mapped(kind, {"rate": cfg["rate"]})
    return mapper


def _concatenate(cfg: dict, ctx: LayerContext) -> Mapped:
    _need(cfg.get("axis", -1) in (-1, ctx.in_ranks[0]), "concatenation off the channel axis")
    return Mapped("Concatenate", {})


def _normalization(cfg: dict, ctx: LayerContext) -> Mapped:
    _channel_axis(cfg.get("axis", -1), ctx)
    for key in ("mean", "variance"):
        _need(cfg.get(key) is None or _numbers(cfg[key]), f"{key} is not per channel")
    return Mapped("Normalization", {"mean": cfg.get("mean"), "variance": cfg.get("variance"),
                                    "invert": cfg.get("invert", False)})


def _numbers(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)


def _rescaling(cfg: dict, ctx: LayerContext) -> Mapped:
    _need(_numbers(cfg["scale"]) and _numbers(cfg.get("offset", 0.0)), "array-valued scale")
    return Mapped("Rescaling", {"scale": cfg["scale"], "offset": cfg.get("offset", 0.0)})


def _simple(kind: str, *keys: str) -> Callable[[dict, LayerContext], Mapped]:
    def mapper(cfg: dict, ctx: LayerContext) -> Mapped:
        return Mapped(kind, {k: cfg[k] for k in keys})
    return mapper


def _maxout(cfg: dict, ctx: LayerContext) -> Mapped:
    regs, notes = _regularization(cfg, "kernel", conv=False)
    return Mapped("Maxout", {"units": cfg["units"], "pieces": cfg["pieces"], **regs}, notes)


MAPPERS: dict[str, Callable[[dict, LayerContext], Mapped]] = {
    "Dense": _dense, "Conv2D": _conv2d, "DepthwiseConv2D": _depthwise,
    "SeparableConv2D": _separable, "Conv2DTranspose": _transpose,
    "MaxPooling2D": _pool("MaxPooling2D"), "AveragePooling2D": _pool("AveragePooling2D"),
    "GlobalAveragePooling2D": _global_pool("GlobalAveragePooling2D"),
    "GlobalMaxPooling2D": _global_pool("GlobalMaxPooling2D"),
    "ZeroPadding2D": _zero_padding, "Flatten": _simple("Flatten"),
    "Reshape": _simple("Reshape", "target_shape"), "BatchNormalization": _batchnorm,
    "Activation": _activation_layer, "ReLU": _relu, "PReLU": _prelu,
    "Softmax": _softmax,
    "LeakyReLU": _simple("Activation", "negative_slope"), "ELU": _simple("Activation", "alpha"),
    "Dropout": _dropout("Dropout"), "SpatialDropout2D": _dropout("SpatialDropout2D"),
    "GaussianDropout": _simple("GaussianDropout", "rate"),
    "GaussianNoise": _simple("GaussianNoise", "stddev"), "Add": _simple("Add"),
    "Multiply": _simple("Multiply"), "Concatenate": _concatenate,
    "Rescaling": _rescaling, "Normalization": _normalization,
    "cnnlab>Maxout": _maxout,
    "cnnlab>LocalResponseNormalization": _simple("LocalResponseNormalization", "depth_radius",
                                                 "bias", "alpha", "beta"),
}
ACTIVATION_LAYERS = {"LeakyReLU": "leaky_relu", "ELU": "elu"}


def map_layer(key: str, cfg: dict, ctx: LayerContext) -> Mapped:
    """Map one Keras layer config; ``key`` is its class name (``cnnlab>Maxout`` for lab layers).

    Raises:
        Unmapped: When the catalogue has no exact block for it.
    """
    mapper = MAPPERS.get(key)
    if mapper is None:
        raise Unmapped(f"Keras {key} is not in the catalogue")
    try:
        mapped = mapper(cfg, ctx)
    except (KeyError, TypeError, ValueError) as exc:
        raise Unmapped(f"unexpected {key} config ({exc.__class__.__name__}: {exc})") from None
    if key in ACTIVATION_LAYERS:
        mapped.params["activation"] = ACTIVATION_LAYERS[key]
    return mapped
