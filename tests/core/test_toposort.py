"""One topological order (graphlib) for the analysis, the layout and module nesting."""

import pytest

from cnnlab.errors import SpecError
from cnnlab.spec import model_from_dict
from cnnlab.spec.toposort import cycle_text, topological_order


def test_ties_keep_the_node_order_then_the_edge_order():
    # Kahn's order with a FIFO queue: roots in node order, then each node as soon as its
    # last input is placed, successors in the order of the edges (c before b here).
    edges = [("r2", "d"), ("r1", "c"), ("r1", "b"), ("b", "d"), ("c", "d")]
    order, cycle = topological_order(["r1", "b", "c", "d", "r2"], edges)
    assert order == ["r1", "r2", "c", "b", "d"] and cycle == []


def test_a_cycle_comes_back_with_the_nodes_that_do_not_depend_on_it():
    edges = [("x", "a"), ("a", "b"), ("b", "a"), ("b", "o"), ("x", "side")]
    order, cycle = topological_order(["x", "a", "b", "o", "side"], edges)
    assert order == ["x", "side"]
    assert cycle_text(cycle) in ("a -> b -> a", "b -> a -> b")


def test_a_long_cycle_is_cut_short():
    assert cycle_text([*"abcdefgh", "a"], limit=3) == "a -> b -> c -> ..."


def _modules(uses: dict[str, str]) -> dict:
    mods = {name: {"params": {}, "output": "inner", "nodes": [
        {"id": "inner", "type": used, "params": {}}], "edges": [{"src": "@in", "dst": "inner"}]}
        for name, used in uses.items()}
    return {"nodes": [{"id": "x", "type": "Input", "params": {"shape": [4, 4, 1]}}],
            "edges": [], "modules": mods}


def test_modules_using_each_other_name_the_cycle_from_its_first_module():
    # top uses c; c uses b; b uses c: the cycle is b -> c -> b, top only waits on it.
    with pytest.raises(SpecError) as err:
        model_from_dict(_modules({"top": "c", "c": "b", "b": "c"}), "m")
    assert str(err.value).startswith("model.modules.b: modules use each other in a cycle "
                                     "(b -> c -> b)")
