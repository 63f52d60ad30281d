"""The exported script around ``build_model()``: data pipeline, recipe and training.

The code is generated from the experiment dict (its ``data`` and ``training``
sections) and kept plain: NumPy arrays and ``model.fit``, Keras's own
optimizers, schedules, losses, augmentation layers and callbacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop",
              "adagrad": "Adagrad"}
OPTIMIZER_ARGS = {"adam": ("beta_1", "beta_2", "epsilon"), "adamw": ("beta_1", "beta_2",
                  "epsilon"), "sgd": ("momentum", "nesterov"), "rmsprop": ("momentum",
                  "epsilon"), "adagrad": ("epsilon",)}


def script_text(model: Any, spec: dict | None = None,
                class_names: Sequence[str] | None = None) -> str:
    """The whole standalone script for ``model`` and the experiment dict ``spec``."""
    import cnnlab
    from cnnlab.modelio.manifest import lab_layers
    from cnnlab.modelio.pyscript import model_code

    spec = spec or {}
    data, training = spec.get("data", {}), spec.get("training", {})
    build = model_code(model)
    imports = "import keras\nimport numpy as np\n"
    modules = sorted(set(lab_layers(model).values()))
    if modules:
        imports += "\n" + "".join(f"import {m}  # noqa: F401  (registers the lab's objects)\n"
                                   for m in modules)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    name = spec.get("name") or model.name
    header = (f'"""{name}: exported from CNN Lab {cnnlab.__version__} on '
              f'{time.strftime("%Y-%m-%d")}.\n\n'
              "Rebuilds the network with the Keras functional API, loads the data and trains "
              "it\nwith the experiment's recipe. Run: python this_file.py\n\"\"\"\n\n"
              f"{imports}\n")
    constants = _constants(shape, data, training, class_names)
    return "\n\n\n".join([header + constants, build.rstrip("\n"), _load_data(data),
                          _compile(training), _main(training)]) + "\n"


def _constants(shape: tuple, data: dict, training: dict, class_names) -> str:
    opt = training.get("optimizer", {})
    lines = [f"INPUT_SHAPE = {shape!r}",
             f"CLASS_NAMES = {json.dumps(list(class_names)) if class_names else None}",
             f"EPOCHS = {training.get('epochs', 10)}",
             f"BATCH_SIZE = {training.get('batch_size', 64)}",
             f"LEARNING_RATE = {opt.get('learning_rate', 1e-3)!r}",
             f"SEED = {training.get('seed', 0)}",
             f"VALIDATION_SPLIT = {data.get('validation_split', 0.2)!r}",
             f"NORMALIZATION = {json.dumps(data.get('normalization', 'scale'))}",
             f"MAX_SAMPLES = {data.get('max_samples')!r}"]
    return "\n".join(lines)


def _load_data(data: dict) -> str:
    source = data.get("source", "shapes")
    if source == "shapes":
        s = data.get("shapes", {})
        get = (f"    from cnnlab.data.shapes import generate_shapes\n\n"
               f"    x, y = generate_shapes({json.dumps(s.get('classes'))}, "
               f"samples={s.get('samples', 3000)}, image_size={s.get('image_size', 32)},\n"
               f"                           channels={s.get('channels', 3)}, "
               f"noise={s.get('noise', 0.05)!r}, seed={s.get('seed', 0)})\n")
    elif source == "keras":
        get = (f"    (x, y), _ = keras.datasets.{data.get('keras_name', 'mnist')}.load_data()\n"
               "    x = x[..., None] if x.ndim == 3 else x  # grayscale: add the channel axis\n"
               "    y = y.reshape(-1)\n")
    elif source == "npz":
        get = (f"    arrays = np.load({json.dumps(data.get('path'))})\n"
               "    x = arrays['x_train' if 'x_train' in arrays else 'x']\n"
               "    y = arrays['y_train' if 'y_train' in arrays else 'y'].reshape(-1)\n")
    else:
        return _load_folder(data)
    return ('def load_data():\n    """Training and validation arrays, normalised."""\n'
            f"{get}    return _split(x.astype(\"float32\"), y)\n\n\n" + _SPLIT)


