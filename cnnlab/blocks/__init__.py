"""The layer-block catalogue: parameters, Keras constructors and analytic costs."""

from cnnlab.blocks.base import REG_PARAM_NAMES, Block, BlockProblem, Cost
from cnnlab.blocks.registry import BLOCKS, GROUPS, blocks_by_group, get_block

__all__ = ["BLOCKS", "GROUPS", "REG_PARAM_NAMES", "Block", "BlockProblem", "Cost",
           "blocks_by_group", "get_block"]
