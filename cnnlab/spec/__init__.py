"""The experiment spec: dataclasses, strict JSON loading, migrations. No Keras here.

Modules:
    experiment, graph, sections, schema: the document's dataclasses.
    load, jsonsafe, migrate: strict, bounded loading and saving; older versions migrated.
    expand, toposort: module expansion and topological order (graphlib).
    edit, ids, module_library: the canvas's pure edits, block ids, module definitions.
    diff, architecture: what changed between two specs; a network in a few words.
"""

from cnnlab.lazy import lazy_exports
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

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "DataSpec": "cnnlab.spec.sections:DataSpec",
    "EditRefused": "cnnlab.spec.edit:EditRefused",
    "MixSpec": "cnnlab.spec.sections:MixSpec",
    "RunLabel": "cnnlab.spec.diff:RunLabel",
    "ShapesSpec": "cnnlab.spec.sections:ShapesSpec",
    "TrainingSpec": "cnnlab.spec.sections:TrainingSpec",
    "add_block": "cnnlab.spec.edit:add_block",
    "all_ids": "cnnlab.spec.edit:all_ids",
    "architecture_summary": "cnnlab.spec.architecture:architecture_summary",
    "collapsed": "cnnlab.spec.edit:collapsed",
    "connect": "cnnlab.spec.edit:connect",
    "data_classes": "cnnlab.spec.edit:data_classes",
    "delete": "cnnlab.spec.edit:delete",
    "fit_output_classes": "cnnlab.spec.edit:fit_output_classes",
    "label_runs": "cnnlab.spec.diff:label_runs",
    "module_template": "cnnlab.spec.module_library:template",
    "module_template_names": "cnnlab.spec.module_library:template_names",
    "move": "cnnlab.spec.edit:move",
    "new_id": "cnnlab.spec.ids:new_id",
    "positions": "cnnlab.spec.edit:positions",
    "rename_experiment": "cnnlab.spec.edit:rename_experiment",
    "section_params": "cnnlab.spec.schema:section_params",
    "set_params": "cnnlab.spec.edit:set_params",
    "with_graph": "cnnlab.spec.edit:with_graph",
    "with_ui": "cnnlab.spec.edit:with_ui",
}

__all__ = [*__all__, *_LAZY]
__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
