"""Network presets: the classic CNNs as editable experiment graphs.

A preset is a data file ``presets/<name>.json`` shipped as the package data
``cnnlab.presets``: a title, a one-line description, the paper, the canonical
input shape and class count, and a full experiment spec. Loading one can
re-derive it for another input size, class count or width: the Input block
takes the new shape, the Output block the new class count, and every
convolution and dense layer (module parameters included) is scaled by the
width multiplier. Pure Python: no TensorFlow here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cnnlab.analysis import Totals, analyze
from cnnlab.blocks.registry import BLOCKS
from cnnlab.errors import SpecError
from cnnlab.spec.edit import retarget
from cnnlab.spec.experiment import Experiment
from cnnlab.spec.load import experiment_from_dict

PACKAGE = "cnnlab.presets"
ADJUSTABLE = ("input_shape", "classes", "width")
HEADER_KEYS = ("name", "title", "description", "paper", "input_shape", "classes",
               "adjustable", "experiment")
# The teaching order of the menus; other preset files follow alphabetically.
TEACHING_ORDER = ("default", "mlp128", "lenet5", "alexnet", "vgg11", "vgg13", "vgg16",
                  "vgg19", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101",
                  "resnet152", "resnet20", "resnet56", "vgg_cifar", "allconv")
# Block types whose width scales with the multiplier, and the parameter that holds it.
WIDTH_PARAMS = {"Conv2D": "filters", "SeparableConv2D": "filters",
                "Conv2DTranspose": "filters", "Dense": "units", "Maxout": "units"}
MAX_WIDTH = 16.0


@dataclass(frozen=True)
class PresetInfo:
    """What a menu shows about a preset; sizes come from the analysis, lazily."""

    name: str
    title: str
    description: str
    paper: str
    input_shape: tuple[int, ...]
    classes: int
    adjustable: tuple[str, ...]

    @property
    def params(self) -> int:
        """Total parameters at the canonical size (as Keras counts them)."""
        return _canonical_totals(self.name).params

    @property
    def trainable_params(self) -> int:
        """Learned parameters at the canonical size (without batch-norm statistics)."""
        return _canonical_totals(self.name).trainable_params

    @property
    def macs(self) -> int:
        """Multiply-adds of one image at the canonical size."""
        return _canonical_totals(self.name).macs


def preset_names() -> list[str]:
    """List the names of every preset file, in teaching order."""
    root = resources.files(PACKAGE)
    found = {p.name[:-5] for p in root.iterdir() if p.name.endswith(".json")}
    first = [n for n in TEACHING_ORDER if n in found]
    return first + sorted(found - set(first))


def list_presets() -> list[PresetInfo]:
    """Describe every preset, in teaching order.

    Raises:
        SpecError: When a preset file is broken (a bug in the lab's data).

    """
    return [preset_info(name) for name in preset_names()]


def preset_info(name: str) -> PresetInfo:
    """Describe one preset (its header; sizes are computed on first use).

    Raises:
        SpecError: For an unknown name or a broken file.

    """
    raw = read_preset(name)
    return PresetInfo(raw["name"], raw["title"], raw["description"], raw["paper"],
                      tuple(raw["input_shape"]), raw["classes"], tuple(raw["adjustable"]))


def read_preset(name: str) -> dict[str, Any]:
    """Read the parsed, header-checked preset file (a fresh copy each call).

    Raises:
        SpecError: For an unknown name or a broken file.

    """
    if not isinstance(name, str):
        raise SpecError("", f"a preset name must be a string (got {name!r})")
    return json.loads(_preset_text(name))


def load_preset(name: str, input_shape: Sequence[int] | None = None,
                classes: int | None = None, width: float = 1.0) -> Experiment:
    """Load a preset as an experiment, optionally re-derived for other data.

    The result may not fit an input that is too small for the network (its
    analysis then has problems, which the editor shows); see
    :func:`check_preset_fits`.

    Args:
        name: The preset name (``vgg16``).
        input_shape: New ``[H, W, C]`` of the Input block.
        classes: New number of units of the Output block.
        width: Multiplier of every convolution's filters and dense layer's
            units (module parameters and inception branches included, the
            Output never); rounded, at least 1.

    Returns:
        The validated experiment.

    Raises:
        SpecError: For an unknown preset or a bad argument.

    """
    raw = read_preset(name)
    spec = raw["experiment"]
    where = f"preset {name}"
    if input_shape is not None:
        _need_adjustable(raw, "input_shape")
        _set_input_shape(spec["model"], _check_shape(input_shape, where))
    if classes is not None:
        _need_adjustable(raw, "classes")
        _set_classes(spec["model"], _check_classes(classes, where))
    if width != 1.0:
        _need_adjustable(raw, "width")
        scale_width(spec["model"], _check_width(width, where))
    return experiment_from_dict(spec)


def default_experiment() -> Experiment:
    """Load the lab's starting experiment (the ``default`` preset)."""
    return load_preset("default")


def check_preset_fits(exp: Experiment) -> list[str]:
    """List the analysis's errors for ``exp`` as sentences; empty when the network fits."""
    result = analyze(exp.model, exp.training.regularization.batchnorm)
    return [str(p) for p in result.errors()]


def scale_width(model: dict[str, Any], width: float) -> None:
    """Scale filters and units of a model dict in place (never the Output block).

    Literal values of blocks are scaled, in modules too, and so are the module
    parameters that feed a ``filters`` or ``units`` (both their defaults and
    the values instances give), so shortcuts and concatenations stay consistent.
    """
    modules = model.get("modules", {})
    feeds = width_module_params(modules)
    for mod_name, mod in modules.items():
        mod["params"] = {k: _scaled(v, width) if k in feeds[mod_name] else v
                         for k, v in mod.get("params", {}).items()}
        for node in mod["nodes"]:
            _scale_node(node, feeds, width)
    for node in model["nodes"]:
        _scale_node(node, feeds, width)


def width_module_params(modules: Mapping[str, Any]) -> dict[str, set[str]]:
    """Find, for each module, the parameters that end up as a block's filters or units."""
    feeds: dict[str, set[str]] = {name: set() for name in modules}
    changed = True
    while changed:  # a fixed point, for modules that use other modules
        changed = False
        for name, mod in modules.items():
            found = set(_refs_to_width(mod["nodes"], feeds))
            if not found <= feeds[name]:
                feeds[name] |= found
                changed = True
    return feeds


def _refs_to_width(nodes: Iterable[Mapping[str, Any]],
                   feeds: Mapping[str, set[str]]) -> Iterable[str]:
    for node in nodes:
        params = node.get("params", {})
        keys = feeds.get(node["type"], {WIDTH_PARAMS.get(node["type"])})
        for key in keys:
            value = params.get(key)
            if isinstance(value, str) and value.startswith("$"):
                yield value[1:]


def _scale_node(node: dict[str, Any], feeds: Mapping[str, set[str]], width: float) -> None:
    params = node.setdefault("params", {})
    kind = node["type"]
    if kind in feeds:
        for key in feeds[kind] & set(params):
            params[key] = _scaled(params[key], width)
    elif kind in WIDTH_PARAMS:
        key = WIDTH_PARAMS[kind]
        if key not in params:
            params[key] = next(p.default for p in BLOCKS[kind].params if p.name == key)
        params[key] = _scaled(params[key], width)


def _scaled(value: Any, width: float) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, round(value * width))
    return value  # a "$reference": its module parameter is scaled instead


