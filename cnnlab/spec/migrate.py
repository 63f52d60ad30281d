"""Migrations of older experiment files to the current schema version.

Version 0 (the first prototype) stored a purely sequential model as
``model.layers: [{name, type, params}]`` with no edges. Each migration takes
the dict of one version and returns the dict of the next.
"""

from __future__ import annotations

from typing import Any

from cnnlab.errors import SpecError, brief


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    model = dict(data.get("model") or {})
    layers = model.pop("layers", None)
    if layers is not None:
        if not isinstance(layers, list):
            raise SpecError("model.layers", "must be a list of layers")
        nodes = []
        for i, layer in enumerate(layers):
            if not isinstance(layer, dict):
                raise SpecError(f"model.layers[{i}]", "must be an object")
            nodes.append({"id": layer.get("name", f"layer{i + 1}"), "type": layer.get("type"),
                          "params": layer.get("params", {})})
        model["nodes"] = nodes
        model["edges"] = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {**data, "model": model, "schema_version": 1}


MIGRATIONS = {0: _v0_to_v1}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring ``data`` up to the current schema version.

    Raises:
        SpecError: For a version newer than this lab knows, or not a number.

    """
    from cnnlab.spec.experiment import SCHEMA_VERSION

    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise SpecError("schema_version", f"must be a version number (got {brief(version)})")
    if version > SCHEMA_VERSION:
        raise SpecError("schema_version", f"version {version} is newer than this lab "
                        f"understands ({SCHEMA_VERSION}); update cnnlab")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = data["schema_version"]
    return data
