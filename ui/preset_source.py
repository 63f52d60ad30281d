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
import cnnlab.presetlib
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

    Without ``classes`` the output is fitted to the data (a small head makes the
    shapes dataset draw as many shapes; ImageNet's 1000 become the dataset's
    classes). Given ``classes`` the network keeps them; only the shapes dataset
    may follow (see :func:`cnnlab.match_data`).

    Raises:
        SpecError: For an unknown preset or values it cannot take.
    """
    lib = _library()
    if lib is not None:
        exp = lib[1](name, input_shape=input_shape, classes=classes, width=width)
        fitted = cnnlab.match_data(exp)[0]  # trainable on its dataset as loaded
        return fitted if classes is None or output_units(fitted) == classes else exp
    spec = _default_file()["experiment"]
    for node in spec["model"]["nodes"]:
        if node["type"] == "Input" and input_shape is not None:
            node["params"]["shape"] = list(input_shape)
        if node["type"] == "Output" and classes is not None:
            node["params"]["units"] = int(classes)
    return experiment_from_dict(spec)


def output_units(exp: Experiment) -> int | None:
    """The units of the model's Output block (None without exactly one)."""
    units = [n.params.get("units") for n in exp.model.nodes if n.type == "Output"]
    return units[0] if len(units) == 1 else None


def published_params(name: str) -> int | None:
    """The preset's learned parameters at its canonical size and classes (the paper's)."""
    try:
        return cnnlab.presetlib.preset_info(name).params
    except (ImportError, AttributeError):
        return None


def data_classes(exp: Experiment) -> int | None:
    """The class count of the experiment's data when known without loading it."""
    from cnnlab.presetlib import data_classes as count

    return count(exp)


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
