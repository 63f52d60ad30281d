"""Transfer-learning strategies: which base layers train in which epochs, at what rate.

The model graph already holds the base's blocks (ids starting with
``training.transfer.prefix``) with their pretrained weights; everything else
is the head. A run is a list of :class:`Phase` s; before each phase the
trainer calls :func:`apply_phase` and recompiles with
``make_optimizer(training, steps_per_epoch, multipliers)`` (Keras reads
``trainable`` at compile time).

Batch-normalization layers of a pretrained base stay in inference mode
(``trainable = False``, so Keras uses their moving statistics and never
updates them) for ``feature_extractor``, ``fine_tune`` and ``multipliers``,
as Keras recommends when fine-tuning.

:func:`check_transfer` refuses an experiment whose transfer recipe and graph
disagree (a base named but not in the graph, a strategy that freezes a base
the graph does not have, an SVM head without its loss); ``cnnlab validate``
and ``build_model`` call it, so ``train`` and the window refuse it too. This
module imports Keras only inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnlab.errors import SpecError
from cnnlab.spec.sections import TrainingSpec

PRETRAINED = ("feature_extractor", "fine_tune", "multipliers")
FREEZING = ("feature_extractor", "fine_tune")
SVM_LOSSES = ("auto", "squared_hinge")


@dataclass(frozen=True)
class Phase:
    """Epochs ``[start_epoch, end_epoch)`` trained with one set of trainable layers.

    Attributes:
        start_epoch: First epoch (0-based), the ``initial_epoch`` of ``fit``.
        end_epoch: Epoch after the last one, the ``epochs`` of ``fit``.
        trainable_base: ``none`` (base frozen), ``top_n`` (the top
            ``transfer.unfreeze`` base layers with weights) or ``all``.
        lr_multiplier: Learning-rate multiplier of the unfrozen base layers
            (the head keeps the full rate).

    """

    start_epoch: int
    end_epoch: int
    trainable_base: str
    lr_multiplier: float = 1.0


def base_layers(model, training: TrainingSpec) -> list:
    """Return the layers whose name starts with ``training.transfer.prefix``, in order."""
    prefix = training.transfer.prefix
    return [layer for layer in model.layers if layer.name.startswith(prefix)]


def transfer_phases(training: TrainingSpec, epochs: int | None = None) -> list[Phase]:
    """Return the phases of the strategy over ``epochs`` (default ``training.epochs``).

    - ``none``, ``scratch``, ``multipliers``: one phase, everything trainable
      (``multipliers`` sets per-layer rates in :func:`apply_phase`).
    - ``feature_extractor``: one phase with the base frozen.
    - ``fine_tune``: the head alone for ``head_epochs``, then the top
      ``unfreeze`` base layers (``unfreeze = 0``: the whole base) at
      ``lr_multiplier`` times the rate.
    """
    t = training.transfer
    total = int(training.epochs if epochs is None else epochs)
    if t.strategy == "feature_extractor":
        return [Phase(0, total, "none")]
    if t.strategy != "fine_tune":
        return [Phase(0, total, "all")]
    head = min(int(t.head_epochs), total)
    phases = [Phase(0, head, "none")] if head > 0 else []
    if head < total:
        phases.append(Phase(head, total, "top_n" if t.unfreeze else "all",
                            float(t.lr_multiplier)))
    return phases


def apply_phase(model, training: TrainingSpec, phase: Phase) -> dict[str, float]:
    """Set ``layer.trainable`` for a phase and return the per-layer rate multipliers.

    Args:
        model: The built model (base blocks named with the prefix).
        training: The recipe.
        phase: One of :func:`transfer_phases`.

    Returns:
        ``{layer name: multiplier}`` for ``make_optimizer`` (layers not named
        use 1.0).

    Raises:
        SpecError: A ``layer_multipliers`` key names no block of the model.

    """
    for layer in model.layers:
        layer.trainable = True
    if training.transfer.strategy == "multipliers":
        out = _apply_multipliers(model, training)
    else:
        base = base_layers(model, training)
        unfrozen = _unfrozen(base, phase, training.transfer.unfreeze)
        for layer in base:
            layer.trainable = layer in unfrozen
        m = float(phase.lr_multiplier)
        out = {layer.name: m for layer in unfrozen} if m != 1.0 else {}
    if training.transfer.strategy in PRETRAINED:
        for layer in base_layers(model, training):
            for bn in _batchnorms(layer):
                bn.trainable = False
    return out


def _unfrozen(base: list, phase: Phase, unfreeze: int) -> list:
    """Return the base layers a phase trains."""
    if phase.trainable_base == "none":
        return []
    if phase.trainable_base == "all" or unfreeze <= 0:
        return list(base)
    import keras

    weighted = [layer for layer in base
                if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    return weighted[-int(unfreeze):]


def _apply_multipliers(model, training: TrainingSpec) -> dict[str, float]:
    """Per-layer multipliers from block ids; 0 freezes the layer."""
    out = layer_multipliers(model, training.transfer.layer_multipliers)
    for name, m in out.items():
        if m == 0:
            model.get_layer(name).trainable = False
    return out


def layer_multipliers(model, block_multipliers: Mapping[str, float]) -> dict[str, float]:
    """Map ``{block id: m}`` to ``{layer name: m}``.

    A block's layers are the one named by its id and those named
    ``{id}_...`` (inserted padding/batch-norm/activation, the blocks of a
    module instance); the longest matching id wins.
    """
    names = [layer.name for layer in model.layers]
    for block in block_multipliers:
        if not any(_owns(block, n) for n in names):
            raise SpecError(f"training.transfer.layer_multipliers.{block}",
                            "no block with this id in the model")
    out: dict[str, float] = {}
    for name in names:
        owners = [b for b in block_multipliers if _owns(b, name)]
        if owners:
            out[name] = float(block_multipliers[max(owners, key=len)])
    return out


def _owns(block: str, layer_name: str) -> bool:
    return layer_name == block or layer_name.startswith(block + "_")


def _batchnorms(layer) -> list:
    """Return the BatchNormalization layers in ``layer`` (itself or in a nested model)."""
    import keras

    if isinstance(layer, keras.layers.BatchNormalization):
        return [layer]
    found = []
    for sub in getattr(layer, "layers", []) or []:
        found.extend(_batchnorms(sub))
    return found


def base_block_ids(exp: Any) -> list[str]:
    """The ids of the graph's base blocks: those starting with ``transfer.prefix``."""
    prefix = exp.training.transfer.prefix
    return [n.id for n in exp.model.nodes if n.id.startswith(prefix) and n.type != "Input"]


