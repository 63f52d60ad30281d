"""The variants of the built-in lecture studies (see :mod:`cnnlab.studies.lecture`).

Each builder takes the loaded experiment and returns variant name ->
{experiment path: value}. Every variant of a study sets the same fields, so
no trial inherits a setting of the user's experiment that another trial
changes. Pure Python: no Keras import.
"""

from __future__ import annotations

from typing import Any

from cnnlab.errors import CnnlabError

TRANSFER = ("scratch", "feature_extractor", "fine_tune", "svm_head", "cut_earlier")
BATCHNORM = ("no_batchnorm", "before_activation", "after_activation")
REGULARIZERS = ("none", "l2", "kl_sparsity", "max_norm", "gaussian_noise", "dropout")
REG_MODELS = ("mlp128", "cnn")  # the MLP-128 preset and the small CNN (the default preset)
SCHEDULES = ("constant", "step", "cosine", "cosine_restarts")
VARIANT_NAMES = {
    "transfer": TRANSFER,
    "batchnorm": BATCHNORM,
    "regularizers": tuple(f"{m}/{r}" for m in REG_MODELS for r in REGULARIZERS),
    "schedules": SCHEDULES,
}
FINE_TUNE_LR_MULTIPLIER = 0.1  # "fine-tune with a lower learning rate"
L2 = 5e-4
SPARSITY = (0.05, 1e-3)  # target mean activation rho, weight beta (on the hidden layer)
MAX_NORM = 3.0  # the lectures: c = 2 to 3
NOISE_STDDEV = 0.3
DROPOUT_RATE = 0.5

NOT_A_CUT = ("ZeroPadding2D", "Cropping2D")  # features are what comes before them
_T = "training.transfer."
_R = "training.regularization."
_S = "training.schedule."


# --- transfer -------------------------------------------------------------------------

def transfer(exp: Any) -> dict[str, dict[str, Any]]:
    """Scratch, feature extractor, fine-tune, SVM head and an earlier cut, from the base.

    Raises:
        CnnlabError: The experiment has no base in its graph.
    """
    t = exp.training.transfer
    if not t.base or not _base_ids(exp):
        raise CnnlabError("the transfer study needs a pretrained base in the experiment "
                          "(training.transfer.base and its blocks); add one with `cnnlab new "
                          "OUT.json --base NAME` or Recipe > Transfer > Insert base")
    loss = exp.training.loss if exp.training.loss != "squared_hinge" else "auto"
    epochs = exp.training.epochs
    head_epochs = min(t.head_epochs, max(epochs - 1, 0))  # at least one epoch fine-tuning
    softmax = {_T + "head": "softmax", "training.loss": loss}
    cut, model = earlier_cut(exp)
    return {
        "scratch": {_T + "strategy": "scratch", **softmax},
        "feature_extractor": {_T + "strategy": "feature_extractor", **softmax},
        "fine_tune": {_T + "strategy": "fine_tune", _T + "lr_multiplier":
                      FINE_TUNE_LR_MULTIPLIER, _T + "head_epochs": head_epochs, **softmax},
        "svm_head": {_T + "strategy": "feature_extractor", _T + "head": "svm",
                     "training.loss": "auto"},
        "cut_earlier": {"model": model, _T + "strategy": "feature_extractor",
                        _T + "cut_at": cut[len(t.prefix):],
                        _T + "layer_multipliers": _kept(t.layer_multipliers, model),
                        **softmax},
    }


def _base_ids(exp: Any) -> list[str]:
    prefix = exp.training.transfer.prefix
    return [n.id for n in exp.model.nodes if n.id.startswith(prefix) and n.type != "Input"]


