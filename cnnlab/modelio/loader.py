"""Load a model file safely: inspect it first, then let Keras read it in safe mode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnlab.errors import ModelFileError
from cnnlab.modelio.safety import Inspection, first_line, inspect_model_file


def load_model_file(path: str | Path, input_shape: Sequence[int] | None = None
                    ) -> tuple[Any, Inspection]:
    """Inspect and load a ``.keras`` or ``.h5`` model (never compiled, always safe mode).

    Args:
        path: The model file.
        input_shape: Sizes for open input dimensions (``None`` in the saved
            model), without the batch axis.

    Returns:
        The Keras model and what the inspection found.

    Raises:
        ModelFileError: When the file is refused, damaged, or Keras cannot load it.
    """
    inspection = inspect_model_file(path)
    import keras

    import cnnlab.layers  # noqa: F401  (the lab's layers must be registered to load)

    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for bad files
        raise ModelFileError(f"{Path(path).name}: Keras could not load it "
                             f"({exc.__class__.__name__}: {first_line(exc)})") from None
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{Path(path).name}: holds a {type(model).__name__}, not a model")
    return with_input_shape(model, input_shape), inspection


def with_input_shape(model: Any, input_shape: Sequence[int] | None) -> Any:
    """The model itself, or a copy with open input sizes fixed to ``input_shape``.

    Raises:
        ModelFileError: When the model needs an input shape it was not given.
    """
    import keras

    from cnnlab.modelio.convert import as_functional

    if isinstance(model, keras.Sequential) and not model.built:
        if input_shape is None:
            raise ModelFileError("the Sequential model was never built; give its input shape")
        model.build((None, *input_shape))
    model = as_functional(model)
    current = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else ()
    if None not in current:
        return model
    if input_shape is None:
        raise ModelFileError(f"the model's input shape {current} has open sizes; give the "
                             "input shape to import it")
    return _rebuilt(model, tuple(int(d) for d in input_shape))


def _rebuilt(model: Any, input_shape: tuple[int, ...]) -> Any:
    import keras

    serialized = keras.saving.serialize_keras_object(model)
    for layer in serialized["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, *input_shape]
    try:
        fixed = keras.saving.deserialize_keras_object(serialized, safe_mode=True)
    except Exception as exc:
        raise ModelFileError(f"the model does not take inputs of shape {input_shape} "
                             f"({first_line(exc)})") from None
    for layer in fixed.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return fixed