_SPLIT = '''def _split(x, y):
    """Shuffle with SEED, hold out VALIDATION_SPLIT, normalise like the lab."""
    order = np.random.default_rng(SEED).permutation(len(x))
    x, y = x[order], y[order]
    n_val = int(len(x) * VALIDATION_SPLIT)
    x_train, y_train, x_val, y_val = x[n_val:], y[n_val:], x[:n_val], y[:n_val]
    if MAX_SAMPLES:
        x_train, y_train = x_train[:MAX_SAMPLES], y_train[:MAX_SAMPLES]
    if NORMALIZATION == "scale":
        x_train, x_val = x_train / 255.0, x_val / 255.0
    elif NORMALIZATION == "standardize":
        mean = x_train.mean(axis=(0, 1, 2))
        std = x_train.std(axis=(0, 1, 2)) + 1e-7
        x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
    return (x_train, y_train), (x_val, y_val)'''


def _load_folder(data: dict) -> str:
    return ('def load_data():\n    """Training and validation datasets from the image folder."""\n'
            "    train, val = keras.utils.image_dataset_from_directory(\n"
            f"        {json.dumps(data.get('path'))}, image_size=INPUT_SHAPE[:2], "
            "batch_size=None,\n"
            "        color_mode=\"grayscale\" if INPUT_SHAPE[2] == 1 else \"rgb\",\n"
            "        validation_split=VALIDATION_SPLIT, subset=\"both\", seed=SEED)\n"
            "    scale = 1 / 255.0 if NORMALIZATION == \"scale\" else 1.0\n"
            "    arrays = [(np.stack([x for x, _ in ds]) * scale, np.array([y for _, y in ds]))\n"
            "              for ds in (train, val)]\n"
            "    return arrays[0], arrays[1]")


def _compile(training: dict) -> str:
    opt = training.get("optimizer", {})
    name = opt.get("name", "adam")
    args = ["learning_rate=_schedule(steps_per_epoch)"]
    args += [f"{k}={opt[k]!r}" for k in OPTIMIZER_ARGS.get(name, ()) if k in opt]
    args += [f"{k}={opt[k]!r}" for k in ("weight_decay", "clipnorm", "clipvalue")
             if opt.get(k) is not None]
    loss, one_hot = _loss(training)
    metrics = ["\"accuracy\"" if m == "accuracy" else
               "keras.metrics.SparseTopKCategoricalAccuracy(5, name=\"top5\")"
               for m in training.get("metrics", ["accuracy"])]
    if one_hot:
        metrics = [m.replace("Sparse", "") for m in metrics]
    return (f"{_schedule(training)}\n\n\n"
            "def compile_model(model, steps_per_epoch):\n"
            '    """Optimizer, loss and metrics of the recipe."""\n'
            f"    optimizer = keras.optimizers.{OPTIMIZERS.get(name, 'Adam')}({', '.join(args)})\n"
            f"    model.compile(optimizer=optimizer, loss={loss},\n"
            f"                  metrics=[{', '.join(metrics)}])\n"
            f"    return {one_hot!r}  # labels one-hot?")


def _loss(training: dict) -> tuple[str, bool]:
    loss, smooth = training.get("loss", "auto"), training.get("label_smoothing", 0.0)
    if loss == "squared_hinge" or (loss == "auto" and
                                   training.get("transfer", {}).get("head") == "svm"):
        return "\"squared_hinge\"", True
    if loss == "categorical_crossentropy" or smooth:
        return f"keras.losses.CategoricalCrossentropy(label_smoothing={smooth!r})", True
    return "\"sparse_categorical_crossentropy\"", False


