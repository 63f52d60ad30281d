"""The training recipe: regularizers, augmentation, optimizers, schedules, transfer.

``import cnnlab.recipe`` stays light (no TensorFlow): ``cnnlab.spec`` imports
the augmentation catalogue from here. The functions below load their module,
and with it Keras, on first use.

A checkpoint saved with its optimizer names registered classes of this
package (``cnnlab>LinearWarmUp``, ``cnnlab>LayerwiseAdam``...): call
:func:`register_keras_objects` before ``keras.models.load_model`` on one.

Modules:
    optimizers, counter, layerwise: the optimizer, its batch counter, per-layer rates.
    schedules, callbacks: learning-rate schedules (one linear warm-up) and callbacks.
    losses: loss, label format and metrics.
    augment_catalog, augment_layers, augment: the augmentation catalogue, layers, tf.data.
    transfer, advisor: transfer strategies and the lectures' rule of thumb.
"""

from __future__ import annotations

import importlib

from cnnlab.lazy import lazy_exports
from cnnlab.recipe.augment_catalog import AUGMENTATIONS as AUGMENTATIONS  # light: data
from cnnlab.recipe.augment_catalog import HELP as HELP

# name -> module under cnnlab.recipe; resolved on first access.
_LAZY = {
    "make_optimizer": "cnnlab.recipe.optimizers:make_optimizer",
    "make_schedule": "cnnlab.recipe.schedules:make_schedule",
    "lr_curve": "cnnlab.recipe.schedules:lr_curve",
    "LinearWarmUp": "cnnlab.recipe.schedules:LinearWarmUp",
    "make_loss": "cnnlab.recipe.losses:make_loss",
    "uses_one_hot": "cnnlab.recipe.losses:uses_one_hot",
    "make_metrics": "cnnlab.recipe.losses:make_metrics",
    "recipe_callbacks": "cnnlab.recipe.callbacks:recipe_callbacks",
    "WarmUpCallback": "cnnlab.recipe.callbacks:WarmUpCallback",
    "make_augmentation_layers": "cnnlab.recipe.augment_layers:make_augmentation_layers",
    "augmentation_model": "cnnlab.recipe.augment_layers:augmentation_model",
    "xla_compatible": "cnnlab.recipe.augment_layers:xla_compatible",
    "augment_dataset": "cnnlab.recipe.augment:augment_dataset",
    "make_eval_labels": "cnnlab.recipe.augment:make_eval_labels",
    "preview_augmentations": "cnnlab.recipe.augment:preview_augmentations",
    "Phase": "cnnlab.recipe.transfer:Phase",
    "base_layers": "cnnlab.recipe.transfer:base_layers",
    "transfer_phases": "cnnlab.recipe.transfer:transfer_phases",
    "apply_phase": "cnnlab.recipe.transfer:apply_phase",
    "check_transfer": "cnnlab.recipe.transfer:check_transfer",
    "base_block_ids": "cnnlab.recipe.transfer:base_block_ids",
    "LayerwiseOptimizer": "cnnlab.recipe.layerwise:LayerwiseOptimizer",
    "Advice": "cnnlab.recipe.advisor:Advice",
    "advise_transfer": "cnnlab.recipe.advisor:advise_transfer",
}

__all__ = sorted([*_LAZY, "register_keras_objects"])  # the functions; the catalogue is data


def register_keras_objects() -> None:
    """Register the recipe's Keras classes (warm-up schedule, layer-wise optimizers)."""
    for module in ("schedules", "layerwise"):
        importlib.import_module(f"cnnlab.recipe.{module}")


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
