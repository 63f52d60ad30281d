"""The layer-block catalogue: parameters, Keras constructors and analytic costs.

Modules:
    registry: the catalogue, every block type by name, grouped for the palette.
    base: the block protocol (parameters, shapes, analytic cost, Keras constructor).
    conv, pool, dense, activation, norm, merge, extra: the block types by family.
"""

from cnnlab.blocks.base import REG_PARAM_NAMES, Block, BlockProblem, Cost
from cnnlab.blocks.registry import BLOCKS, GROUPS, blocks_by_group, get_block

__all__ = ["BLOCKS", "GROUPS", "REG_PARAM_NAMES", "Block", "BlockProblem", "Cost",
           "blocks_by_group", "get_block"]
