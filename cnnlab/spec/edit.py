"""Pure edits of an experiment: each returns a new value, never mutates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cnnlab.errors import SpecError
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.graph import ModelSpec, Node


def set_node_params(model: ModelSpec, node_id: str, **params: Any) -> ModelSpec:
    """A model with some params of one top-level node replaced."""
    nodes = tuple(
        Node(n.id, n.type, {**n.params, **params}) if n.id == node_id else n for n in model.nodes
    )
    return replace(model, nodes=nodes)


def retarget(exp: Experiment, input_shape: list[int] | None = None,
             classes: int | None = None) -> Experiment:
    """The experiment with a new input shape and/or number of classes.

    The Input block takes the new shape and every Output block the new class
    count; everything between re-derives its shapes in the analysis.

    Raises:
        SpecError: When the model has no Input (for a shape) or no Output (for classes).

    """
    model = exp.model
    if input_shape is not None:
        ids = [n.id for n in model.nodes if n.type == "Input"]
        if not ids:
            raise SpecError("model.nodes", "the model has no Input block to resize")
        for nid in ids:
            model = set_node_params(model, nid, shape=list(input_shape))
    if classes is not None:
        ids = [n.id for n in model.nodes if n.type == "Output"]
        if not ids:
            raise SpecError("model.nodes", "the model has no Output block to set classes on")
        for nid in ids:
            model = set_node_params(model, nid, units=int(classes))
    from cnnlab.spec.load import model_from_dict

    return replace(exp, model=model_from_dict(model.to_dict(), "model"))
