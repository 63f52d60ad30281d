"""Where pasted and duplicated blocks go: the first free spot beside the originals."""

from __future__ import annotations

from cnnlab import default_experiment
from cnnlab.diagram.arrange import free_offset, occupied
from cnnlab.diagram.layout import BLOCK_H, BLOCK_W, GRID_STEP, H_GAP, ROW
from cnnlab.spec.edit import positions, with_ui


def _rect(x, y):
    return (x, y, x + BLOCK_W, y + BLOCK_H)


def _clear(a, b) -> bool:
    """Two rectangles at least a grid step apart."""
    return (a[2] + GRID_STEP <= b[0] or b[2] + GRID_STEP <= a[0]
            or a[3] + GRID_STEP <= b[1] or b[3] + GRID_STEP <= a[1])


def test_a_block_goes_beside_itself_in_the_same_row():
    column = [_rect(0, i * ROW) for i in range(4)]
    assert free_offset(column, [(0, ROW)]) == (BLOCK_W + H_GAP, 0.0)


def test_a_taken_spot_moves_the_copies_further_right_never_onto_a_block():
    taken = [_rect(0, 0), _rect(0, ROW), _rect(260, ROW + 30), _rect(530, 0)]
    blocks = [(0, 0), (0, ROW)]
    dx, dy = free_offset(taken, blocks)
    assert dx > 0 and dy == 0 and dx % GRID_STEP == 0
    assert all(_clear(_rect(x + dx, y + dy), r) for x, y in blocks for r in taken)
    assert dx == 530 + BLOCK_W + GRID_STEP  # the first free spot: just past the last clash


def test_non_finite_positions_are_ignored_not_a_hang():
    inf = float("inf")
    assert free_offset([(0, 0, inf, inf), _rect(0, 0)], [(0, 0)]) == (BLOCK_W + H_GAP, 0.0)
    assert free_offset([_rect(0, 0)], [(inf, 0)]) == (0.0, 0.0)


def test_occupied_counts_every_shown_block():
    exp = default_experiment()
    pos = {n.id: (0.0, i * 110.0) for i, n in enumerate(exp.model.nodes)}
    rects = occupied(with_ui(exp, pos))
    assert sorted(rects) == sorted(_rect(*xy) for xy in pos.values())


def test_occupied_counts_an_open_module_frame_around_its_blocks():
    from cnnlab import experiment_from_dict
    from cnnlab.diagram.arrange import auto_layout
    from cnnlab.spec.module_library import TEMPLATES

    exp = experiment_from_dict({"name": "res", "model": {
        "nodes": [{"id": "input", "type": "Input", "params": {"shape": [8, 8, 4]}},
                  {"id": "block1", "type": "residual", "params": {"filters": 4}}],
        "edges": [{"src": "input", "dst": "block1"}],
        "modules": {"residual": TEMPLATES["residual"]}}})
    exp = auto_layout(with_ui(exp, folded=[]))
    rects = occupied(exp)
    inner = [r for r in rects if r[2] - r[0] == BLOCK_W and r[3] - r[1] == BLOCK_H]
    frames = [r for r in rects if r not in inner]
    assert len(inner) == 1 + len(TEMPLATES["residual"]["nodes"]) and len(frames) == 1
    (frame,) = frames
    members = [r for r in inner if r != _rect(*positions(exp)["input"])]
    assert all(frame[0] < r[0] and frame[1] < r[1] and r[2] < frame[2] and r[3] < frame[3]
               for r in members)
