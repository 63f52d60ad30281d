"""CNN Lab: build, train and understand convolutional networks (headless core).

The public API is this module and the subpackages it names below; each
``__init__`` lists its public names and maps its modules. The window
(``cnnlab.ui``) imports nothing else, and an import-linter contract in
``pyproject.toml`` fails CI when it does. Light names (spec, catalogue,
analysis) import at once; names that need TensorFlow load lazily on first use
(:mod:`cnnlab.lazy`), so ``import cnnlab`` stays fast.

Subpackages:
    spec: the experiment document, strict loading, graph edits, spec diff.
    blocks: the layer-block catalogue. diagram: the network diagram without Qt.
    data: datasets (one module per source), splits, pipelines, preflight.
    recipe: optimizers, schedules, losses, regularization, augmentation, transfer.
    train: the trainer, its events and per-epoch observers. runs: the run store.
    studies: many runs of one experiment with Optuna, and the lectures' studies.
    plan: before training: memory and time plans, the learning-rate range test.
    inspect: filters, feature maps, attribution, fantasy, dream, evaluation.
    modelio: verified exports, safe import, pretrained bases, conversions.
    report: the HTML report of a run. cli: the ``cnnlab`` command.
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
    "analysis_of": "cnnlab.preset_choice:analysis_of",
    "analyze_experiment": "cnnlab.analysis:analyze_experiment",
    "atomic_write_bytes": "cnnlab.atomic:atomic_write_bytes",
    "check_output": "cnnlab.outputs:check_output",
    "compact": "cnnlab.formatting:compact",
    "field_text": "cnnlab.formatting:field_text",
    "fitted_preset": "cnnlab.preset_choice:fitted_preset",
    "format_duration": "cnnlab.formatting:format_duration",
    "grouped": "cnnlab.formatting:grouped",
    "import_tensorflow": "cnnlab.tfquiet:import_tensorflow",
    "output_classes_problems": "cnnlab.analysis:output_classes_problems",
    "output_units": "cnnlab.preset_choice:output_units",
    "preset_names": "cnnlab.presetlib:preset_names",
    "published_params": "cnnlab.preset_choice:published_params",
    "pyside_build_problem": "cnnlab.startup_check:pyside_build_problem",
    "quiet_environment": "cnnlab.tfquiet:quiet_environment",
    "shape_text": "cnnlab.formatting:shape_text",
    "window_start_problem": "cnnlab.startup_check:window_start_problem",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "BLOCKS", "GROUPS", "REG_PARAM_NAMES", "SCHEMA_VERSION", "Analysis", "CnnlabError",
    "DataError", "Edge", "Experiment", "LayerInfo", "ModelFileError", "ModelSpec",
    "ModuleDef", "Node", "Param", "Problem", "RunError", "SpecError", "analyze",
    "blocks_by_group", "dumps", "experiment_from_dict", "get_block", "load_experiment",
    "model_from_dict", "save_experiment", *_LAZY,
]
