"""The training recipe of a run in words: one ``(topic, setting)`` row per part.

Reads the spec snapshot as plain JSON data (what the run store keeps), so an
old or partly unknown snapshot still reads: a missing key is left out, never
guessed. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The schedule parameters each schedule uses (the others keep their defaults, unused).
SCHEDULE_KEYS = {
    "step": ("boundaries", "gamma"),
    "exponential": ("decay_rate",),
    "cosine": ("alpha",),
    "cosine_restarts": ("first_decay_epochs", "t_mul", "m_mul", "alpha"),
    "plateau": ("factor", "patience", "min_lr"),
}
# The optimizer parameters each optimizer uses (as cnnlab.recipe.optimizers passes them).
OPTIMIZER_KEYS = {
    "sgd": ("momentum", "nesterov"),
    "adam": ("beta_1", "beta_2", "epsilon"),
    "adamw": ("beta_1", "beta_2", "epsilon"),
    "rmsprop": ("momentum", "epsilon"),
}
OPTIONAL_OPTIMIZER_KEYS = ("weight_decay", "clipnorm", "clipvalue")
PENALTIES = ("kernel_l1", "kernel_l2", "bias_l2", "max_norm", "activity_l1", "sparsity_rho",
             "sparsity_beta")
TRANSFER_KEYS = ("base", "base_source", "weights", "cut_at", "head")
STRATEGY_KEYS = {"fine_tune": ("head_epochs", "unfreeze", "lr_multiplier"),
                 "multipliers": ("layer_multipliers",)}


def value_text(value: Any) -> str:
    """A setting as it reads in a table: ``0.002``, ``yes``, ``[10, 20]``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {value_text(v)}" for k, v in value.items()) or "none"
    return str(value)


def _pairs(section: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """``name value`` for each of ``keys`` that the section has, joined by commas."""
    return ", ".join(f"{key} {value_text(section[key])}" for key in keys if key in section)


def _section(spec: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    node: Any = spec
    for key in path:
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def optimizer_text(spec: Mapping[str, Any]) -> str:
    """``adam, learning rate 0.002 (beta_1 0.9, beta_2 0.999, epsilon 1e-07)``."""
    opt = _section(spec, "training", "optimizer")
    name = str(opt.get("name", "?"))
    text = f"{name}, learning rate {value_text(opt.get('learning_rate'))}"
    extra = _pairs(opt, OPTIMIZER_KEYS.get(name, ("epsilon",)))
    optional = [f"{key} {value_text(opt[key])}" for key in OPTIONAL_OPTIMIZER_KEYS
                if opt.get(key) is not None]
    extra = ", ".join(part for part in (extra, *optional) if part)
    return f"{text} ({extra})" if extra else text


def schedule_text(spec: Mapping[str, Any]) -> str:
    """``cosine (alpha 0)``, with the warm-up when there is one."""
    sched = _section(spec, "training", "schedule")
    name = str(sched.get("name", "constant"))
    extra = _pairs(sched, SCHEDULE_KEYS.get(name, ()))
    text = f"{name} ({extra})" if extra else name
    warm = sched.get("warmup_epochs") or 0
    return f"{text}, linear warm-up over {value_text(warm)} epochs" if warm else text


def regularization_text(spec: Mapping[str, Any]) -> str:
    """The penalties that are on, and where batch-norm goes; ``none`` otherwise."""
    reg = _section(spec, "training", "regularization")
    parts = [f"{key} {value_text(reg[key])}" for key in PENALTIES if reg.get(key)]
    if reg.get("batchnorm", "none") != "none":
        parts.append(f"batch-norm {reg['batchnorm'].replace('_', ' ')} every convolution")
    smoothing = _section(spec, "training").get("label_smoothing") or 0
    if smoothing:
        parts.append(f"label smoothing {value_text(smoothing)}")
    return ", ".join(parts) or "none"


def augmentation_text(spec: Mapping[str, Any]) -> str:
    """The augmentation layers with their parameters, MixUp and CutMix; ``none`` otherwise."""
    aug = _section(spec, "training", "augmentation")
    parts = []
    for layer in aug.get("layers") or []:
        if isinstance(layer, Mapping):
            params = value_text(layer.get("params") or {})
            parts.append(f"{layer.get('type', '?')}" + (f" ({params})" if params != "none"
                                                        else ""))
    for mix in ("mixup", "cutmix"):
        section = _section(aug, mix)
        if section.get("enabled"):
            parts.append(f"{'MixUp' if mix == 'mixup' else 'CutMix'} (alpha "
                         f"{value_text(section.get('alpha'))})")
    if not parts:
        return "none"
    return "; ".join(parts) + f"; in the {aug.get('placement', 'pipeline')}"


def transfer_text(spec: Mapping[str, Any]) -> str:
    """The transfer strategy with its base; ``none (trained from scratch)`` without one."""
    tr = _section(spec, "training", "transfer")
    strategy = str(tr.get("strategy", "none"))
    if strategy == "none" and not tr.get("base"):
        return "none (trained from scratch)"
    keys = TRANSFER_KEYS + STRATEGY_KEYS.get(strategy, ())
    extra = ", ".join(f"{key} {value_text(tr[key])}" for key in keys if tr.get(key) is not None)
    return f"{strategy} ({extra})" if extra else strategy


def data_text(spec: Mapping[str, Any]) -> str:
    """Where the images came from and how they were split and normalised."""
    data = _section(spec, "data")
    source = str(data.get("source", "?"))
    where = {"keras": f"Keras dataset {data.get('keras_name', '?')}",
             "shapes": f"synthetic shapes ({_section(data, 'shapes').get('samples', '?')} "
                       "images)"}.get(source, f"{source} {data.get('path') or '?'}")
    return (f"{where}; validation split {value_text(data.get('validation_split'))}, test "
            f"split {value_text(data.get('test_split'))}, normalization "
            f"{data.get('normalization', '?')}")


def training_text(spec: Mapping[str, Any]) -> str:
    """Epochs, batch, loss, accumulation and early stopping."""
    tr = _section(spec, "training")
    text = (f"{value_text(tr.get('epochs'))} epochs of batch {value_text(tr.get('batch_size'))}"
            f", loss {tr.get('loss', 'auto')}")
    steps = tr.get("gradient_accumulation_steps") or 1
    if steps > 1:
        text += f", {steps} batches per update"
    stop = _section(tr, "early_stopping")
    if stop.get("enabled"):
        text += (f", early stopping on {stop.get('monitor', '?')} (patience "
                 f"{value_text(stop.get('patience'))})")
    return text


def recipe_rows(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The recipe of a spec snapshot as ``(topic, setting)`` rows, in the Recipe tab's order."""
    tr = _section(spec, "training")
    seed = f"seed {value_text(tr.get('seed'))}" + (", deterministic" if tr.get("deterministic")
                                                   else "")
    return [("Data", data_text(spec)), ("Training", training_text(spec)),
            ("Optimizer", optimizer_text(spec)), ("Schedule", schedule_text(spec)),
            ("Regularization", regularization_text(spec)),
            ("Augmentation", augmentation_text(spec)), ("Transfer", transfer_text(spec)),
            ("Reproducibility", seed)]
