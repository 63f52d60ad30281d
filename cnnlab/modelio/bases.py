"""Pretrained bases: the Keras applications, without their classifier top.

ImageNet weights come from Keras's own cache (``$KERAS_HOME/models`` or
``~/.keras/models``). Nothing is downloaded unless the file is missing *and* a
3-second probe reaches the download server; otherwise the error names the
exact file and folder, and the user can go on with random weights or point to
a local weights file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.download import can_reach, keras_home
from cnnlab.errors import ModelFileError, SpecError
from cnnlab.modelio.safety import first_line

DOWNLOAD_HOST = "storage.googleapis.com"
_TF_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
WEIGHT_CHOICES = ("imagenet", "random", "file")


@dataclass(frozen=True)
class Application:
    """A Keras application usable as a base."""

    keras_name: str
    notop_file: str  # Keras's cache file name; {rows} for MobileNetV2's input size
    url_dir: str
    min_size: int
    preprocessing: str  # what keras.applications.<module>.preprocess_input does


APPLICATIONS: dict[str, Application] = {
    "VGG16": Application("VGG16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         _TF_APPS + "vgg16/", 32, "caffe: RGB->BGR, minus ImageNet means"),
    "VGG19": Application("VGG19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         _TF_APPS + "vgg19/", 32, "caffe: RGB->BGR, minus ImageNet means"),
    "ResNet50": Application("ResNet50", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                            _TF_APPS + "resnet/", 32, "caffe: RGB->BGR, minus ImageNet means"),
    "ResNet50V2": Application("ResNet50V2",
                              "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                              _TF_APPS + "resnet/", 32, "tf: pixels scaled to [-1, 1]"),
    "MobileNetV2": Application(
        "MobileNetV2", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
        _TF_APPS + "mobilenet_v2/", 32, "tf: pixels scaled to [-1, 1]"),
    "EfficientNetB0": Application("EfficientNetB0", "efficientnetb0_notop.h5",
                                  "https://storage.googleapis.com/keras-applications/", 32,
                                  "none: the model rescales raw 0..255 pixels itself"),
    "InceptionV3": Application("InceptionV3",
                               "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                               _TF_APPS + "inception_v3/", 75, "tf: pixels scaled to [-1, 1]"),
}
MOBILENET_SIZES = (96, 128, 160, 192, 224)


def application_names() -> list[str]:
    """The Keras applications available as bases."""
    return list(APPLICATIONS)


def application(name: str) -> Application:
    """The application called ``name``.

    Raises:
        SpecError: For an unknown name (the message lists the known ones).
    """
    try:
        return APPLICATIONS[name]
    except KeyError:
        raise SpecError("training.transfer.base", f"unknown application {name!r} (known: "
                        f"{', '.join(APPLICATIONS)})") from None


def weights_file(name: str, input_shape: Sequence[int] | None = None) -> Path:
    """Where Keras caches the application's ImageNet weights without the top."""
    app = application(name)
    rows = 224
    if input_shape is not None and input_shape[0] == input_shape[1] and \
            input_shape[0] in MOBILENET_SIZES:
        rows = int(input_shape[0])
    return keras_home() / "models" / app.notop_file.format(rows=rows)


def check_imagenet_available(name: str, input_shape: Sequence[int]) -> Path:
    """The cached weights file, or raise a message that says where to put it.

    Raises:
        ModelFileError: When the file is not cached and the server cannot be reached.
    """
    path = weights_file(name, input_shape)
    url = APPLICATIONS[name].url_dir + path.name
    if path.is_file() or can_reach(url):
        return path
    raise ModelFileError(
        f"ImageNet weights for {name} are not on this computer and {DOWNLOAD_HOST} cannot be "
        f"reached: put {path.name} in {path.parent} (download it from {url}), or use "
        "weights 'random', or weights 'file' with a local weights file")


def load_base(name: str, input_shape: Sequence[int], weights: str = "imagenet",
              weights_path: str | Path | None = None) -> Any:
    """A Keras application without its classifier top.

    Args:
        name: One of :func:`application_names`.
        input_shape: ``(H, W, C)``.
        weights: ``imagenet`` (from Keras's cache), ``random``, or ``file``.
        weights_path: The local weights file for ``weights="file"``.

    Raises:
        ModelFileError: When weights are missing or do not fit.
        SpecError: For an unknown name, weights choice or unusable input shape.
    """
    app = application(name)
    shape = _shape(input_shape, app)
    if weights not in WEIGHT_CHOICES:
        raise SpecError("training.transfer.weights", f"weights must be one of "
                        f"{', '.join(WEIGHT_CHOICES)} (got {weights!r})")
    if weights == "imagenet":
        check_imagenet_available(name, shape)
    model = _construct(app, shape, "imagenet" if weights == "imagenet" else None)
    if weights == "file":
        _load_weights_file(model, weights_path)
    return model


def _shape(input_shape: Sequence[int], app: Application) -> tuple[int, int, int]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or min(shape[:2]) < app.min_size:
        raise SpecError("model", f"{app.keras_name} needs images of at least "
                        f"{app.min_size}x{app.min_size}xC (got {'x'.join(map(str, shape))})")
    return shape  # type: ignore[return-value]


@contextlib.contextmanager
def fresh_layer_names() -> Iterator[None]:
    """Let Keras name unnamed layers as in a new session (``rescaling``, not ``rescaling_3``).

    Block ids come from layer names, so a base must get the same names each
    time it is built; the session's counters are restored afterwards.
    """
    try:
        saved = swap_name_counters(None)
    except ImportError:  # a Keras without this module: names may carry suffixes
        yield
        return
    try:
        yield
    finally:
        swap_name_counters(saved)


def swap_name_counters(counters: Any) -> Any:
    """Install ``counters`` as Keras's layer-name counters; return the ones in use.

    ``None`` starts from scratch. Keras has no public way to do this:
    ``keras.backend.get_uid`` only counts up, and ``keras.backend.clear_session``
    drops the whole session (every model's graph), so this sets Keras's private
    global state. ``tests/core/test_keras_internals.py`` fails when a Keras
    release moves it.

    Raises:
        ImportError: When this Keras has no such module.
    """
    from keras.src.backend.common import global_state

    key = "object_name_uids"  # what keras.src.utils.naming.uniquify counts in
    previous = global_state.get_global_attribute(key)
    global_state.set_global_attribute(key, counters)
    return previous


def _construct(app: Application, shape: tuple[int, int, int], weights: str | None) -> Any:
    import keras

    ctor = getattr(keras.applications, app.keras_name)
    try:
        with fresh_layer_names():
            return ctor(include_top=False, weights=weights, input_shape=shape)
    except ValueError as exc:
        raise SpecError("model", f"{app.keras_name}: {first_line(exc)}") from None
    except Exception as exc:  # download or file errors surface as many types
        raise ModelFileError(f"{app.keras_name}: cannot load ImageNet weights "
                             f"({exc.__class__.__name__}: {first_line(exc)})") from None


def _load_weights_file(model: Any, weights_path: str | Path | None) -> None:
    from cnnlab.modelio.safety import check_h5_file

    if not weights_path:
        raise SpecError("training.transfer.weights_path", "weights 'file' needs weights_path")
    path = Path(weights_path)
    check_h5_file(path)
    try:
        model.load_weights(str(path))
    except Exception as exc:  # Keras raises many types for mismatched files
        raise ModelFileError(f"{path.name}: the weights do not fit {model.name} "
                             f"({exc.__class__.__name__}: {first_line(exc)})") from None
