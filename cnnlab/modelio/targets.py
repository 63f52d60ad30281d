"""The output rule for exports: what may be written where, checked before any work.

An export writes its artifact (a file, or a folder for SavedModel) and a
manifest. Nothing that exists is replaced without ``force``; a file needs the
format's suffix; an existing non-empty folder is replaced (with ``force``)
only when it is a SavedModel the lab wrote, which its manifest says.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlab.errors import CnnlabError, ModelFileError
from cnnlab.modelio.manifest import manifest_path
from cnnlab.outputs import check_output

FORMATS = ("keras", "h5", "savedmodel", "python", "onnx", "litert")
SUFFIXES = {"keras": (".keras",), "h5": (".h5", ".hdf5"), "python": (".py",),
            "onnx": (".onnx",), "litert": (".tflite",)}
FILE_SUFFIXES = (".keras", ".h5", ".hdf5", ".py", ".json", ".npz", ".onnx", ".tflite")
WHAT = {"keras": "the Keras model", "h5": "the HDF5 model", "python": "the Python script",
        "savedmodel": "the SavedModel", "onnx": "the ONNX model", "litert": "the LiteRT model"}


def check_targets(fmt: str, out: str | Path, force: bool = False) -> Path:
    """Check every path an export of ``fmt`` to ``out`` writes; return ``out``.

    Args:
        fmt: One of :data:`FORMATS`.
        out: The artifact's path (a folder for ``savedmodel``).
        force: The user agreed to replace what is there.

    Raises:
        ModelFileError: An unknown format, a wrong suffix, or a folder that
            is not a SavedModel the lab wrote.
        CnnlabError: An existing file or folder without ``force``.
    """
    if fmt not in FORMATS:
        raise ModelFileError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    path = Path(out)
    if fmt == "savedmodel":
        return _check_savedmodel_target(path, force)
    allowed = SUFFIXES[fmt]
    if path.suffix.lower() not in allowed:
        raise ModelFileError(f"a {fmt} export must end in {' or '.join(allowed)} "
                             f"(got {path.name})")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; give a file name")
    for target, suffixes, what in ((path, allowed, WHAT[fmt]),
                                   (manifest_path(path, fmt), (".json",), "the manifest")):
        if target.is_symlink() and not force:  # a dangling link "does not exist"
            raise CnnlabError(f"{target} already exists (a link); use --force to replace it")
        check_output(target, force=force, suffixes=suffixes, what=what)
    return path


def existing_targets(fmt: str, out: str | Path) -> list[Path]:
    """The paths an export would replace (for a window that asks first)."""
    path = Path(out)
    paths = [path] if fmt == "savedmodel" else [path, manifest_path(path, fmt)]
    return [p for p in paths if p.exists() or p.is_symlink()]


def is_lab_savedmodel(path: str | Path) -> bool:
    """True for a folder holding a SavedModel and the manifest the lab writes with it."""
    folder = Path(path)
    if folder.is_symlink() or not folder.is_dir() or not (folder / "saved_model.pb").is_file():
        return False
    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("cnnlab_manifest") == 1 \
        and doc.get("format") == "savedmodel"


def _check_savedmodel_target(path: Path, force: bool) -> Path:
    if path.suffix.lower() in FILE_SUFFIXES:
        raise ModelFileError(f"a SavedModel export is a folder; {path.name} looks like a "
                             f"{path.suffix} file name")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ModelFileError(f"{path} exists and is not a folder; a SavedModel export is "
                             "a folder")
    if not path.exists():
        return path
    if not force:
        raise CnnlabError(f"{path} already exists; use --force to replace it")
    if any(path.iterdir()) and not is_lab_savedmodel(path):
        raise ModelFileError(f"{path} is a folder that is not a SavedModel exported by the "
                             "lab; it is never replaced, even with --force")
    return path
