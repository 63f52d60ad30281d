"""The training recipe: regularizers, augmentation, optimizers, schedules, transfer.

``import cnnlab.recipe`` stays light (no TensorFlow): ``cnnlab.spec`` imports
the augmentation catalogue from here. The functions below load their module,
and with it Keras, on first use.

A checkpoint saved with its optimizer names registered classes of this
package (``cnnlab>LinearWarmUp``, ``cnnlab>LayerwiseAdam``...): call
:func:`register_keras_objects` before ``keras.models.load_model`` on one.
"""

from __future__ import annotations

import importlib

# name -> module under cnnlab.recipe; resolved on first access.
_LAZY = {
    "make_optimizer": "optimizers",
    "make_schedule": "schedules",
    "lr_curve": "schedules",
    "LinearWarmUp": "schedules",
    "make_loss": "losses",
    "uses_one_hot": "losses",
    "make_metrics": "losses",
    "recipe_callbacks": "callbacks",
    "WarmUpCallback": "callbacks",
    "make_augmentation_layers": "augment_layers",
    "augmentation_model": "augment_layers",
    "xla_compatible": "augment_layers",
    "augment_dataset": "augment",
    "make_eval_labels": "augment",
    "preview_augmentations": "augment",
    "Phase": "transfer",
    "base_layers": "transfer",
    "transfer_phases": "transfer",
    "apply_phase": "transfer",
    "check_transfer": "transfer",
    "base_block_ids": "transfer",
    "LayerwiseOptimizer": "layerwise",
    "Advice": "advisor",
    "advise_transfer": "advisor",
}

__all__ = sorted([*_LAZY, "register_keras_objects"])


def register_keras_objects() -> None:
    """Register the recipe's Keras classes (warm-up schedule, layer-wise optimizers)."""
    for module in ("schedules", "layerwise"):
        importlib.import_module(f"cnnlab.recipe.{module}")


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cnnlab.recipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cnnlab.recipe.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