def _schedule(training: dict) -> str:
    s = training.get("schedule", {})
    name, epochs = s.get("name", "constant"), "EPOCHS * steps_per_epoch"
    exprs = {
        "step": "keras.optimizers.schedules.PiecewiseConstantDecay(\n"
                f"        [int(b * steps_per_epoch) for b in {s.get('boundaries', [])!r}],\n"
                f"        [LEARNING_RATE * {s.get('gamma', 0.1)!r} ** i "
                f"for i in range({len(s.get('boundaries', [])) + 1})])",
        "exponential": "keras.optimizers.schedules.ExponentialDecay(\n"
                       f"        LEARNING_RATE, steps_per_epoch, {s.get('decay_rate', 0.9)!r})",
        "cosine": f"keras.optimizers.schedules.CosineDecay(LEARNING_RATE, {epochs}, "
                  f"alpha={s.get('alpha', 0.0)!r})",
        "cosine_restarts": "keras.optimizers.schedules.CosineDecayRestarts(\n"
                           "        LEARNING_RATE, "
                           f"int({s.get('first_decay_epochs', 5.0)!r} * steps_per_epoch), "
                           f"t_mul={s.get('t_mul', 2.0)!r}, m_mul={s.get('m_mul', 1.0)!r}, "
                           f"alpha={s.get('alpha', 0.0)!r})",
    }
    body = exprs.get(name, "LEARNING_RATE")
    note = "" if name in exprs or name == "constant" else \
        f"    # {name}: see the ReduceLROnPlateau callback in main()\n"
    if s.get("warmup_epochs"):
        note += f"    # the lab warms up linearly over {s['warmup_epochs']} epochs first\n"
    return ("def _schedule(steps_per_epoch):\n"
            f'    """The learning-rate schedule ({name})."""\n{note}    return {body}')


def _main(training: dict) -> str:
    callbacks = []
    stop = training.get("early_stopping", {})
    if stop.get("enabled"):
        callbacks.append(f"keras.callbacks.EarlyStopping(monitor={json.dumps(stop['monitor'])}, "
                         f"patience={stop['patience']}, "
                         f"restore_best_weights={stop['restore_best_weights']})")
    s = training.get("schedule", {})
    if s.get("name") == "plateau":
        callbacks.append(f"keras.callbacks.ReduceLROnPlateau(factor={s['factor']!r}, "
                         f"patience={s['patience']}, min_lr={s['min_lr']!r})")
    augment = _augmentation(training.get("augmentation", {}))
    return ("def main():\n"
            '    """Build, compile and train the model, then save it."""\n'
            "    keras.utils.set_random_seed(SEED)\n"
            "    (x_train, y_train), (x_val, y_val) = load_data()\n"
            "    model = build_model()\n"
            "    steps_per_epoch = max(1, int(np.ceil(len(x_train) / BATCH_SIZE)))\n"
            "    if compile_model(model, steps_per_epoch):\n"
            "        classes = model.outputs[0].shape[-1]\n"
            "        y_train = keras.utils.to_categorical(y_train, classes)\n"
            "        y_val = keras.utils.to_categorical(y_val, classes)\n"
            "    fit_data = {\"x\": x_train, \"y\": y_train, \"batch_size\": BATCH_SIZE}\n"
            f"{augment}"
            f"    callbacks = [{', '.join(callbacks)}]\n"
            "    model.fit(**fit_data, epochs=EPOCHS,\n"
            "              validation_data=(x_val, y_val) if len(x_val) else None,\n"
            "              callbacks=callbacks)\n"
            "    model.save(\"model.keras\")\n\n\n"
            "if __name__ == \"__main__\":\n    main()")


def _augmentation(aug: dict) -> str:
    layers = []
    for entry in aug.get("layers", []):
        params = dict(entry.get("params", {}))
        if entry["type"] == "RandomCrop":
            pad = params.get("padding", 4)
            layers += [f"keras.layers.ZeroPadding2D({pad})",
                       "keras.layers.RandomCrop(*INPUT_SHAPE[:2])"]
            continue
        args = ", ".join(f"{k}={json.dumps(v) if isinstance(v, str) else repr(v)}"
                         for k, v in params.items())
        layers.append(f"keras.layers.{entry['type']}({args})")
    notes = [f"    # the lab also applies {k} (alpha={aug[k]['alpha']}) to training batches\n"
             for k in ("mixup", "cutmix") if aug.get(k, {}).get("enabled")]
    if not layers:
        return "".join(notes)
    joined = ",\n        ".join(layers)
    return ("".join(notes) + "    # Augmentation of every training batch\n"
            f"    augment = keras.Sequential([\n        {joined}])\n"
            "    import tensorflow as tf\n\n"
            "    batches = (tf.data.Dataset.from_tensor_slices((x_train, y_train))\n"
            "               .shuffle(len(x_train), seed=SEED).batch(BATCH_SIZE)\n"
            "               .map(lambda x, y: (augment(x, training=True), y)))\n"
            "    fit_data = {\"x\": batches, \"shuffle\": False}\n")