def _set_input_shape(model: dict[str, Any], shape: list[int]) -> None:
    for node in model["nodes"]:
        if node["type"] == "Input":
            node.setdefault("params", {})["shape"] = shape


def _set_classes(model: dict[str, Any], classes: int) -> None:
    for node in model["nodes"]:
        if node["type"] == "Output":
            node.setdefault("params", {})["units"] = classes


def _check_shape(shape: Any, where: str) -> list[int]:
    ok = (isinstance(shape, Sequence) and not isinstance(shape, str) and len(shape) in (1, 3)
          and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape))
    if not ok:
        raise SpecError(where, f"input shape must be [H, W, C] with positive integers "
                        f"(got {shape!r})")
    return list(shape)


def _check_classes(classes: Any, where: str) -> int:
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise SpecError(where, f"classes must be a positive integer (got {classes!r})")
    return classes


def _check_width(width: Any, where: str) -> float:
    if (not isinstance(width, (int, float)) or isinstance(width, bool)
            or not math.isfinite(width) or not 0 < width <= MAX_WIDTH):
        raise SpecError(where, f"width must be a number above 0 and at most {MAX_WIDTH:g} "
                        f"(got {width!r})")
    return float(width)


def _need_adjustable(raw: Mapping[str, Any], what: str) -> None:
    if what not in raw["adjustable"]:
        raise SpecError(f"preset {raw['name']}", f"its {what.replace('_', ' ')} cannot be "
                        "changed")


