"""ONNX and LiteRT exports: converted by Keras 3's ``model.export``, checked in their runtimes.

Keras converts (``format="onnx"`` through tf2onnx; ``format="litert"`` through
TensorFlow's LiteRT converter, here with built-in operations only, so that the
file runs in the plain LiteRT interpreter without TensorFlow). The file is then
loaded in the runtime a user deploys with (onnxruntime's ``InferenceSession``,
the ``ai-edge-litert`` interpreter) and its predictions are compared with the
trained model's. The converters and runtimes are optional extras; a missing
one is named in one line before anything is loaded or written.

A layer that a format cannot carry (an operation with no ONNX or LiteRT
equivalent) is named, with the operation, in one line; nothing is written.
The lab's own layers (Maxout, local response normalization) are built from
plain operations and convert (tested).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.errors import CnnlabError, ModelFileError

RUNTIME_FORMATS = ("onnx", "litert")
EXTRAS = {"onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai_edge_litert",)}
PACKAGES = {"onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai-edge-litert",)}
NAMES = {"onnx": "ONNX", "litert": "LiteRT"}
STANDARD_ONNX_DOMAINS = ("", "ai.onnx")


def missing_extra(fmt: str) -> str | None:
    """The one-line message for a format whose extra is not installed; None when ready.

    Cheap: looks the modules up without importing them (no TensorFlow).
    """
    missing = [name for name in EXTRAS.get(fmt, ()) if _absent(name)]
    if not missing:
        return None
    return extra_message(fmt, f"{', '.join(missing)} not installed")


def extra_message(fmt: str, why: str) -> str:
    """``the ONNX export needs the onnx extra (why): pip install "cnnlab[onnx]"``."""
    return f'the {NAMES[fmt]} export needs the {fmt} extra ({why}): pip install "cnnlab[{fmt}]"'


def require(fmt: str) -> None:
    """Raise when ``fmt`` is a runtime format whose extra is missing.

    Raises:
        CnnlabError: Naming the extra and how to install it.
    """
    message = missing_extra(fmt)
    if message:
        raise CnnlabError(message)


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def convert(model: Any, fmt: str, path: Path) -> None:
    """Write ``model`` as ``fmt`` to ``path`` (a temporary file the caller removes).

    Raises:
        ModelFileError: When a layer cannot be carried or the conversion fails.
        CnnlabError: When the converter cannot be imported.
    """
    try:
        with captured_stderr() as log:
            _export(model, fmt, path)
    except ImportError as exc:
        raise CnnlabError(extra_message(fmt, first_line(exc, 120))) from None
    except Exception as exc:  # the converters raise many types
        raise ModelFileError(_conversion_failure(model, fmt, f"{exc}\n{log.text()}")) from None
    if fmt == "onnx":
        unsupported = onnx_unsupported(path)
        if unsupported:
            raise ModelFileError(cannot_carry(model, fmt, unsupported))


def _export(model: Any, fmt: str, path: Path) -> None:
    if fmt == "onnx":
        logging.getLogger("tf2onnx").setLevel(logging.CRITICAL)  # we report instead
        # Keras's tf2onnx patch for NumPy 2 probes `np.object`, which warns each time
        # (set here, not at import: test runners reset the filters per test).
        warnings.filterwarnings("ignore", message=r"In the future `np\.object`",
                                category=FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
        return
    import tensorflow as tf

    model.export(str(path), format="litert", verbose=False,
                 target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]})


def onnx_unsupported(path: Path) -> list[tuple[str, str]]:
    """``(op, node name)`` of the standard-domain nodes ONNX does not define (TF leftovers)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [(node.op_type, node.name) for node in graph.node
            if node.domain in STANDARD_ONNX_DOMAINS and not onnx.defs.has(node.op_type)]


LITERT_OP = re.compile(r"""fused\["(\w+):", "([^"@]+)@[^"]*"\][^\n]*?'tf\.(\w+)' op is neither""")
LITERT_CUSTOM = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


def _conversion_failure(model: Any, fmt: str, text: str) -> str:
    if fmt == "litert":
        ops = [(op, where) for _, where, op in LITERT_OP.findall(text)]
        ops = ops or [(op, "") for op in dict.fromkeys(LITERT_CUSTOM.findall(text))]
        if ops:
            return cannot_carry(model, fmt, ops)
    return f"{NAMES[fmt]} export: the conversion failed ({first_line(text)}); nothing was written"


