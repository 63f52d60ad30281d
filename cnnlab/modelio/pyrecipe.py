"""The exported script around ``build_model()``: the lab's data path and recipe.

The script trains exactly as the lab does because it calls the lab's own
functions (``cnnlab.data.load_data`` and ``cnnlab.recipe`` through
``cnnlab.train.preparation``) on the experiment's ``data`` and ``training``
sections, which it holds as one Python literal. Everything that came from a
user, a file or a model (the experiment's name and description, class names,
paths, layer names) enters the script only as a literal written by
:func:`literal` and checked with :func:`ast.literal_eval`; the text around
them is fixed. Comments and the docstring hold no such strings.
"""

from __future__ import annotations

import ast
import pprint
import re
import time
from collections.abc import Sequence
from typing import Any

from cnnlab.errors import ModelFileError

_VERSION_RE = re.compile(r"^[A-Za-z0-9.+_-]{1,40}$")


def script_text(model: Any, spec: dict | None = None,
                class_names: Sequence[str] | None = None) -> str:
    """The whole standalone script for ``model`` and the experiment dict ``spec``.

    Args:
        model: The trained ``keras.Model``.
        spec: The experiment (JSON dict) it was trained with, or None (the
            script then only rebuilds the network).
        class_names: The output classes, in order.

    Returns:
        The script's source text (it is never run in this process).

    Raises:
        ModelFileError: When a value cannot be written as a literal, or the
            generated text does not parse.
    """
    from cnnlab.modelio.manifest import MODULE_RE, lab_layers
    from cnnlab.modelio.pyscript import check_build_code, model_code

    spec = spec or None
    build = model_code(model)
    check_build_code(build)
    modules = sorted({m if MODULE_RE.fullmatch(m) else "cnnlab.layers"
                      for m in lab_layers(model).values()})
    lab_imports = "".join(f"\nimport {m}  # noqa: F401  (registers the lab's layers)"
                          for m in modules)
    imports = _IMPORTS.strip("\n") + ("\n" + lab_imports if modules else "")
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    sections = None if spec is None else {k: spec.get(k, {}) for k in ("data", "training")}
    constants = "\n".join([
        f"EXPERIMENT_NAME = {literal(str((spec or {}).get('name') or model.name))}",
        f"DESCRIPTION = {literal(str((spec or {}).get('description') or ''))}",
        f"INPUT_SHAPE = {literal(shape)}",
        f"CLASS_NAMES = {literal(list(class_names) if class_names else None)}",
        "# The experiment's data and training sections, as the lab ran them.",
        f"SPEC = {literal(sections)}",
    ])
    text = "\n".join([_header(spec), imports, "", constants, "", "",
                      build.rstrip("\n"), "", "", _TRAINING.strip("\n"), ""])
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise ModelFileError(f"Python export: the generated script does not parse "
                             f"(line {exc.lineno}: {exc.msg})") from None
    return text


def literal(value: Any) -> str:
    """A Python literal for plain data (str, numbers, bools, None, lists, tuples, dicts).

    Strings are written with :func:`ascii`, so the text is pure ASCII and no
    quote, backslash or newline inside a value can end the literal.

    Raises:
        ModelFileError: When ``value`` is not plain data or does not read back equal.
    """
    text = pprint.pformat(_asciified(value), width=88, sort_dicts=False)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        same = False
    if not same or not text.isascii():
        raise ModelFileError("Python export: a value of the experiment cannot be written as "
                             "a plain literal (not JSON data, or not finite)")
    return text


class _Ascii(str):
    """A string whose repr is :func:`ascii` (pprint calls repr on strings)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return ascii(str(self))


def _asciified(value: Any) -> Any:
    if isinstance(value, str):
        return _Ascii(value)
    if isinstance(value, dict):
        return {_asciified(k): _asciified(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_asciified(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_asciified(v) for v in value)
    return value


def _header(spec: dict | None) -> str:
    import cnnlab

    version = cnnlab.__version__ if _VERSION_RE.fullmatch(cnnlab.__version__) else "(unknown)"
    left = "\n".join(f"- {line}" for line in left_out(spec))
    return _HEADER.format(version=version, date=time.strftime("%Y-%m-%d"), left_out=left)


def left_out(spec: dict | None) -> list[str]:
    """What the script does not reproduce, as fixed sentences (no values from the spec)."""
    if spec is None:
        return ["the data and the recipe: this export has no experiment, so the script "
                "can rebuild\n  the network (build_model, --check-weights) but not train it"]
    out = ["the lab's run store, checkpoints and resume, filter snapshots and TensorBoard "
           "logs",
           "training.device (device choice, mixed precision, XLA, steps per execution,\n"
           "  distribution): Keras's defaults are used"]
    transfer = spec.get("training", {}).get("transfer", {})
    if transfer.get("base") and transfer.get("strategy") not in (None, "none", "scratch") \
            and transfer.get("weights") != "random":
        out.append("the pretrained weights of the transfer base: every layer starts from "
                   "its initializer\n  (export the run as .keras to keep trained weights)")
    return out


_HEADER = '''"""Training script exported from CNN Lab {version} on {date}.