def check_transfer(exp: Any) -> None:
    """Refuse an experiment whose transfer recipe does not fit its model graph.

    Checked: a named ``base`` has its blocks in the graph; ``feature_extractor``
    and ``fine_tune`` have a base to freeze; strategy ``none`` names no base
    (its blocks would train from random weights); the ``svm`` head ends in an
    Output block and keeps the squared hinge. (Loading already checks that
    every ``layer_multipliers`` key is a block.)

    Args:
        exp: The experiment (``cnnlab.spec.Experiment``).

    Raises:
        SpecError: Naming the field and saying how to fix it.

    """
    t = exp.training.transfer
    blocks = base_block_ids(exp)
    _check_base(t, blocks)
    if t.head == "svm":
        _check_svm(exp)


def _check_base(t: Any, blocks: list[str]) -> None:
    fix = (f"run `cnnlab new OUT.json --base {t.base or 'NAME'} --strategy "
           f"{t.strategy if t.strategy != 'none' else 'feature_extractor'}` or use Insert base "
           f"in Recipe > Transfer")
    if t.base and not blocks:
        raise SpecError("training.transfer.base", f"the base {t.base!r} is not in the model "
                        f"(no block id starts with {t.prefix!r}), so it would not be used; "
                        f"{fix}, or remove training.transfer.base")
    if t.strategy in FREEZING and not blocks:
        raise SpecError("training.transfer.strategy", f"{t.strategy} needs a base in the "
                        f"model (blocks whose id starts with {t.prefix!r}) and there is none; "
                        f"{fix}, or choose strategy none")
    if t.base and t.strategy == "none":
        raise SpecError("training.transfer.strategy", f"strategy none ignores the base "
                        f"{t.base!r} (its blocks would train from random weights); choose "
                        "feature_extractor, fine_tune, multipliers or scratch")


def _check_svm(exp: Any) -> None:
    loss = exp.training.loss
    if loss not in SVM_LOSSES:
        raise SpecError("training.loss", f"the svm head trains with the squared hinge, not "
                        f"{loss}; set loss to auto (or squared_hinge), or head to softmax")
    from cnnlab.analysis import analyze

    out = analyze(exp.model).output
    kinds = {n.id: n.type for n in exp.model.expand().nodes}
    if kinds.get(out or "") != "Output":
        raise SpecError("training.transfer.head", f"the svm head replaces the Output block, "
                        f"but the model ends in {out!r} ({kinds.get(out or '', 'nothing')}); "
                        "end it with an Output block")
