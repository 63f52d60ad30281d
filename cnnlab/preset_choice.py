"""Presets as the window offers them: fitted to the data, with the paper's count beside.

The preset library (:mod:`cnnlab.presetlib`) holds the networks as published;
this module adds what a user choosing one needs to see: the network fitted to
the dataset's classes unless the user keeps the paper's, the output units, the
published parameter count, and the analysis of what they will get.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab import presetlib
from cnnlab.analysis import Analysis, analyze
from cnnlab.presetlib import match_data
from cnnlab.spec import Experiment

__all__ = ["analysis_of", "fitted_preset", "output_units", "published_params"]


def fitted_preset(name: str, input_shape: Sequence[int] | None = None,
                classes: int | None = None, width: float = 1.0) -> Experiment:
    """Load a preset, re-derived for another input size and class count.

    Without ``classes`` the output is fitted to the data (a small head makes the
    shapes dataset draw as many shapes; ImageNet's 1000 become the dataset's
    classes). Given ``classes`` the network keeps them; only the shapes dataset
    may follow (see :func:`cnnlab.presetlib.match_data`).

    Raises:
        SpecError: For an unknown preset or values it cannot take.
    """
    exp = presetlib.load_preset(name, input_shape=input_shape, classes=classes, width=width)
    fitted = match_data(exp)[0]  # trainable on its dataset as loaded
    return fitted if classes is None or output_units(fitted) == classes else exp


def output_units(exp: Experiment) -> int | None:
    """The units of the model's Output block (None without exactly one)."""
    units = [n.params.get("units") for n in exp.model.nodes if n.type == "Output"]
    return units[0] if len(units) == 1 else None


def published_params(name: str) -> int:
    """The preset's learned parameters at its canonical size and classes (the paper's)."""
    return presetlib.preset_info(name).params


def analysis_of(exp: Experiment) -> Analysis:
    """The analysis of an experiment's model (its parameter count, its problems)."""
    return analyze(exp.model, exp.training.regularization.batchnorm)
