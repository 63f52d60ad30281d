"""Keras augmentation layers from the recipe's ``augmentation.layers`` list.

Each entry ``{type, params}`` becomes the Keras preprocessing layer of that
name with those parameters (catalogue defaults filled in), plus
``value_range`` and a per-layer seed where the layer takes them. Two
readings are ours:

- ``RandomCrop`` with ``padding`` P is the CIFAR trick "pad by P with zeros,
  crop back to size at a random place". That is a random integer shift of up
  to P pixels with zero fill, so it is built as Keras's ``RandomTranslation``
  (``fill_mode="constant"``, ``interpolation="nearest"``): per-image offsets
  (Keras's ``RandomCrop`` uses one offset per batch) and the identity at
  inference (Keras's ``RandomCrop`` resizes there).
- ``RandomZoom``'s ``height_factor`` zooms both axes (Keras's
  ``width_factor=None``).

Placement: ``pipeline`` (the default) runs the layers in tf.data on the CPU.
``model`` puts them in front of the network (see :func:`augmentation_model`),
where they run on the accelerator in training only; but several of them
(``NO_XLA`` in the catalogue: rotation, zoom, translation, shear, crop,
perspective) have ``supports_jit = False``, which turns XLA off for the whole
model under ``jit_compile="auto"`` (see :func:`xla_compatible`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

import keras

from cnnlab.errors import SpecError
from cnnlab.recipe.augment_catalog import AUGMENTATIONS, NO_XLA, RGB_ONLY
from cnnlab.spec.sections import TrainingSpec

_PATH = "training.augmentation.layers"


def make_augmentation_layers(training: TrainingSpec, value_range: Sequence[float] = (0, 1),
                             seed: int = 0,
                             image_shape: Sequence[int] | None = None) -> list:
    """Build the Keras layers of ``training.augmentation.layers``, in order.

    Args:
        training: The recipe.
        value_range: Range of the pixel values the layers receive.
        seed: Base seed; layer i gets a seed derived from it.
        image_shape: ``(H, W, C)`` of the images; needed by ``RandomCrop``
            and to refuse colour layers on grayscale images.

    Returns:
        A list of Keras layers (empty when there are none).

    Raises:
        SpecError: A layer that cannot work on these images, naming its path.

    """
    out = []
    for i, entry in enumerate(training.augmentation.layers):
        kind = entry["type"]
        params = {p.name: p.default for p in AUGMENTATIONS[kind]}
        params.update(entry.get("params", {}))
        _check_channels(kind, image_shape, f"{_PATH}[{i}]")
        name = f"aug{i}_{_snake(kind)}"
        layer_seed = int(seed) * 1009 + i + 1
        out.append(_layer(kind, params, tuple(value_range), layer_seed, image_shape, name))
    return out


def _layer(kind: str, params: dict, value_range: tuple, seed: int, image_shape, name: str):
    """One Keras layer of the catalogue."""
    if kind == "RandomCrop":
        return _pad_and_crop(params["padding"], seed, image_shape, name)
    cls = getattr(keras.layers, kind)
    accepted = inspect.signature(cls.__init__).parameters
    if "value_range" in accepted:
        params["value_range"] = value_range
    if "seed" in accepted:
        params["seed"] = seed
    return cls(name=name, **params)


def _pad_and_crop(padding: int, seed: int, image_shape, name: str):
    """Zero-pad by ``padding`` and crop back at a random place, as a random shift."""
    if image_shape is None or None in tuple(image_shape)[:2]:
        raise ValueError("RandomCrop needs the image shape (image_shape=(H, W, C))")
    h, w = int(image_shape[0]), int(image_shape[1])
    return keras.layers.RandomTranslation(
        min(padding / h, 1.0), min(padding / w, 1.0), fill_mode="constant", fill_value=0.0,
        interpolation="nearest", seed=seed, name=name)


def _check_channels(kind: str, image_shape, where: str) -> None:
    if kind in RGB_ONLY and image_shape is not None and int(image_shape[-1]) != 3:
        raise SpecError(f"{where}.type", f"{kind} needs colour images with 3 channels; these "
                        f"have {int(image_shape[-1])}")


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def augmentation_model(training: TrainingSpec, input_shape: Sequence[int], seed: int = 0,
                       value_range: Sequence[float] = (0, 1)):
    """Build the augmentation as a model in front of the network (placement ``model``).

    The layers are active only when the model runs in training. MixUp and
    CutMix need the labels, so they always stay in the pipeline
    (:func:`cnnlab.recipe.augment.augment_dataset`).

    Args:
        training: The recipe.
        input_shape: ``(H, W, C)`` of the images.
        seed: Base seed of the layers.
        value_range: Range of the pixel values.

    Returns:
        A ``keras.Sequential`` named ``augmentation``, or None when the
        placement is ``pipeline`` or there are no layers.

    """
    if training.augmentation.placement != "model" or not training.augmentation.layers:
        return None
    layers = make_augmentation_layers(training, value_range, seed, image_shape=input_shape)
    return keras.Sequential([keras.Input(shape=tuple(input_shape)), *layers],
                            name="augmentation")


def xla_compatible(training: TrainingSpec) -> bool:
    """Whether the recipe's augmentation lets the model be compiled with XLA.

    True for the ``pipeline`` placement (nothing is added to the model), and
    for ``model`` when none of the layers is in the catalogue's ``NO_XLA``.
    """
    a = training.augmentation
    if a.placement != "model":
        return True
    return not any(entry["type"] in NO_XLA for entry in a.layers)