def earlier_cut(exp: Any) -> tuple[str, dict]:
    """An earlier cut of the base and the model with the head moved there.

    The cut is the last base block before the last downsampling (the
    last one whose feature maps are larger than the current cut's), or, in a
    base that never downsamples, the image block before the current cut;
    only a block that every path of the base passes (not one inside a
    residual branch) is a cut.

    Raises:
        CnnlabError: The base has no earlier block with an image output.
    """
    from cnnlab.analysis import analyze

    model = exp.model.to_dict()
    base = set(_base_ids(exp))
    current = _current_cut(model, base)
    layers = [la for la in analyze(exp.model).layers if la.id in base]
    inputs = {la.id: la.inputs for la in layers}
    shapes = {la.id: tuple(la.output_shape) for la in layers}
    order = [la.id for la in layers]
    kinds = {la.id: la.type for la in layers}
    before = order[:order.index(current)] if current in order else []
    cuts = [c for i, c in enumerate(before) if len(shapes[c]) == 3
            and kinds[c] not in NOT_A_CUT and _separates(order, i, inputs)]
    if not cuts:
        raise CnnlabError(f"the base has no block before {current!r} to cut at (one with "
                          "feature maps that every path of the base goes through)")
    larger = [c for c in cuts if shapes[c][0] * shapes[c][1] > _area(shapes[current])]
    cut = (larger or cuts)[-1]
    return cut, _recut(model, base, current, cut, _ancestors(cut, inputs) | {cut})


def _current_cut(model: dict, base: set[str]) -> str:
    feeds = [e["src"] for e in model["edges"] if e["src"] in base and e["dst"] not in base]
    if len(set(feeds)) != 1:
        raise CnnlabError("the transfer study needs one base block that feeds the head "
                          f"(found {len(set(feeds))})")
    return feeds[0]


