"""The lectures' conv arithmetic, receptive fields, and problems as sentences."""

import random
import time

from graphs import chain, random_graph

from cnnlab.analysis import analyze
from cnnlab.spec import experiment_from_dict


def test_7x7_input_3x3_kernel_stride_2_gives_3x3():
    result = analyze(chain((7, 7, 1), ("Conv2D", {"filters": 1, "kernel_size": 3,
                                                  "strides": 2})).model)
    assert result.layer("b0").output_shape == (3, 3, 1)


def test_64x64x32_through_64_5x5_valid_gives_60x60x64_and_184M_macs():
    result = analyze(chain((64, 64, 32), ("Conv2D", {"filters": 64, "kernel_size": 5})).model)
    conv = result.layer("b0")
    assert conv.output_shape == (60, 60, 64)
    assert conv.macs == 184_320_000
    assert conv.params == 5 * 5 * 32 * 64 + 64  # F*F*C*D + D
    assert conv.activations == 60 * 60 * 64


def test_padding_formula_and_pooling():
    # floor((W - F + 2P) / S) + 1 with W=32, F=5, P=2, S=1 -> 32; then 2x2/2 pooling -> 16.
    result = analyze(chain((32, 32, 3), ("Conv2D", {"filters": 6, "kernel_size": 5,
                                                    "padding": 2}),
                           ("MaxPooling2D", {"pool_size": 2})).model)
    assert result.layer("b0").output_shape == (32, 32, 6)
    assert result.layer("b1").output_shape == (16, 16, 6)


def test_receptive_field_and_jump_of_stacked_3x3():
    # Two 3x3 convolutions see 5x5 (VGG's argument); a 2x2/2 pool then doubles the jump.
    result = analyze(chain((32, 32, 3), ("Conv2D", {"filters": 4, "padding": "same"}),
                           ("Conv2D", {"filters": 4, "padding": "same"}),
                           ("MaxPooling2D", {}), ("Conv2D", {"filters": 4,
                                                             "padding": "same"})).model)
    assert result.layer("b1").receptive_field == (5, 5)
    assert result.layer("b2").receptive_field == (6, 6)
    assert result.layer("b2").jump == (2, 2)
    assert result.layer("b3").receptive_field == (10, 10)


def test_kernel_larger_than_input_is_explained():
    result = analyze(chain((5, 5, 3), ("Conv2D", {"filters": 4, "kernel_size": 7})).model)
    assert not result.ok
    (problem,) = result.errors()
    assert problem.node == "b0"
    assert str(problem) == ("b0: a 7x7 kernel does not fit the 5x5 input; pad it or use a "
                            "smaller kernel")


def _graph(nodes, edges):
    return experiment_from_dict({"model": {"nodes": nodes, "edges": edges}}).model


def _n(nid, kind, **params):
    return {"id": nid, "type": kind, "params": params}


def test_structural_problems_name_the_node():
    cycle = _graph([_n("x", "Input", shape=[8, 8, 1]), _n("a", "Conv2D", padding="same"),
                    _n("b", "Add"), _n("o", "Output")],
                   [{"src": "x", "dst": "a"}, {"src": "a", "dst": "b"}, {"src": "b", "dst": "a"},
                    {"src": "b", "dst": "o"}])
    [found] = [p for p in analyze(cycle).problems if p.code == "cycle"]
    assert (found.node, found.message) == ("a", "the graph has a cycle (a -> b -> a); remove "
                                           "one of its connections")
    loose = _graph([_n("x", "Input", shape=[8]), _n("d", "Dense"), _n("lonely", "Dense")],
                   [{"src": "x", "dst": "d"}])
    msgs = {p.node: p.message for p in analyze(loose).problems}
    assert "nothing is connected" in msgs["lonely"]
    no_input = _graph([_n("d", "Dense")], [])
    assert any(p.code == "no_input" for p in analyze(no_input).problems)
    two_in = _graph([_n("x", "Input", shape=[8, 8, 1]), _n("a", "Conv2D"), _n("b", "Conv2D"),
                     _n("p", "MaxPooling2D")],
                    [{"src": "x", "dst": "a"}, {"src": "x", "dst": "b"}, {"src": "a", "dst": "p"},
                     {"src": "b", "dst": "p"}])
    p = analyze(two_in).errors()[0]
    assert p.node == "p" and "Add or Concatenate" in p.message