build_model() rebuilds the network with the Keras functional API, one line per
layer (layer names are the lab's block ids); weight regularizers and
constraints are part of those layers. train() loads the data and trains the
network as the lab does, with the lab's own functions from the cnnlab package,
which must be installed: cnnlab.data.load_data (class-stratified splits,
max_samples, scale or standardize, grayscale <-> RGB, resizing to the model's
input) and cnnlab.recipe (augmentation layers and their placement, MixUp and
CutMix, the optimizer with its learning-rate schedule, warm-up and restarts,
label smoothing, gradient accumulation, early stopping, transfer phases).
The experiment's settings are the literal SPEC below.

Left out:
{left_out}

Run:   python this_file.py [--epochs N] [--max-samples K] [--data PATH] [--out DIR]
       trains and saves DIR/model.keras (DIR defaults to the current folder).
Check: python this_file.py --check-weights W.npz --check-inputs X.npy [--out DIR]
       writes DIR/check_layers.json and DIR/check_predictions.npy (the weights
       are keyed "<layer index>.<weight index>"); add --epochs N to train too.
"""
'''

_IMPORTS = '''
import argparse
import dataclasses
import json
import sys
from pathlib import Path

import keras
import numpy as np
'''

_TRAINING = '''
def sections(max_samples=None, data_path=None):
    """SPEC's data and training sections as the lab's typed objects."""
    from cnnlab.spec.schema import section_from_dict
    from cnnlab.spec.sections import DataSpec, TrainingSpec

    if SPEC is None:
        sys.exit("this export has no experiment: it can rebuild the network, not train it")
    data = section_from_dict(DataSpec, SPEC["data"], "data")
    training = section_from_dict(TrainingSpec, SPEC["training"], "training")
    if data_path is not None:
        data = dataclasses.replace(data, path=str(data_path))
    if max_samples is not None:
        data = dataclasses.replace(data, max_samples=min(max_samples,
                                                         data.max_samples or max_samples))
    return data, training


def compile_model(model, training, num_classes, steps_per_epoch, multipliers=None,
                  start_step=0):
    """The recipe's optimizer (its schedule continued from start_step), loss and metrics."""
    from cnnlab.recipe import make_loss, make_metrics, make_optimizer, uses_one_hot
    from cnnlab.train.preparation import outputs_logits

    optimizer = make_optimizer(training, steps_per_epoch, lr_multipliers=multipliers or None,
                               start_step=start_step)
    model.compile(optimizer=optimizer,
                  loss=make_loss(training, num_classes, from_logits=outputs_logits(model)),
                  metrics=make_metrics(training, uses_one_hot(training)))


def train(epochs=None, max_samples=None, data_path=None, out="."):
    """Load the data as the lab does, train phase by phase, save OUT/model.keras."""
    from cnnlab.data import load_data
    from cnnlab.recipe import recipe_callbacks
    from cnnlab.train import preparation as prep

    data_spec, training = sections(max_samples, data_path)
    keras.utils.set_random_seed(training.seed)
    if training.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    data = load_data(data_spec, INPUT_SHAPE, training.seed)
    net = build_model()
    units = int(net.outputs[0].shape[-1])
    if units != data.num_classes:
        sys.exit(f"the network has {units} outputs but the data have {data.num_classes} classes")
    model = prep.with_augmentation(net, training, prep.value_range(data))
    sets = prep.make_datasets(data, training)
    for phase in prep.phases(training, epochs or training.epochs):
        multipliers = prep.apply_phase(net, training, phase)
        compile_model(model, training, data.num_classes, sets.steps, multipliers,
                      start_step=phase.start_epoch * sets.steps)
        model.fit(sets.train, validation_data=sets.val, epochs=phase.end_epoch,
                  initial_epoch=phase.start_epoch, callbacks=recipe_callbacks(training),
                  shuffle=False, verbose=2)
        if model.stop_training:
            break
    Path(out).mkdir(parents=True, exist_ok=True)
    net.save(Path(out) / "model.keras")
    return net


def check(weights_file, inputs_file, out="."):
    """Write build_model()'s layers and its predictions with the given weights."""
    model = build_model()
    layers = [[la.name, list(la.output.shape), int(la.count_params())] for la in model.layers]
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "check_layers.json").write_text(json.dumps(layers))
    with np.load(weights_file, allow_pickle=False) as arrays:
        for i, layer in enumerate(model.layers):
            if layer.weights:
                layer.set_weights([arrays[f"{i}.{j}"] for j in range(len(layer.weights))])
    x = np.load(inputs_file, allow_pickle=False)
    np.save(Path(out) / "check_predictions.npy", np.asarray(model(x, training=False)))


def main(argv=None):
    """The command line (see the top of the file)."""
    parser = argparse.ArgumentParser(description="Train the network exported from CNN Lab.")
    parser.add_argument("--epochs", type=int, help="epochs in all (default: the experiment's)")
    parser.add_argument("--max-samples", type=int, help="train on at most this many samples")
    parser.add_argument("--data", help="the npz file or image folder (default: the experiment's)")
    parser.add_argument("--out", default=".", help="folder for model.keras and check files")
    parser.add_argument("--check-weights", help="weights (.npz) for the check")
    parser.add_argument("--check-inputs", help="inputs (.npy) for the check")
    args = parser.parse_args(argv)
    if args.check_weights or args.check_inputs:
        if not (args.check_weights and args.check_inputs):
            parser.error("--check-weights and --check-inputs go together")
        check(args.check_weights, args.check_inputs, args.out)
        if args.epochs is None:
            return
    train(args.epochs, args.max_samples, args.data, args.out)


if __name__ == "__main__":
    main()
'''
