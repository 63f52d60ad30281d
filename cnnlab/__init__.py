"""CNN Lab: build, train and understand convolutional networks (headless core).

This module is the public API the window and the CLI use. Light names (spec,
catalogue, analysis) import at once; names that need TensorFlow load lazily
on first use, so ``import cnnlab`` stays fast.
"""

from cnnlab.analysis import Analysis, LayerInfo, Problem, analyze
from cnnlab.blocks import BLOCKS, GROUPS, REG_PARAM_NAMES, blocks_by_group, get_block
from cnnlab.errors import CnnlabError, DataError, ModelFileError, RunError, SpecError
from cnnlab.lazy import lazy_exports
from cnnlab.params import Param
from cnnlab.spec import (
    SCHEMA_VERSION,
    Edge,
    Experiment,
    ModelSpec,
    ModuleDef,
    Node,
    dumps,
    experiment_from_dict,
    load_experiment,
    model_from_dict,
    save_experiment,
)

__version__ = "0.1.0"

# name -> "module:attribute"; resolved on first access.
_LAZY = {
    "build_model": "cnnlab.build:build_model",
    "block_output": "cnnlab.build:block_output",
    "list_presets": "cnnlab.presetlib:list_presets",
    "load_preset": "cnnlab.presetlib:load_preset",
    "default_experiment": "cnnlab.presetlib:default_experiment",
    "match_data": "cnnlab.presetlib:match_data",
    "RunStore": "cnnlab.runs.store:RunStore",
    "default_workspace": "cnnlab.runs.workspace:default_workspace",
    "diff_specs": "cnnlab.spec.diff:diff_specs",
    "Control": "cnnlab.train.events:Control",
    "events": "cnnlab.train.events",
    "run_training": "cnnlab.train.trainer:run",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "BLOCKS", "GROUPS", "REG_PARAM_NAMES", "SCHEMA_VERSION", "Analysis", "CnnlabError",
    "DataError", "Edge", "Experiment", "LayerInfo", "ModelFileError", "ModelSpec",
    "ModuleDef", "Node", "Param", "Problem", "RunError", "SpecError", "analyze",
    "blocks_by_group", "dumps", "experiment_from_dict", "get_block", "load_experiment",
    "model_from_dict", "save_experiment", *_LAZY,
]
