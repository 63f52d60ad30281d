"""The inspection methods and the limits of the ascent settings (fantasy, deep dream).

Light on purpose (no TensorFlow): the CLI checks its options with these before
it loads a model, and the window's spin boxes take their ranges from here.
"""

from __future__ import annotations

from cnnlab.inspect.errors import InspectError

METHODS = ("filters", "feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam",
           "fantasy", "deep-dream", "confusion")
# name -> (least, most); steps count per octave for deep dream
LIMITS = {"octaves": (1, 8), "steps": (1, 5000), "step_size": (1e-4, 1.0)}
DREAM_DEFAULTS = {"octaves": 3, "steps": 20, "step_size": 0.01}
FANTASY_DEFAULTS = {"steps": 100, "step_size": 0.02}


def check_setting(name: str, value: float, label: str | None = None) -> None:
    """Raise :class:`InspectError` when ``value`` is outside ``LIMITS[name]``.

    Args:
        name: ``octaves``, ``steps`` or ``step_size``.
        value: The value asked for.
        label: How to call it in the message (default: the name with spaces).

    Raises:
        InspectError: One line naming the setting, its range and the value.

    """
    lo, hi = LIMITS[name]
    if not lo <= value <= hi:
        raise InspectError(f"{label or name.replace('_', ' ')} must be in {lo:g}..{hi:g} "
                           f"(got {value:g})")


def check_dream(octaves: int, steps: int, step_size: float, octave_scale: float = 1.4) -> None:
    """Check every deep-dream setting (see :func:`check_setting`).

    Raises:
        InspectError: For the first setting out of range.

    """
    check_setting("octaves", octaves, "Deep dream octaves")
    check_setting("steps", steps, "Deep dream steps")
    check_setting("step_size", step_size, "Deep dream step size")
    if not 1 < octave_scale <= 4:
        raise InspectError(f"Deep dream octave scale must be in (1, 4] (got {octave_scale:g})")
