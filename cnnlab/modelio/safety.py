"""Inspect a model file before Keras deserialises anything from it.

A ``.keras`` file is a zip archive and an ``.h5`` file an HDF5 file; both carry
a JSON model config that names classes and modules to import. This module
reads them without extracting anything to disk and without following links,
and refuses what could run code or touch other files:

* Lambda layers (they carry Python bytecode) and serialized lambdas;
* classes from modules other than ``keras`` and ``cnnlab``, and registered
  custom objects of other packages than ``cnnlab`` (Keras resolves those only
  through its registry, so a ``cnnlab>`` name can only reach the lab's own
  registered serializables);
* zip members with absolute paths or ``..`` components, duplicate or
  unexpected members, corrupted or truncated data;
* HDF5 external links, external-file datasets and virtual datasets.

Pure Python plus h5py (imported when an HDF5 file is read); no TensorFlow.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cnnlab.errors import ModelFileError

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ALLOWED_MODULE_ROOTS = ("keras", "cnnlab")
LAB_PACKAGE = "cnnlab"
CODE_CLASSES = ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__", "__function__")
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
MAX_CONFIG_BYTES = 64 * 2**20
MAX_H5_OBJECTS = 200_000


@dataclass(frozen=True)
class Inspection:
    """What the inspection found in a file that passed it."""

    kind: str  # "keras" or "h5"
    config: dict
    custom_objects: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)


def check_config(config: Any, where: str = "model config") -> tuple[str, ...]:
    """Check a serialized Keras config for anything that is not plain Keras or the lab.

    Args:
        config: The parsed JSON config (any nesting).
        where: What it is, for messages.

    Returns:
        The lab's custom objects it uses (``cnnlab>Maxout``...), sorted.

    Raises:
        ModelFileError: Naming the first refused class, module or custom object.
    """
    found: set[str] = set()
    for obj in _dicts(config):
        class_name = obj.get("class_name")
        if not isinstance(class_name, str):
            continue
        _check_class(class_name, obj, where)
        module = obj.get("module")
        if module is not None:
            _check_module(module, class_name, where)
        for name in (obj.get("registered_name"), class_name):
            if isinstance(name, str) and ">" in name:
                found.add(_check_registered(name, where))
    return tuple(sorted(found))


def check_layer_config(layer: Any) -> tuple[str, ...]:
    """Check one serialized layer (an Opaque block's ``layer`` parameter)."""
    if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str) \
            or not isinstance(layer.get("config", {}), dict):
        raise ModelFileError("an opaque layer needs a serialized Keras layer "
                             "{module, class_name, config}")
    return check_config(layer, f"layer {layer['class_name']}")


def _dicts(value: Any) -> Iterator[dict]:
    """Every dict inside ``value``, iteratively (hostile nesting cannot overflow the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_class(class_name: str, obj: dict, where: str) -> None:
    if class_name in CODE_CLASSES:
        name = obj.get("config", {}).get("name") if isinstance(obj.get("config"), dict) else None
        label = f" {name!r}" if isinstance(name, str) else ""
        raise ModelFileError(f"{where}: refused: it contains a {class_name} layer{label}, "
                             "which runs arbitrary Python code when loaded")


def _check_module(module: Any, class_name: str, where: str) -> None:
    root = module.split(".")[0] if isinstance(module, str) else None
    if root not in ALLOWED_MODULE_ROOTS:
        raise ModelFileError(f"{where}: refused: {class_name!r} comes from module {module!r}; "
                             "only Keras and cnnlab objects are loaded")


def _check_registered(name: str, where: str) -> str:
    if name.partition(">")[0] != LAB_PACKAGE:
        raise ModelFileError(f"{where}: refused: unknown custom object {name!r}; only Keras "
                             "objects and the lab's own (cnnlab>...) are loaded")
    return name


def lab_objects(config: Any) -> dict[str, str]:
    """The lab's registered objects in a serialized config: ``{registered name: module}``."""
    found = {}
    for obj in _dicts(config):
        name = obj.get("registered_name")
        if isinstance(name, str) and name.startswith(f"{LAB_PACKAGE}>"):
            found[name] = str(obj.get("module") or "cnnlab.layers")
    return dict(sorted(found.items()))


def inspect_model_file(path: str | Path) -> Inspection:
    """Check a ``.keras`` or ``.h5`` file without deserialising it.

    Raises:
        ModelFileError: When the file is missing, not a Keras model file,
            damaged, or refused as unsafe; the message says which and why.
    """
    p = Path(path)
    head = _read_head(p)
    suffix = p.suffix.lower()
    if head.startswith(ZIP_MAGIC):
        if suffix != ".keras":
            raise ModelFileError(f"{p.name}: a Keras zip archive must end in .keras")
        return _inspect_keras_zip(p)
    if head.startswith(HDF5_MAGIC):
        if suffix not in (".h5", ".hdf5"):
            raise ModelFileError(f"{p.name}: an HDF5 model file must end in .h5 or .hdf5")
        return _inspect_h5(p)
    raise ModelFileError(f"{p.name}: not a Keras model file (.keras zip or .h5 HDF5)")


