"""The block protocol: parameters, shape inference, analytic cost, Keras constructor.

Shapes are tuples without the batch axis, ``(H, W, C)`` for images and ``(N,)``
for vectors. Shape inference raises :class:`BlockProblem` with a sentence a
student understands; the analysis adds the block id in front.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnnlab.params import MAX_PENALTY, Param

Shape = tuple[int, ...]
P = Mapping[str, Any]

ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh",
               "softplus", "softmax", "swish")
MAX_DIM = 2**31 - 1  # the largest size of one axis (TensorFlow's int32 shapes)
REG_PARAMS = (
    Param("kernel_l1", "float", None, "L1 penalty on the kernel (empty: experiment default)",
          min=0, max=MAX_PENALTY, optional=True),
    Param("kernel_l2", "float", None, "L2 penalty on the kernel (empty: experiment default)",
          min=0, max=MAX_PENALTY, optional=True),
    Param("bias_l2", "float", None, "L2 penalty on the bias (empty: experiment default)",
          min=0, max=MAX_PENALTY, optional=True),
    Param("max_norm", "float", None, "Max-norm radius c of each kernel column (lectures: "
          "2 to 3)", min=0, max=MAX_PENALTY, optional=True),
    Param("activity_l1", "float", None, "L1 penalty on the outputs", min=0, max=MAX_PENALTY,
          optional=True),
    Param("sparsity_rho", "float", None, "KL sparsity target mean activation", min=1e-6,
          max=1 - 1e-6, optional=True),
    Param("sparsity_beta", "float", None, "KL sparsity weight", min=0, max=MAX_PENALTY,
          optional=True),
)
REG_PARAM_NAMES = frozenset(p.name for p in REG_PARAMS)
GLOBAL = "global"


class BlockProblem(Exception):
    """A block cannot take the shapes it is given; the message says why."""


@dataclass(frozen=True)
class Cost:
    """Analytic cost of one block.

    Attributes:
        trainable: Learned parameters that train.
        non_trainable: Learned parameters that stay fixed (an imported frozen layer).
        macs: Multiply-adds for one image.
        state: Statistics that are not parameters (batch-norm moving mean and
            variance); Keras's ``count_params`` counts them too.
    """

    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    state: int = 0


@dataclass(frozen=True)
class Window:
    """How a block grows the receptive field: effective kernel and stride per axis."""

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    upsample: bool = False


class Block:
    """A block type of the catalogue. Subclasses override what differs."""

    type: str = ""
    group: str = ""
    help: str = ""
    params: tuple[Param, ...] = ()
    min_inputs: int = 1
    max_inputs: int = 1
    weighted: bool = False  # has a kernel, so regularization applies

    def output_shape(self, p: P, ins: Sequence[Shape]) -> Shape:
        """The output shape; raises BlockProblem when the inputs do not fit."""
        return ins[0]

    def cost(self, p: P, ins: Sequence[Shape], out: Shape) -> Cost:
        """Parameters and multiply-adds."""
        return Cost()

    def window(self, p: P) -> Window | str:
        """The receptive-field window, or ``GLOBAL`` for blocks that see everything."""
        return Window()

    def summary(self, p: P) -> str:
        """Key parameters in a few characters, for the canvas (``64 3x3/2``)."""
        return ""

    def build(self, p: P, name: str, ctx: Any) -> Callable[[list[Any]], Any]:
        """Return a function from input tensors to the block's output tensor."""
        raise NotImplementedError


def pair(v: int | Sequence[int]) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``[3, 5]`` -> ``(3, 5)``."""
    if isinstance(v, int):
        return (v, v)
    return (int(v[0]), int(v[1]))


def fmt_pair(v: int | Sequence[int]) -> str:
    """``(3, 3)`` -> ``3x3``."""
    a, b = pair(v)
    return f"{a}x{b}"


def fmt_shape(shape: Shape) -> str:
    """``(32, 32, 3)`` -> ``32x32x3``."""
    return "x".join(str(s) for s in shape)


def effective_kernel(k: int, d: int) -> int:
    """The extent of a dilated kernel: ``d*(k-1)+1``."""
    return d * (k - 1) + 1


def conv_length(n: int, k: int, s: int, padding: Any, axis: int = 0) -> int:
    """Output length: ``floor((n - k + 2P) / s) + 1``; ``same`` gives ``ceil(n / s)``."""
    if padding == "same":
        return math.ceil(n / s)
    pad = 0 if padding == "valid" else pair(padding)[axis]
    return (n - k + 2 * pad) // s + 1


def need_image(block: str, shape: Shape) -> None:
    """Raise unless ``shape`` is an image (H, W, C)."""
    if len(shape) != 3:
        raise BlockProblem(f"{block} needs an image input HxWxC, but gets {fmt_shape(shape)}; "
                           "it cannot follow Flatten or Dense")


def prod(shape: Sequence[int]) -> int:
    """Product of the dimensions."""
    out = 1
    for s in shape:
        out *= s
    return out
