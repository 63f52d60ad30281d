"""The network diagram without Qt: what the canvas shows, where, and what each item says.

Modules:
    visible: the graph as shown (collapsed modules as one item, expanded insides).
    layout: automatic top-down layout, layered by longest path.
    arrange: layout edits on an experiment (arrange all, fill in, fold modules).
    item_text: an item's title, key parameters, output shape, state and tooltip.
"""

from cnnlab.lazy import lazy_exports

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "BLOCK_H": "cnnlab.diagram.layout:BLOCK_H",
    "BLOCK_W": "cnnlab.diagram.layout:BLOCK_W",
    "FRAME_BOTTOM": "cnnlab.diagram.layout:FRAME_BOTTOM",
    "FRAME_SIDE": "cnnlab.diagram.layout:FRAME_SIDE",
    "FRAME_TOP": "cnnlab.diagram.layout:FRAME_TOP",
    "GRID_STEP": "cnnlab.diagram.layout:GRID_STEP",
    "Look": "cnnlab.diagram.item_text:Look",
    "NO_MARKS": "cnnlab.diagram.item_text:NO_MARKS",
    "ROW": "cnnlab.diagram.layout:ROW",
    "VisibleEdge": "cnnlab.diagram.visible:VisibleEdge",
    "VisibleGraph": "cnnlab.diagram.visible:VisibleGraph",
    "VisibleNode": "cnnlab.diagram.visible:VisibleNode",
    "auto_layout": "cnnlab.diagram.arrange:auto_layout",
    "block_marks": "cnnlab.diagram.item_text:block_marks",
    "ensure_positions": "cnnlab.diagram.arrange:ensure_positions",
    "free_offset": "cnnlab.diagram.arrange:free_offset",
    "look": "cnnlab.diagram.item_text:look",
    "occupied": "cnnlab.diagram.arrange:occupied",
    "problems_by_item": "cnnlab.diagram.item_text:problems_by_item",
    "set_folded": "cnnlab.diagram.arrange:set_folded",
    "visible_graph": "cnnlab.diagram.visible:visible_graph",
}

__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
