"""Readable, unique ids for new blocks: ``conv4``, ``pool3``, ``add2``."""

from __future__ import annotations

import re
from collections.abc import Iterable

PREFIXES = {
    "Input": "input", "Output": "output", "Dense": "fc", "Flatten": "flatten",
    "Reshape": "reshape", "ZeroPadding2D": "pad", "Conv2D": "conv",
    "DepthwiseConv2D": "dwconv", "SeparableConv2D": "sepconv", "Conv2DTranspose": "deconv",
    "MaxPooling2D": "pool", "AveragePooling2D": "avgpool", "GlobalAveragePooling2D": "gap",
    "GlobalMaxPooling2D": "gmp", "Activation": "act", "Maxout": "maxout",
    "BatchNormalization": "bn", "LocalResponseNormalization": "lrn", "Dropout": "drop",
    "SpatialDropout2D": "sdrop", "GaussianNoise": "noise", "GaussianDropout": "gdrop",
    "Add": "add", "Concatenate": "concat",
}


def prefix_for(type_name: str) -> str:
    """The id stem of a block or module type (``Conv2D`` -> ``conv``)."""
    if type_name in PREFIXES:
        return PREFIXES[type_name]
    stem = re.sub(r"[^A-Za-z0-9]+", "_", type_name).strip("_").lower()
    return stem if stem[:1].isalpha() else f"m{stem}"


def new_id(type_name: str, taken: Iterable[str]) -> str:
    """The next free id for a block of ``type_name``: one more than the highest in use.

    Args:
        type_name: Block type or module name.
        taken: Every id already in use (top-level and expanded).
    """
    return next_ids(type_name, taken, 1)[0]


def next_ids(type_name: str, taken: Iterable[str], count: int) -> list[str]:
    """``count`` fresh ids for blocks of ``type_name``."""
    stem = prefix_for(type_name)
    taken = set(taken)
    pattern = re.compile(rf"^{re.escape(stem)}(\d+)$")
    numbers = [int(m.group(1)) for t in taken if (m := pattern.match(t))]
    start = max(numbers, default=0) + 1
    out = []
    n = start
    while len(out) < count:
        candidate = f"{stem}{n}"
        if candidate not in taken:
            out.append(candidate)
        n += 1
    return out
