"""The augmentation catalogue: Keras preprocessing layers a recipe may use.

Pure declarations (no Keras import) so that spec validation and the UI's forms
work before TensorFlow is loaded. Names and parameters are Keras's own.
"""

from __future__ import annotations

from typing import Any

from cnnlab.errors import SpecError
from cnnlab.params import Param, validate_params

_FACTOR = "Strength as a fraction (Keras factor)"
_FILL = ("reflect", "wrap", "constant", "nearest")

AUGMENTATIONS: dict[str, tuple[Param, ...]] = {
    "RandomFlip": (
        Param("mode", "choice", "horizontal", "Which flips",
              choices=("horizontal", "vertical", "horizontal_and_vertical")),
    ),
    "RandomRotation": (
        Param("factor", "float", 0.1, "Max rotation as a fraction of a full turn", min=0,
              max=1),
        Param("fill_mode", "choice", "reflect", "How new pixels are filled", choices=_FILL),
    ),
    "RandomZoom": (
        Param("height_factor", "float", 0.1, "Max zoom as a fraction (+- zoom in/out)",
              min=0, max=0.9),
        Param("fill_mode", "choice", "reflect", "How new pixels are filled", choices=_FILL),
    ),
    "RandomTranslation": (
        Param("height_factor", "float", 0.1, "Max vertical shift (fraction)", min=0, max=1),
        Param("width_factor", "float", 0.1, "Max horizontal shift (fraction)", min=0, max=1),
        Param("fill_mode", "choice", "reflect", "How new pixels are filled", choices=_FILL),
    ),
    "RandomShear": (
        Param("x_factor", "float", 0.1, "Max horizontal shear", min=0, max=1),
        Param("y_factor", "float", 0.1, "Max vertical shear", min=0, max=1),
    ),
    "RandomCrop": (
        Param("padding", "int", 4, "Pad by this many pixels, then crop back to size at a "
              "random place", min=0, max=256),
    ),
    "RandomBrightness": (Param("factor", "float", 0.2, _FACTOR, min=0, max=1),),
    "RandomContrast": (Param("factor", "float", 0.2, _FACTOR, min=0, max=1),),
    "RandomSaturation": (Param("factor", "float", 0.2, _FACTOR, min=0, max=1),),
    "RandomHue": (Param("factor", "float", 0.1, _FACTOR, min=0, max=1),),
    "RandomGrayscale": (Param("factor", "float", 0.2, "Probability of grayscale", min=0,
                              max=1),),
    "RandomErasing": (
        Param("factor", "float", 0.5, "Probability of erasing a patch", min=0, max=1),
        Param("scale", "float", 0.2, "Max area of the patch (fraction)", min=0.01, max=1),
    ),
    "RandomGaussianBlur": (
        Param("factor", "float", 0.5, "Probability of blurring", min=0, max=1),
        Param("sigma", "float", 1.0, "Blur std in pixels", min=0.01, max=10),
    ),
    "RandomSharpness": (Param("factor", "float", 0.2, _FACTOR, min=0, max=1),),
    "RandomPerspective": (Param("factor", "float", 0.3, "Probability", min=0, max=1),
                          Param("scale", "float", 0.2, "Distortion strength", min=0, max=1)),
    "RandomElasticTransform": (Param("factor", "float", 0.5, "Probability", min=0, max=1),
                               Param("scale", "float", 0.5, "Strength", min=0, max=1)),
    "RandomInvert": (Param("factor", "float", 0.2, "Probability", min=0, max=1),),
    "GaussianNoise": (Param("stddev", "float", 0.05, "Noise std (images in [0, 1])", min=0,
                            max=1),),
}

HELP = {
    "RandomFlip": "Mirror images left-right and/or up-down",
    "RandomRotation": "Rotate by a random angle",
    "RandomZoom": "Zoom in or out at random",
    "RandomTranslation": "Shift the image at random",
    "RandomShear": "Shear (slant) the image",
    "RandomCrop": "Pad and crop back at a random offset (the CIFAR trick)",
    "RandomBrightness": "Change brightness at random",
    "RandomContrast": "Change contrast at random",
    "RandomSaturation": "Change colour saturation (RGB only)",
    "RandomHue": "Shift hue (RGB only)",
    "RandomGrayscale": "Turn some images grey (RGB only)",
    "RandomErasing": "Erase a random rectangle (cutout)",
    "RandomGaussianBlur": "Blur some images",
    "RandomSharpness": "Sharpen or soften",
    "RandomPerspective": "Random perspective warp",
    "RandomElasticTransform": "Elastic deformation",
    "RandomInvert": "Invert some images",
    "GaussianNoise": "Add Gaussian noise to the pixels",
}


# Keras layers that need 3 colour channels (they convert to HSV).
RGB_ONLY = frozenset({"RandomSaturation", "RandomHue"})

# Keras layers whose ``supports_jit`` is False: inside a model they turn off
# XLA (``jit_compile="auto"``); in the tf.data pipeline they cost nothing there.
NO_XLA = frozenset({"RandomRotation", "RandomZoom", "RandomTranslation", "RandomShear",
                    "RandomCrop", "RandomPerspective"})


def validate_layers(layers: Any, path: str) -> None:
    """Check a list of ``{type, params}`` augmentation entries.

    Raises:
        SpecError: Naming the path of the first bad entry.

    """
    if not isinstance(layers, list):
        raise SpecError(path, "must be a list of {type, params} objects")
    for i, entry in enumerate(layers):
        where = f"{path}[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"type", "params"}:
            raise SpecError(where, "must be an object with keys type and params")
        kind = entry.get("type")
        if kind not in AUGMENTATIONS:
            known = ", ".join(sorted(AUGMENTATIONS))
            raise SpecError(f"{where}.type", f"unknown augmentation {kind!r} (known: {known})")
        validate_params(AUGMENTATIONS[kind], entry.get("params", {}), f"{where}.params", kind)
