"""Model I/O: verified exports, safe imports, Python scripts and pretrained bases.

Importing this package is cheap: TensorFlow and Keras load only when a
function that needs them is called.

Modules:
    export, targets, verify, manifest: verified exports and their output rule.
    runtimes: ONNX and LiteRT through Keras's ``model.export``, checked in their runtimes.
    pyscript, pyrecipe: the standalone Python script export.
    safety, loader: model files inspected before Keras reads them in safe mode.
    importer, convert, mapping: Keras model files -> editable experiments.
    bases, splice: pretrained bases and putting them into an experiment.
    fully_conv, fully_conv_file: the lectures' FC-to-convolution conversion.
"""

from __future__ import annotations

from cnnlab.lazy import lazy_exports

# name -> "module:attribute"; resolved on first access.
_LAZY = {
    "ExportResult": "cnnlab.modelio.export:ExportResult",
    "FORMATS": "cnnlab.modelio.export:FORMATS",
    "export_model": "cnnlab.modelio.export:export_model",
    "export_run": "cnnlab.modelio.export:export_run",
    "check_targets": "cnnlab.modelio.targets:check_targets",
    "existing_targets": "cnnlab.modelio.targets:existing_targets",
    "ImportResult": "cnnlab.modelio.importer:ImportResult",
    "import_model_file": "cnnlab.modelio.importer:import_model_file",
    "set_weights": "cnnlab.modelio.importer:set_weights",
    "inspect_model_file": "cnnlab.modelio.safety:inspect_model_file",
    "application_names": "cnnlab.modelio.bases:application_names",
    "weights_file": "cnnlab.modelio.bases:weights_file",
    "load_base": "cnnlab.modelio.bases:load_base",
    "insert_base": "cnnlab.modelio.splice:insert_base",
    "load_base_weights": "cnnlab.modelio.splice:load_base_weights",
    "base_model": "cnnlab.modelio.splice:base_model",
    "convert_run": "cnnlab.modelio.fully_conv_file:convert_run",
    "fully_convolutional": "cnnlab.modelio.fully_conv:fully_convolutional",
    "input_shape": "cnnlab.modelio.splice:input_shape",
    "map_rect": "cnnlab.modelio.fully_conv:map_rect",
    "missing_extra": "cnnlab.modelio.runtimes:missing_extra",
    "mosaic": "cnnlab.modelio.fully_conv:mosaic",
    "preset_layers": "cnnlab.modelio.splice:preset_layers",
    "scene_size": "cnnlab.modelio.fully_conv:scene_size",
    "score_maps": "cnnlab.modelio.fully_conv:score_maps",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = sorted(_LAZY)