def _read_head(p: Path) -> bytes:
    if p.is_dir():
        raise ModelFileError(f"{p}: is a folder; SavedModel folders cannot be imported, "
                             "use a .keras or .h5 file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise ModelFileError(f"{p}: no such file") from None
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    if not head:
        raise ModelFileError(f"{p.name}: the file is empty")
    return head


def _inspect_keras_zip(p: Path) -> Inspection:
    try:
        with zipfile.ZipFile(p) as zf:
            _check_members(p.name, zf)
            config = _zip_json(p.name, zf, "config.json", required=True)
            metadata = _zip_json(p.name, zf, "metadata.json", required=False)
            if "model.weights.h5" in zf.namelist():
                with zf.open("model.weights.h5") as fh:
                    _check_h5_source(fh, f"{p.name}: model.weights.h5")
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        raise ModelFileError(f"{p.name}: damaged or truncated .keras file "
                             f"({first_line(exc)})") from None
    return Inspection("keras", config, _model_config_check(config, p.name),
                      metadata if isinstance(metadata, dict) else {})


def _check_members(name: str, zf: zipfile.ZipFile) -> None:
    seen: set[str] = set()
    for info in zf.infolist():
        member = info.filename
        pure = PurePosixPath(member.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (member[1:2] == ":"):
            raise ModelFileError(f"{name}: refused: archive member {member!r} points outside "
                                 "the archive (path traversal)")
        if member in seen:
            raise ModelFileError(f"{name}: refused: archive member {member!r} appears twice")
        seen.add(member)
        if member not in KERAS_MEMBERS:
            raise ModelFileError(f"{name}: refused: unexpected archive member {member!r} "
                                 f"(a model file holds {', '.join(KERAS_MEMBERS)})")
    bad = zf.testzip()
    if bad is not None:
        raise ModelFileError(f"{name}: damaged .keras file (member {bad!r} fails its checksum)")


def _zip_json(name: str, zf: zipfile.ZipFile, member: str, required: bool) -> Any:
    if member not in zf.namelist():
        if required:
            raise ModelFileError(f"{name}: not a Keras model archive (no {member})")
        return {}
    if zf.getinfo(member).file_size > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{name}: refused: {member} is implausibly large")
    return _parse_json(zf.read(member), f"{name}: {member}")


def _parse_json(raw: bytes | str, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where} is not valid JSON ({first_line(exc)})") from None


def _model_config_check(config: Any, name: str) -> tuple[str, ...]:
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ModelFileError(f"{name}: the model config is not a serialized Keras model")
    # The compile/training configs are never deserialised (models load with
    # compile=False), so only the model itself is checked.
    body = {k: v for k, v in config.items() if k not in ("compile_config", "training_config")}
    return check_config(body, f"{name}")


def _inspect_h5(p: Path) -> Inspection:
    import h5py

    try:
        with h5py.File(p, "r") as f:
            _check_h5_tree(f, p.name)
            raw = f.attrs.get("model_config")
            version = f.attrs.get("keras_version")
    except ModelFileError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{p.name}: damaged or truncated .h5 file "
                             f"({first_line(exc)})") from None
    if raw is None:
        raise ModelFileError(f"{p.name}: holds no model config (a weights-only file?); save "
                             "the whole model with model.save()")
    config = _parse_json(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw),
                         f"{p.name}: model_config")
    meta = {"keras_version": version.decode() if isinstance(version, bytes) else version}
    return Inspection("h5", config, _model_config_check(config, p.name), meta)


def _check_h5_source(fileobj: Any, where: str) -> None:
    import h5py

    try:
        with h5py.File(fileobj, "r") as f:
            _check_h5_tree(f, where)
    except ModelFileError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{where}: damaged HDF5 data ({first_line(exc)})") from None


def check_h5_file(path: str | Path) -> None:
    """Check a weights-only HDF5 file for links and datasets that reach other files."""
    p = Path(path)
    head = _read_head(p)
    if not head.startswith(HDF5_MAGIC):
        raise ModelFileError(f"{p.name}: not an HDF5 weights file")
    _check_h5_source(str(p), p.name)


def _check_h5_tree(root: Any, where: str) -> None:
    """Walk every link without following any; refuse external links and datasets."""
    import h5py

    stack, count = [(root, "")], 0
    while stack:
        group, prefix = stack.pop()
        for key in group.keys():
            count += 1
            if count > MAX_H5_OBJECTS:
                raise ModelFileError(f"{where}: refused: too many HDF5 objects")
            name = f"{prefix}/{key}"
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise ModelFileError(f"{where}: refused: {name} is an external link to "
                                     f"{link.filename!r}")
            if not isinstance(link, h5py.HardLink):
                continue  # soft links point inside the file; never followed here
            obj = group[key]
            if isinstance(obj, h5py.Group):
                stack.append((obj, name))
            elif isinstance(obj, h5py.Dataset) and (obj.external or obj.is_virtual):
                raise ModelFileError(f"{where}: refused: dataset {name} reads its data from "
                                     "another file")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, shortened (or its class name)."""
    text = str(exc).strip().splitlines()
    return (text[0][:160] if text else "") or exc.__class__.__name__
