"""Model I/O: verified exports, safe imports, Python scripts and pretrained bases.

Importing this package is cheap: TensorFlow and Keras load only when a
function that needs them is called.
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
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = sorted(_LAZY)
