"""A built model -> a standalone, readable Python script (Keras functional API).

``build_model()`` has one line per layer, named after the lab's block ids and
showing only the arguments that differ from Keras's defaults. The data
pipeline and the training recipe come from :mod:`cnnlab.modelio.pyrecipe`.
"""

from __future__ import annotations

import builtins
import inspect
import json
import keyword
import re
from typing import Any

from cnnlab.modelio.convert import _plain, _sources, as_functional

RESERVED = {"keras", "np", "cnnlab", "build_model", "load_data", "compile_model", "main",
            "model", "tf", "callbacks"}
SKIPPED = {"name", "trainable", "dtype"}
_MISSING = object()


def model_code(model: Any) -> str:
    """The source of ``build_model()`` for a built model."""
    model = as_functional(model)
    config = _plain(model.get_config())
    names: dict[str, str] = {}
    lines = []
    for layer_cfg in config["layers"]:
        name = layer_cfg["name"]
        var = names[name] = _variable(name, set(names.values()))
        if layer_cfg["class_name"] == "InputLayer":
            shape = tuple(layer_cfg["config"]["batch_shape"][1:])
            lines.append(f"{var} = keras.Input(shape={shape!r}, name={json.dumps(name)})")
            continue
        srcs = [names[src] for src, _ in _sources(layer_cfg)]
        arg = srcs[0] if len(srcs) == 1 else f"[{', '.join(srcs)}]"
        expr = _constructor(model.get_layer(name))
        lines.append(f"{var} = {expr}({arg})")
    out = names[config["output_layers"][0][0] if isinstance(config["output_layers"][0], list)
                else config["output_layers"][0]]
    first = names[config["layers"][0]["name"]]
    body = "\n".join(f"    {line}" for line in lines)
    text = (f"def build_model():\n"
            f'    """The network, one line per layer; layer names are the lab\'s block ids."""\n'
            f"{body}\n"
            f"    return keras.Model({first}, {out}, name={json.dumps(model.name)})\n")
    return text


def _variable(name: str, used: set[str]) -> str:
    var = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not var[:1].isalpha():
        var = f"layer_{var}"
    if keyword.iskeyword(var) or var in RESERVED or hasattr(builtins, var):
        var += "_"
    while var in used:
        var += "_"
    return var


def _constructor(layer: Any) -> str:
    """``keras.layers.Conv2D(filters=8, ..., name="conv1")``: the call that makes ``layer``."""
    import keras

    serialized = _plain(keras.saving.serialize_keras_object(layer))
    qual = _public_class(serialized, keras)
    if qual is None:
        serialized.pop("build_config", None)
        return f"keras.saving.deserialize_keras_object({_lit_plain(serialized)})"
    args = _non_default(type(layer), serialized["config"])
    args["name"] = layer.name
    dtype = serialized["config"].get("dtype")
    if isinstance(dtype, dict) and dtype.get("config", {}).get("name") not in (None, "float32"):
        args["dtype"] = dtype["config"]["name"]
    if serialized["config"].get("trainable") is False:
        args["trainable"] = False
    text = ", ".join(f"{k}={_lit(v)}" for k, v in args.items())
    return f"{qual}({text})"


def _public_class(serialized: dict, keras: Any) -> str | None:
    module, cls = str(serialized.get("module") or ""), serialized.get("class_name")
    if module == "cnnlab.layers":
        return f"cnnlab.layers.{cls}"
    if module.startswith("keras") and isinstance(getattr(keras.layers, str(cls), None), type):
        return f"keras.layers.{cls}"
    return None


def _non_default(cls: type, config: dict) -> dict[str, Any]:
    """The config entries a reader needs: required arguments, then those off the defaults."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    required = [p.name for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    out = {k: config[k] for k in required if k in config}
    try:
        defaults = _plain(cls(**out).get_config())
    except Exception:  # a class that needs more than its required arguments
        defaults = {}
    for key, value in config.items():
        if key not in SKIPPED and key not in out and defaults.get(key, _MISSING) != value:
            out[key] = value
    return out


def _lit(value: Any) -> str:
    """A Python expression for a config value; serialized Keras objects become calls."""
    if isinstance(value, dict):
        if isinstance(value.get("class_name"), str) and "config" in value:
            return _object(value)
        items = ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        inner = ", ".join(_lit(v) for v in value)
        if value and all(isinstance(v, (int, list)) and not isinstance(v, bool) for v in value):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _object(value: dict) -> str:
    module, cls, cfg = str(value.get("module") or ""), value["class_name"], value["config"]
    public = module.startswith("keras.") and module.count(".") == 1 and isinstance(cfg, dict)
    if public or module == "cnnlab.layers":
        args = ", ".join(f"{k}={_lit(v)}" for k, v in cfg.items())
        return f"{module}.{cls}({args})"
    return f"keras.saving.deserialize_keras_object({_lit_plain(value)})"


def _lit_plain(value: Any) -> str:
    """A literal with no object calls (the argument of deserialize_keras_object)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_lit_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_lit_plain(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)
