"""The block catalogue: every block type by name, grouped for the palette."""

from __future__ import annotations

from cnnlab.blocks import activation, conv, dense, extra, merge, norm, pool
from cnnlab.blocks.base import Block
from cnnlab.errors import SpecError

BLOCKS: dict[str, Block] = {
    b.type: b
    for module in (dense, conv, pool, activation, norm, merge, extra)
    for b in module.BLOCKS
}

GROUPS = ("Input/Output", "Convolution", "Pooling", "Activation", "Normalization",
          "Regularization", "Merge", "Reshape", "Core")


def get_block(type_name: str) -> Block:
    """The block type called ``type_name``.

    Raises:
        SpecError: For an unknown type.

    """
    try:
        return BLOCKS[type_name]
    except KeyError:
        raise SpecError("", f"unknown block type {type_name!r}") from None


def blocks_by_group() -> dict[str, list[Block]]:
    """The catalogue grouped for the palette, in palette order."""
    out: dict[str, list[Block]] = {g: [] for g in GROUPS}
    for block in BLOCKS.values():
        out.setdefault(block.group, []).append(block)
    return out