def _ancestors(node: str, inputs: dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = list(inputs.get(node, ()))
    while todo:
        nid = todo.pop()
        if nid in inputs and nid not in seen:
            seen.add(nid)
            todo.extend(inputs[nid])
    return seen


def _separates(order: list[str], i: int, inputs: dict[str, tuple[str, ...]]) -> bool:
    """True when every path of the base passes through ``order[i]``.

    Everything before it is its ancestor, and nothing after it reads from
    anything before it (no skip connection around it).
    """
    earlier = set(order[:i])
    return (_ancestors(order[i], inputs) == earlier
            and not any(earlier & set(inputs[n]) for n in order[i + 1:]))


def _area(shape: tuple) -> int:
    return int(shape[0]) * int(shape[1]) if len(shape) == 3 else 0


def _recut(model: dict, base: set[str], current: str, cut: str, keep: set[str]) -> dict:
    nodes = [n for n in model["nodes"] if n["id"] not in base or n["id"] in keep]
    ids = {n["id"] for n in nodes}
    edges = []
    for e in model["edges"]:
        if e["src"] == current and e["dst"] not in base:
            edges.append(dict(e, src=cut))
        elif e["src"] in ids and e["dst"] in ids:
            edges.append(e)
    return dict(model, nodes=nodes, edges=edges)


def _kept(multipliers: dict, model: dict) -> dict:
    ids = {n["id"] for n in model["nodes"]}
    return {k: v for k, v in multipliers.items() if k in ids}


# --- batch-norm -----------------------------------------------------------------------

def batchnorm(exp: Any) -> dict[str, dict[str, Any]]:
    """No batch-norm, batch-norm before and after the activation of every convolution.

    Raises:
        CnnlabError: The network has no convolution (where batch-norm goes).
    """
    from cnnlab.analysis import CONV_TYPES

    if not any(n.type in CONV_TYPES for n in exp.model.expand().nodes):
        raise CnnlabError("the batchnorm study needs a network with convolutions (batch-norm "
                          "is inserted after every convolution); this one has none")
    values = ("none", "before_activation", "after_activation")
    return {name: {_R + "batchnorm": value} for name, value in zip(BATCHNORM, values)}


# --- regularizers ---------------------------------------------------------------------

def regularizers(exp: Any) -> dict[str, dict[str, Any]]:
    """Six regularizers on each of two networks, fitted to the experiment's data."""
    shape, classes = _data_shape(exp)
    out: dict[str, dict[str, Any]] = {}
    for model_name in REG_MODELS:
        plain = _preset_model("mlp128" if model_name == "mlp128" else "default", shape, classes)
        for reg in REGULARIZERS:
            out[f"{model_name}/{reg}"] = _regularized(exp, plain, reg)
    return out


def _data_shape(exp: Any) -> tuple[list[int], int]:
    flat = exp.model.expand()
    shape = next(n.params["shape"] for n in flat.nodes if n.type == "Input")
    outputs = [n.params.get("units") for n in flat.nodes if n.type == "Output"]
    if len(outputs) != 1:
        raise CnnlabError("the regularizers study needs a network with one Output block (its "
                          "units are the classes)")
    return list(shape), int(outputs[0])


def _preset_model(preset: str, shape: list[int], classes: int) -> dict:
    from cnnlab.presetlib import load_preset

    return load_preset(preset, input_shape=shape, classes=classes).model.to_dict()


def _regularized(exp: Any, plain: dict, reg: str) -> dict[str, Any]:
    """The changes of one regularizer: the model (with its block) and the recipe's fields."""
    model = plain
    if reg in ("gaussian_noise", "dropout"):
        kind, params = (("GaussianNoise", {"stddev": NOISE_STDDEV}) if reg == "gaussian_noise"
                        else ("Dropout", {"rate": DROPOUT_RATE}))
        model = _before_output(plain, {"id": reg, "type": kind, "params": params})
    elif reg == "kl_sparsity":
        model = _hidden_sparsity(plain)
    changes: dict[str, Any] = {
        "model": model,
        _R + "kernel_l2": L2 if reg == "l2" else 0.0,
        _R + "max_norm": MAX_NORM if reg == "max_norm" else None,
        _R + "sparsity_rho": None, _R + "sparsity_beta": 0.0,
    }
    t = exp.training.transfer
    if t.base or t.strategy != "none" or t.head != "softmax":
        changes.update({_T + "strategy": "none", _T + "base": None, _T + "head": "softmax",
                        _T + "layer_multipliers": {}})
    if exp.training.loss == "squared_hinge":
        changes["training.loss"] = "auto"
    return changes


def _output_edge(model: dict) -> dict:
    out = next(n["id"] for n in model["nodes"] if n["type"] == "Output")
    return next(e for e in model["edges"] if e["dst"] == out)


def _before_output(model: dict, node: dict) -> dict:
    """The model with ``node`` between the Output block and the block before it."""
    edge = _output_edge(model)
    edges = [e for e in model["edges"] if e is not edge]
    edges += [{"src": edge["src"], "dst": node["id"]}, dict(edge, src=node["id"])]
    return dict(model, nodes=[*model["nodes"], node], edges=edges)


def _hidden_sparsity(model: dict) -> dict:
    """KL sparsity on the hidden layer before the Output (the lecture's 128 units)."""
    hidden = _output_edge(model)["src"]
    rho, beta = SPARSITY
    nodes = [dict(n, params={**n["params"], "sparsity_rho": rho, "sparsity_beta": beta})
             if n["id"] == hidden else n for n in model["nodes"]]
    return dict(model, nodes=nodes)


# --- schedules ------------------------------------------------------------------------

def schedules(exp: Any) -> dict[str, dict[str, Any]]:
    """Constant, step (x0.1 at 1/2 and 3/4), cosine, and cosine with 2-5 equal restarts."""
    epochs = exp.training.epochs
    warm = exp.training.schedule.warmup_epochs
    span = max(epochs - warm, 0.0)
    boundaries = [epochs * 0.5, epochs * 0.75] if epochs >= 4 else [epochs * 0.5]
    cycles = max(2, min(5, epochs // 3))
    first = max(round(span / cycles, 4), 0.01)
    return {
        "constant": {_S + "name": "constant"},
        "step": {_S + "name": "step", _S + "boundaries": [float(b) for b in boundaries],
                 _S + "gamma": 0.1},
        "cosine": {_S + "name": "cosine", _S + "alpha": 0.0},
        "cosine_restarts": {_S + "name": "cosine_restarts", _S + "first_decay_epochs": first,
                            _S + "t_mul": 1.0, _S + "m_mul": 1.0, _S + "alpha": 0.0},
    }
