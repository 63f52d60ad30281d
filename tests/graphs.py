"""Graph helpers for the core tests: chains and a seeded random-graph generator."""

from __future__ import annotations

import random

from cnnlab.spec import experiment_from_dict


def chain(input_shape, *blocks, name="t"):
    """An experiment whose model is Input -> blocks... (each block: (type, params))."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": list(input_shape)}}]
    for i, (kind, params) in enumerate(blocks):
        nodes.append({"id": f"b{i}", "type": kind, "params": params})
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return experiment_from_dict({"name": name, "model": {"nodes": nodes, "edges": edges}})


def random_graph(rng: random.Random, max_blocks: int = 12) -> dict:
    """A random valid model dict: convolutions, pooling, branches with Add/Concatenate."""
    size = rng.choice([16, 20, 24, 32])
    shape = [size, size, rng.choice([1, 3])]
    nodes = [{"id": "input", "type": "Input", "params": {"shape": shape}}]
    edges = []
    state = {"last": "input", "hw": size, "c": nodes[0]["params"]["shape"][2], "n": 0}

    def add(kind, params, srcs):
        state["n"] += 1
        nid = f"n{state['n']}"
        nodes.append({"id": nid, "type": kind, "params": params})
        edges.extend({"src": s, "dst": nid, "port": i} for i, s in enumerate(srcs))
        return nid

    for _ in range(rng.randint(2, max_blocks)):
        choice = rng.random()
        last = state["last"]
        if choice < 0.35:
            f = rng.choice([4, 8, 12])
            k = rng.choice([1, 3, 5])
            s = rng.choice([1, 1, 2]) if state["hw"] > 6 else 1
            pad = rng.choice(["same", "valid", 1]) if state["hw"] > k + 2 else "same"
            kind = rng.choice(["Conv2D", "Conv2D", "SeparableConv2D", "DepthwiseConv2D"])
            p = {"kernel_size": k, "strides": s, "padding": pad, "activation": "relu"}
            if kind != "DepthwiseConv2D":
                p["filters"] = f
            if kind == "SeparableConv2D" and isinstance(pad, int):
                p["padding"] = "same"
            nid = add(kind, p, [last])
            _track(state, nid, nodes[-1])
        elif choice < 0.5 and state["hw"] >= 4:
            kind = rng.choice(["MaxPooling2D", "AveragePooling2D"])
            nid = add(kind, {"pool_size": 2, "padding": rng.choice(["valid", "same"])}, [last])
            same = nodes[-1]["params"]["padding"] == "same"
            state["hw"] = (state["hw"] + (1 if same else 0)) // 2
            state["last"] = nid
        elif choice < 0.7:
            f = rng.choice([4, 8])
            a = add("Conv2D", {"filters": f, "kernel_size": 3, "padding": "same"}, [last])
            b = add("Conv2D", {"filters": f, "kernel_size": 1, "padding": "same"}, [last])
            kind = rng.choice(["Add", "Concatenate"])
            state["last"] = add(kind, {}, [a, b])
            state["c"] = f if kind == "Add" else 2 * f
        else:
            kind = rng.choice(["BatchNormalization", "Dropout", "Activation", "GaussianNoise",
                               "LocalResponseNormalization", "SpatialDropout2D"])
            state["last"] = add(kind, {}, [last])
    head = rng.choice(["GlobalAveragePooling2D", "Flatten", "GlobalMaxPooling2D"])
    h = add(head, {}, [state["last"]])
    if rng.random() < 0.3:
        h = add("Maxout", {"units": 8, "pieces": 3}, [h])
    add("Output", {"units": rng.randint(2, 10)}, [h])
    return {"model": {"nodes": nodes, "edges": edges}}


def _track(state, nid, node):
    p = node["params"]
    k, s, pad = p["kernel_size"], p["strides"], p["padding"]
    hw = state["hw"]
    if pad == "same":
        state["hw"] = -(-hw // s)
    else:
        extra = 0 if pad == "valid" else 2 * pad
        state["hw"] = (hw - k + extra) // s + 1
    state["last"] = nid


def random_experiment(seed: int):
    return experiment_from_dict(random_graph(random.Random(seed)))


def trained_run(workspace, exp, name: str, epochs: int = 1):
    """A finished run in ``workspace`` holding a briefly trained ``model.keras`` of ``exp``.

    Returns:
        (store, record, data splits)
    """
    from cnnlab import build_model
    from cnnlab.data import load_data
    from cnnlab.runs.store import RunStore

    store = RunStore(workspace)
    record = store.create_run(exp.run_dict(), name, epochs, {"device": "CPU"})
    model = build_model(exp)
    shape = tuple(exp.model.expand().nodes[0].params["shape"])
    data = load_data(exp.data, shape, exp.training.seed)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(*data.arrays("train"), epochs=epochs, batch_size=16, verbose=0)
    model.save(record.model_path)
    store.set_status(record.id, "finished")
    return store, record, data
