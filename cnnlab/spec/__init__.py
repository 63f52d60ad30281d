"""The experiment spec: dataclasses, strict JSON loading, migrations. No Keras here."""

from cnnlab.spec.experiment import SCHEMA_VERSION, Experiment
from cnnlab.spec.graph import Edge, FlatGraph, FlatNode, ModelSpec, ModuleDef, Node
from cnnlab.spec.load import (
    dumps,
    experiment_from_dict,
    load_experiment,
    model_from_dict,
    save_experiment,
)

__all__ = [
    "SCHEMA_VERSION",
    "Edge",
    "Experiment",
    "FlatGraph",
    "FlatNode",
    "ModelSpec",
    "ModuleDef",
    "Node",
    "dumps",
    "experiment_from_dict",
    "load_experiment",
    "model_from_dict",
    "save_experiment",
]