@cache
def _preset_text(name: str) -> str:
    """Read the file's text, checking that it exists and that its header is sound."""
    names = preset_names()
    if name not in names:
        raise SpecError("", f"unknown preset {name!r} (known: {', '.join(names)})")
    text = (resources.files(PACKAGE) / f"{name}.json").read_text(encoding="utf-8")
    where = f"presets/{name}.json"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(where, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    _check_header(raw, name, where)
    return text


def _check_header(raw: Any, name: str, where: str) -> None:
    if not isinstance(raw, dict):
        raise SpecError(where, "a preset file must hold a JSON object")
    for key in sorted(set(raw) ^ set(HEADER_KEYS)):
        state = "unknown" if key in raw else "missing"
        raise SpecError(f"{where}.{key}", f"{state} key {key!r}")
    if raw["name"] != name:
        raise SpecError(f"{where}.name", f"must be the file's name {name!r}")
    for key in ("title", "description", "paper"):
        if not isinstance(raw[key], str) or "\n" in raw[key]:
            raise SpecError(f"{where}.{key}", "must be a one-line string")
    _check_shape(raw["input_shape"], f"{where}.input_shape")
    _check_classes(raw["classes"], f"{where}.classes")
    if not isinstance(raw["adjustable"], list) or not set(raw["adjustable"]) <= set(ADJUSTABLE):
        raise SpecError(f"{where}.adjustable", f"must list some of {', '.join(ADJUSTABLE)}")
    if not isinstance(raw["experiment"], dict):
        raise SpecError(f"{where}.experiment", "must be an experiment object")


@cache
def _canonical_totals(name: str) -> Totals:
    return analyze(load_preset(name).model).totals


def match_data(exp: Experiment) -> tuple[Experiment, str | None]:
    """Make an experiment's network and its ``shapes`` data agree on the class count.

    A network with up to 12 outputs keeps its canonical head and the synthetic
    dataset draws that many shapes; a larger head (ImageNet's 1000) is
    re-derived for the dataset's classes instead.

    Returns:
        The (possibly) changed experiment and a sentence saying what changed, or None.
    """
    from dataclasses import replace

    from cnnlab.data.shapes import SHAPE_CLASSES
    outputs = [n.params.get("units") for n in exp.model.nodes if n.type == "Output"]
    if exp.data.source != "shapes" or len(outputs) != 1:
        return exp, None
    want, have = outputs[0], len(exp.data.shapes.classes)
    if want == have:
        return exp, None
    if 2 <= want <= len(SHAPE_CLASSES):
        shapes = replace(exp.data.shapes, classes=list(SHAPE_CLASSES[:want]))
        note = f"the shapes dataset draws {want} shapes to match the network's {want} outputs"
        return replace(exp, data=replace(exp.data, shapes=shapes)), note
    note = (f"the output block has {have} units for the {have} classes of the shapes dataset "
            f"(the preset has {want}; use --classes to choose)")
    return retarget(exp, classes=have), note