def cannot_carry(model: Any, fmt: str, ops: list[tuple[str, str]]) -> str:
    """One line naming the layers (and operations) that ``fmt`` cannot represent."""
    names = list(dict.fromkeys(op for op, _ in ops))
    layers = layers_named(model, " ".join(where for _, where in ops))
    what = ", ".join(f"'{layer.name}' ({type(layer).__name__})" for layer in layers)
    subject = f"layer {what}" if len(layers) == 1 else f"layers {what}" if layers \
        else "this model"
    operations = (f"operation {names[0]} has" if len(names) == 1
                  else f"operations {', '.join(names)} have")
    return (f"{NAMES[fmt]} cannot carry {subject}: TensorFlow {operations} no "
            f"{NAMES[fmt]} built-in; nothing was written")


def layers_named(model: Any, text: str) -> list[Any]:
    """The model's layers (nested models searched) whose name appears as a path part in text.

    TensorFlow names an operation ``functional_1/<layer>_1/<op>``; a layer matches
    as a whole path part, with or without that numeric suffix.
    """
    parts = set(re.split(r"[/\s]+", text))
    parts |= {re.sub(r"_\d+$", "", p) for p in parts}
    return [layer for layer in _all_layers(model) if layer.name in parts]


def _all_layers(model: Any) -> Iterator[Any]:
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _all_layers(layer)


def verify(fmt: str, path: Path, expected: np.ndarray, x: np.ndarray) -> float:
    """Load ``path`` in the format's runtime, predict ``x`` and compare with ``expected``.

    Raises:
        ModelFileError: When the runtime cannot load or run it, or it predicts otherwise.
    """
    from cnnlab.modelio.verify import compare

    run = _run_onnx if fmt == "onnx" else _run_litert
    try:
        with captured_stderr() as log:
            outputs = run(path, x)
    except ImportError as exc:
        raise CnnlabError(extra_message(fmt, first_line(exc, 120))) from None
    except Exception as exc:  # the runtimes raise many types
        why = first_line(f"{exc}\n{log.text()}")
        raise ModelFileError(f"{NAMES[fmt]} export: {RUNTIME[fmt]} cannot load or run it "
                             f"({why}); nothing was written") from None
    if len(outputs) != 1:
        raise ModelFileError(f"{NAMES[fmt]} export: {len(outputs)} outputs instead of one; "
                             "nothing was written")
    return compare(expected, outputs[0], f"{NAMES[fmt]} export")


RUNTIME = {"onnx": "onnxruntime", "litert": "the LiteRT interpreter"}


def _run_onnx(path: Path, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only; failures are raised
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    (arg,) = session.get_inputs()
    return session.run(None, {arg.name: x})


def _run_litert(path: Path, x: np.ndarray) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (arg,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(arg["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(arg["index"], x)
    interpreter.invoke()
    return [interpreter.get_tensor(out["index"]) for out in interpreter.get_output_details()]


def first_line(text: str, limit: int = 300) -> str:
    """The first informative line of an error text, cut to ``limit`` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0][:limit] if lines else "no message"


NOISE = re.compile(r"Created TensorFlow Lite XNNPACK delegate|tf_tfl_flatbuffer_helpers|"
                   r"Ignored (output_format|drop_control_dependency)")


class _Captured:
    def __init__(self) -> None:
        self.data = ""

    def text(self) -> str:
        return self.data


@contextlib.contextmanager
def captured_stderr() -> Iterator[_Captured]:
    """Capture what the converters' C++ code writes to file descriptor 2.

    On success the lines that are not known converter chatter are written
    back to stderr; on failure the text goes into the one-line message only.
    """
    captured = _Captured()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some GUI launchers)
        yield captured
        return
    failed = True
    with tempfile.TemporaryFile(mode="w+b") as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield captured
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            captured.data = capture.read().decode("utf-8", "replace")
    if not failed:
        _reemit(captured.data)


def _reemit(text: str) -> None:
    kept = [line for line in text.splitlines() if line.strip() and not NOISE.search(line)]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")


def runtime_versions(fmt: str) -> dict[str, str]:
    """Versions of the format's converter and runtime packages (for the manifest)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in PACKAGES.get(fmt, ()):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found
