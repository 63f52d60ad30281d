"""Import TensorFlow without its start-up noise, keeping real warnings.

TensorFlow 2.21 writes a few lines straight to file descriptor 2 before its
logging is initialised (so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them). This
module captures stderr during the import and re-emits every line that is not
known start-up noise.

:func:`quiet_environment` is the one place that sets the environment Keras and
TensorFlow read when they are imported (the backend, TensorFlow's log level).
Every entry point calls it before anything imports Keras: the ``cnnlab``
command, the window (:func:`cnnlab.ui.app.main`), :func:`import_tensorflow`
and the test suites' ``conftest.py``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
    r"Could not find cuda drivers|Unable to register cu(DNN|FFT|BLAS) factory|"
    r"TF-TRT Warning|This TensorFlow binary is optimized to use available CPU|"
    r"rebuild TensorFlow with the appropriate compiler flags|computation placer already "
    r"registered|cuda_executor|Skipping registering GPU devices|cuInit|"
    r"Attempting to register factory"
)


def quiet_environment() -> None:
    """Choose Keras's TensorFlow backend and TensorFlow's log level, unless the user did.

    Call it before Keras is imported: both are read once, at import.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def import_tensorflow():
    """Import and return ``tensorflow`` with start-up noise filtered from stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet_environment()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some GUI launchers)
        import tensorflow

        return tensorflow
    with tempfile.TemporaryFile(mode="w+b") as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            import keras  # noqa: F401  (keras pulls tensorflow in)
            import tensorflow

            _probe_devices(tensorflow)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        _reemit(capture.read().decode("utf-8", "replace"))
    return tensorflow


def _probe_devices(tensorflow) -> None:
    """Let TensorFlow look for GPUs now, while stderr is captured.

    Without a usable GPU the CUDA platform prints ``failed call to cuInit`` the
    first time devices are listed, which would otherwise land in the middle
    of a command's output. Listing physical devices does not initialise the
    runtime, so devices can still be configured afterwards.
    """
    try:
        tensorflow.config.list_physical_devices()
    except Exception:  # noqa: BLE001 - a probe only; the real use reports errors
        pass


def _reemit(text: str) -> None:
    for line in text.splitlines():
        if line.strip() and not NOISE.search(line):
            print(line, file=sys.stderr)
