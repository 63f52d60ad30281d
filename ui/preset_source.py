"""Where the window gets presets: the core's preset library, or the bundled default.

The preset library (``cnnlab.list_presets`` / ``load_preset`` /
``default_experiment``) is the source. While it is missing (an older core),
the window still opens with ``presets/default.json`` read through
``importlib.resources``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cnnlab
from cnnlab import Analysis, Experiment, analyze, experiment_from_dict


@dataclass(frozen=True)
class PresetEntry:
    """What the presets dialog shows about one preset."""

    name: str
    title: str
    description: str
    input_shape: tuple[int, ...]
    classes: int
    adjustable: tuple[str, ...] = ("input_shape", "classes")
    paper: str = ""


def _library():
    try:
        return cnnlab.list_presets, cnnlab.load_preset, cnnlab.default_experiment
    except (ImportError, AttributeError):
        return None


def list_presets() -> list[PresetEntry]:
    """Every preset, in the library's (teaching) order."""
    lib = _library()
    if lib is None:
        raw = _default_file()
        return [PresetEntry("default", raw.get("title", "Default"), raw.get("description", ""),
                            tuple(raw["input_shape"]), int(raw["classes"]))]
    return [PresetEntry(p.name, p.title, p.description, tuple(p.input_shape), p.classes,
                        tuple(getattr(p, "adjustable", ("input_shape", "classes"))),
                        getattr(p, "paper", "")) for p in lib[0]()]


def load_preset(name: str, input_shape: Sequence[int] | None = None,
                classes: int | None = None, width: float = 1.0) -> Experiment:
    """Load a preset, re-derived for another input size and class count.

    Raises:
        SpecError: For an unknown preset or values it cannot take.
    """
    lib = _library()
    if lib is not None:
        exp = lib[1](name, input_shape=input_shape, classes=classes, width=width)
        return cnnlab.match_data(exp)[0]  # trainable on its dataset as loaded
    spec = _default_file()["experiment"]
    for node in spec["model"]["nodes"]:
        if node["type"] == "Input" and input_shape is not None:
            node["params"]["shape"] = list(input_shape)
        if node["type"] == "Output" and classes is not None:
            node["params"]["units"] = int(classes)
    return experiment_from_dict(spec)


def default_experiment() -> Experiment:
    """The experiment a new document starts with."""
    lib = _library()
    if lib is not None:
        return lib[2]()
    return experiment_from_dict(_default_file()["experiment"])


def analysis_of(exp: Experiment) -> Analysis:
    """The analysis of an experiment's model (its parameter count, its problems)."""
    return analyze(exp.model, exp.training.regularization.batchnorm)


def _default_file() -> dict[str, Any]:
    text = resources.files("cnnlab.presets").joinpath("default.json").read_text("utf-8")
    return json.loads(text)
