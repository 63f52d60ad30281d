"""Datasets for CNN Lab: sources, splits, preprocessing and tf.data pipelines.

Sources: ``shapes`` (synthetic, offline, the default), ``npz`` (arrays in the
layout of Keras's ``mnist.npz``), ``folder`` (one sub-folder per class) and
``keras`` (``keras.datasets``: mnist, fashion_mnist, cifar10, cifar100).

Files are read defensively: only regular files of bounded size, ``.npz``
archives checked from their zip directory before inflating, labels and
pixels checked at load time; every skipped file is named (see
:mod:`cnnlab.data.report`).

Importing this package does not import TensorFlow; the functions that need it
import it when called.

Modules:
    loader: ``load_data``, the dispatcher from the spec's data section to splits.
    shapes, npz, keras_datasets, folder: one module per source.
    raw, array_checks: arrays as a source gives them, checked; npz_file: safe npz reading.
    folder_preflight, folder_walk, image_header, safe_read: the folder preflight.
    splits, arrays, pipeline: splits, numpy helpers and tf.data pipelines.
    report, preflight_listing: skipped files named for the terminal and the Data panel.
    keras_names: class names of the Keras datasets.
    revisions: ``data.exclude`` / ``data.relabel`` applied after the split; sample ids.
    cache_plan, image_cache: folder images in memory, in a cache file or streamed (budget).
    health, health_scan, health_splits, health_duplicates, health_near, health_sources,
    health_text, health_files: dataset health (``cnnlab data check``, the Data panel's report).
"""

from cnnlab.data.arrays import class_counts
from cnnlab.data.folder_preflight import PreflightReport, preflight_folder
from cnnlab.data.keras_datasets import KERAS_DATASETS, keras_dataset_file
from cnnlab.data.loader import NORMALIZATIONS, SOURCES, load_data
from cnnlab.data.report import BadFilesError, skipped_lines, write_skipped_listing
from cnnlab.data.shapes import DEFAULT_CLASSES, SHAPE_CLASSES, generate_shapes
from cnnlab.data.splits import DataSplits
from cnnlab.lazy import lazy_exports

__all__ = [
    "DEFAULT_CLASSES",
    "KERAS_DATASETS",
    "NORMALIZATIONS",
    "SHAPE_CLASSES",
    "SOURCES",
    "BadFilesError",
    "DataSplits",
    "PreflightReport",
    "class_counts",
    "generate_shapes",
    "keras_dataset_file",
    "load_data",
    "preflight_folder",
    "skipped_lines",
    "write_skipped_listing",
]

# Public name -> "module:attribute", loaded on first use (see cnnlab.lazy).
_LAZY = {
    "check_data": "cnnlab.data.health:check_data",
    "HealthCheckStopped": "cnnlab.data.health_scan:ScanStopped",
    "health_report_text": "cnnlab.data.health_text:health_text",
    "preflight_text": "cnnlab.data.preflight_listing:preflight_text",
    "skipped_rows": "cnnlab.data.preflight_listing:skipped_rows",
    "split_rows": "cnnlab.data.preflight_listing:split_rows",
}

__all__ = [*__all__, *_LAZY]
__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
