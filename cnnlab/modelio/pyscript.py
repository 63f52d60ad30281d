"""A built model -> a standalone, readable Python script (Keras functional API).

``build_model()`` has one line per layer, named after the lab's block ids and
showing only the arguments that differ from Keras's defaults. The data
pipeline and the training recipe come from :mod:`cnnlab.modelio.pyrecipe`.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import re
from typing import Any

from cnnlab.errors import ModelFileError
from cnnlab.modelio.convert import _plain, _sources, as_functional

RESERVED = {"keras", "np", "cnnlab", "build_model", "compile_model", "sections", "train",
            "check", "main", "argparse", "dataclasses", "json", "sys", "Path", "tf", "SPEC",
            "EXPERIMENT_NAME", "DESCRIPTION", "INPUT_SHAPE", "CLASS_NAMES"}
SKIPPED = {"name", "trainable", "dtype"}
CALL_ROOTS = ("keras", "cnnlab", "float")  # float("inf") for non-finite config values
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
            lines.append(f"{var} = keras.Input(shape={_lit(list(shape))}, name={_lit(name)})")
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
            f"    return keras.Model({first}, {out}, name={_lit(str(model.name))})\n")
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
    args = _non_default(type(layer), serialized["config"]) if qual else {}
    if qual is None or not all(_is_name(k) for k in args):
        serialized.pop("build_config", None)
        return f"keras.saving.deserialize_keras_object({_lit_plain(serialized)})"
    args["name"] = layer.name
    dtype = serialized["config"].get("dtype")
    if isinstance(dtype, dict) and dtype.get("config", {}).get("name") not in (None, "float32"):
        args["dtype"] = dtype["config"]["name"]
    if serialized["config"].get("trainable") is False:
        args["trainable"] = False
    text = ", ".join(f"{k}={_lit(v)}" for k, v in args.items())
    return f"{qual}({text})"


def _is_name(text: Any) -> bool:
    """True for a plain ASCII identifier that is no keyword (safe as code)."""
    return (isinstance(text, str) and text.isascii() and text.isidentifier()
            and not keyword.iskeyword(text))


def _is_dotted(text: Any) -> bool:
    return isinstance(text, str) and all(_is_name(part) for part in text.split("."))


def _public_class(serialized: dict, keras: Any) -> str | None:
    module, cls = str(serialized.get("module") or ""), serialized.get("class_name")
    if not _is_name(cls):
        return None
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
    return _scalar(value)


def _object(value: dict) -> str:
    module, cls, cfg = str(value.get("module") or ""), value["class_name"], value["config"]
    public = module.startswith("keras.") and module.count(".") == 1 and isinstance(cfg, dict)
    named = _is_dotted(module) and _is_name(cls) and isinstance(cfg, dict) \
        and all(_is_name(k) for k in cfg)
    if named and (public or module == "cnnlab.layers"):
        args = ", ".join(f"{k}={_lit(v)}" for k, v in cfg.items())
        return f"{module}.{cls}({args})"
    return f"keras.saving.deserialize_keras_object({_lit_plain(value)})"


def _lit_plain(value: Any) -> str:
    """A literal with no object calls (the argument of deserialize_keras_object)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(str(k))}: {_lit_plain(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_lit_plain(v) for v in value) + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    """A literal for a string (pure ASCII, cannot break out), number, bool or None."""
    if isinstance(value, str):
        return ascii(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({ascii(repr(value))})"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return ascii(str(value))


def check_build_code(text: str) -> None:
    """Refuse generated ``build_model()`` code that is not one call per layer.

    Every statement must be an assignment or the return, and every call a
    ``keras.*``/``cnnlab.*`` attribute (a belt to the literals' braces).

    Raises:
        ModelFileError: Naming what does not fit.
    """
    import ast

    try:
        (func,) = ast.parse(text).body
    except (SyntaxError, ValueError):
        raise ModelFileError("Python export: build_model() does not parse") from None
    for stmt in func.body[1:]:
        if not isinstance(stmt, (ast.Assign, ast.Return)):
            raise ModelFileError(f"Python export: unexpected statement in build_model() "
                                 f"(line {stmt.lineno})")
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and _call_root(node.func) not in CALL_ROOTS:
            raise ModelFileError(f"Python export: unexpected call in build_model() "
                                 f"(line {node.lineno})")
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.FunctionDef)) \
                and node is not func:
            raise ModelFileError("Python export: unexpected code in build_model()")


def _call_root(func: Any) -> str:
    import ast

    while isinstance(func, (ast.Attribute, ast.Call)):
        func = func.value if isinstance(func, ast.Attribute) else func.func
    return func.id if isinstance(func, ast.Name) else ""
