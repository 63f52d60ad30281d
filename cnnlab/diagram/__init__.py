"""The network diagram without Qt: what the canvas shows, where, and what each item says.

Modules:
    visible: the graph as shown (collapsed modules as one item, expanded insides).
    layout: automatic top-down layout, layered by longest path.
    arrange: layout edits on an experiment (arrange all, fill in, fold modules).
    item_text: an item's title, key parameters, output shape, state and tooltip.
"""