def test_merge_problems():
    add = _graph([_n("x", "Input", shape=[8, 8, 3]), _n("a", "Conv2D", filters=64,
                                                        padding="same"),
                  _n("b", "Conv2D", filters=32, padding="same"), _n("s", "Add")],
                 [{"src": "x", "dst": "a"}, {"src": "x", "dst": "b"}, {"src": "a", "dst": "s"},
                  {"src": "b", "dst": "s"}])
    msg = analyze(add).errors()[0].message
    assert "8x8x64 and 8x8x32" in msg and "1x1 convolution" in msg
    cat = _graph([_n("x", "Input", shape=[8, 8, 3]), _n("a", "Conv2D", padding="same"),
                  _n("b", "Conv2D", strides=2, padding="same"), _n("c", "Concatenate")],
                 [{"src": "x", "dst": "a"}, {"src": "x", "dst": "b"}, {"src": "a", "dst": "c"},
                  {"src": "b", "dst": "c"}])
    assert "same height and width (8x8 vs 4x4)" in analyze(cat).errors()[0].message


def test_dense_on_a_feature_map_is_a_warning_with_advice():
    result = analyze(chain((4, 4, 3), ("Dense", {"units": 5})).model)
    assert result.ok
    assert "Flatten" in result.problems[0].message and result.problems[0].severity == "warning"


def test_analysis_of_a_150_block_graph_is_fast():
    graph = random_graph(random.Random(7), max_blocks=200)
    while len(graph["model"]["nodes"]) < 150:
        graph = random_graph(random.Random(len(graph["model"]["nodes"])), max_blocks=200)
    model = experiment_from_dict(graph).model
    analyze(model)
    start = time.perf_counter()
    for _ in range(5):
        analyze(model)
    per_call = (time.perf_counter() - start) / 5
    assert per_call < 0.05, per_call


def test_memory_estimate_refuses_what_cannot_train_one_image_at_a_time():
    # Dense 100 -> 1,000: 101,000 parameters x 16 bytes (weights, gradients, two Adam
    # slots) + 1,000 activations x 4 bytes = 1,620,000 bytes for that block.
    # The whole model adds the input's 100 values: 1,620,400 bytes.
    model = chain((100,), ("Dense", {"units": 1000})).model
    assert analyze(model, memory_bytes=1_620_400).ok
    assert [str(p) for p in analyze(model, memory_bytes=1_620_399).errors()] == [
        "b0: training the model needs ~1.6 MB at 1 image(s) per batch, this block the most; "
        "this machine has 1.6 MB"]
    assert [str(p) for p in analyze(model, memory_bytes=1_619_999).errors()] == [
        "b0: 101,000 parameters need ~1.6 MB; this machine has 1.6 MB"]


def test_memory_of_the_batch_is_a_warning_and_the_default_is_this_machine():
    model = chain((32, 32, 3), ("Conv2D", {"filters": 8, "activation": "relu"}),
                  ("Flatten", {}), ("Dense", {"units": 10})).model
    whole = analyze(model, memory_bytes=10**12, batch_size=10**6)
    assert whole.ok and not whole.problems
    warned = analyze(model, memory_bytes=10**9, batch_size=10**6)
    assert warned.ok and [p.code for p in warned.problems] == ["memory"]
    assert "at 1000000 image(s) per batch" in warned.problems[0].message
    big = chain((64, 64, 3), ("GlobalAveragePooling2D", {}), ("Dense", {"units": 10**6}),
                ("Dense", {"units": 10**6})).model
    assert "b2: 1,000,001,000,000 parameters need ~16,000 GB" in str(analyze(big).errors()[0])


def test_the_deepest_chain_the_analysis_accepts_builds_in_keras():
    from cnnlab.analysis import MAX_KERAS_DEPTH
    from cnnlab.build import build_model

    # Input + activations + GlobalAveragePooling2D + Output: exactly MAX_KERAS_DEPTH layers.
    blocks = [("Activation", {})] * (MAX_KERAS_DEPTH - 3)
    exp = chain((8, 8, 1), *blocks, ("GlobalAveragePooling2D", {}), ("Output", {"units": 2}))
    assert analyze(exp.model).ok
    assert len(build_model(exp).layers) == MAX_KERAS_DEPTH
    deeper = chain((8, 8, 1), *blocks, ("Activation", {}), ("GlobalAveragePooling2D", {}),
                   ("Output", {"units": 2}))
    assert [p.code for p in analyze(deeper.model).errors()] == ["too_deep"]
