"""The canvas: a QGraphicsScene of blocks, module frames and arrows (layout in cnnlab.diagram).

Modules:
    scene, view: the scene synced from the experiment, and its zoomable view.
    block_item, group_item, edge_item, ports: blocks, module frames, arrows, ports.
    style: colours and fonts.
"""
