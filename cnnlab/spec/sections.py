"""The non-model sections of an experiment: data and the training recipe.

Every field states its default and range; the defaults make a working
experiment (the ``shapes`` dataset, Adam at 1e-3, 10 epochs of batch 64).
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.errors import SpecError, brief
from cnnlab.params import MAX_PENALTY
from cnnlab.spec.schema import param_field as P
from cnnlab.spec.schema import section_field as S

SHAPES_DEFAULT_CLASSES = ["circle", "square", "triangle", "star", "cross", "ring"]
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")
SCHEDULES = ("constant", "step", "exponential", "cosine", "cosine_restarts", "plateau")
MAX_EPOCHS = 100_000
STRATEGIES = ("none", "scratch", "feature_extractor", "fine_tune", "multipliers")


@dataclass(frozen=True)
class ShapesSpec:
    """Options of the synthetic ``shapes`` dataset."""

    image_size: int = P("int", 32, "Height and width of the images in pixels", min=8, max=512)
    channels: int = P("choice", 3, "1 for grayscale, 3 for colour", choices=(1, 3))
    classes: list = P("json", SHAPES_DEFAULT_CLASSES, "Shape names, one class each")
    samples: int = P("int", 3000, "Number of images generated (before the split)", min=10,
                     max=1_000_000)
    noise: float = P("float", 0.05, "Std of the background noise (images in [0, 1])", min=0,
                     max=1)
    seed: int = P("int", 0, "Seed of the generator", min=0, max=2**31 - 1)

    def check(self, path: str) -> None:
        """Check the class list (names are checked against the generator at load time)."""
        where = f"{path}.classes"
        if not isinstance(self.classes, list) or len(self.classes) < 2:
            raise SpecError(where, "classes must be a list of at least two shape names")
        if not all(isinstance(c, str) for c in self.classes):
            raise SpecError(where, "classes must be shape names (strings)")
        if len(set(self.classes)) != len(self.classes):
            raise SpecError(where, "classes must not repeat a shape")


@dataclass(frozen=True)
class DataSpec:
    """Where the images come from and how they are split and normalised."""

    source: str = P("choice", "shapes", "Dataset source",
                    choices=("shapes", "npz", "folder", "keras"))
    path: str | None = P("str", None, "NPZ file or image folder", optional=True)
    keras_name: str = P("choice", "mnist", "Keras dataset name", choices=KERAS_DATASETS)
    validation_split: float = P("float", 0.2, "Fraction of training data held out for "
                                "validation", min=0.0, max=0.9)
    test_split: float = P("float", 0.1, "Fraction held out for testing (sources without "
                          "their own test split)", min=0.0, max=0.9)
    normalization: str = P("choice", "scale", "scale: x/255; standardize: per-channel "
                           "mean/std of the training split", choices=("scale", "standardize",
                                                                       "none"))
    bad_files: str = P("choice", "skip", "What to do with unreadable image files",
                       choices=("skip", "stop"))
    max_samples: int | None = P("int", None, "Use at most this many training samples",
                                min=1, max=100_000_000, optional=True)
    shapes: ShapesSpec = S(ShapesSpec, "Options of the synthetic shapes dataset")
    exclude: list = P("json", [], "Dataset revision: samples left out of every split, by id: "
                      "a folder file's path under data.path (cat/img001.png) or an index into "
                      "the source's arrays (train[12], test[3]); the other samples keep their "
                      "split")
    relabel: dict = P("json", {}, "Dataset revision: samples given another class, "
                      "{id: class name} with ids as in exclude (an excluded sample stays out)")

    def check(self, path: str) -> None:
        """Check that file sources name a path and the revision's ids are strings."""
        if self.source in ("npz", "folder") and not self.path:
            raise SpecError(f"{path}.path", f"the {self.source} source needs a path")
        if self.validation_split + self.test_split >= 0.95:
            raise SpecError(f"{path}.validation_split",
                            "validation_split + test_split leave no training data")
        _check_revision(self.exclude, self.relabel, path)


MAX_SAMPLE_ID = 1024  # characters of one sample id (a relative file path or train[N])


def _check_revision(exclude: object, relabel: object, path: str) -> None:
    """Check ``data.exclude`` (a list of ids) and ``data.relabel`` ({id: class name})."""
    if not isinstance(exclude, list):
        raise SpecError(f"{path}.exclude", f"must be a list of sample ids (got {brief(exclude)})")
    for i, sample in enumerate(exclude):
        _check_sample_id(sample, f"{path}.exclude[{i}]")
    if not isinstance(relabel, dict):
        raise SpecError(f"{path}.relabel", "must be an object {sample id: class name} "
                        f"(got {brief(relabel)})")
    for sample, name in relabel.items():
        _check_sample_id(sample, f"{path}.relabel")
        if not isinstance(name, str) or not name:
            raise SpecError(f"{path}.relabel", f"the class of {brief(sample)} must be a class "
                            f"name (got {brief(name)})")


def _check_sample_id(sample: object, where: str) -> None:
    if not isinstance(sample, str) or not sample or len(sample) > MAX_SAMPLE_ID:
        raise SpecError(where, "a sample id must be a file path under data.path or train[N] / "
                        f"test[N] (got {brief(sample)})")


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimizer (Keras names and defaults)."""

    name: str = P("choice", "adam", "Optimizer", choices=OPTIMIZERS)
    learning_rate: float = P("float", 1e-3, "Base learning rate", min=0.0, max=10.0)
    momentum: float = P("float", 0.9, "Momentum (SGD, RMSprop)", min=0.0, max=0.999)
    nesterov: bool = P("bool", False, "Nesterov momentum (SGD)")
    weight_decay: float | None = P("float", None, "Decoupled weight decay", min=0.0,
                                   max=10.0, optional=True)
    clipnorm: float | None = P("float", None, "Clip each gradient to this norm", min=0.0,
                               max=1e6, optional=True)
    clipvalue: float | None = P("float", None, "Clip gradient values to +-this", min=0.0,
                                max=1e6, optional=True)
    beta_1: float = P("float", 0.9, "Adam beta_1", min=0.0, max=0.9999)
    beta_2: float = P("float", 0.999, "Adam beta_2", min=0.0, max=0.99999)
    epsilon: float = P("float", 1e-7, "Numerical epsilon", min=0.0, max=1.0)

    def check(self, path: str) -> None:
        """Refuse both clipping modes at once (Keras takes one), as training would."""
        if self.clipnorm is not None and self.clipvalue is not None:
            raise SpecError(f"{path}.clipvalue", "set clipnorm or clipvalue, not both (Keras "
                            "allows one)")


@dataclass(frozen=True)
class ScheduleSpec:
    """Learning-rate schedule; durations are in epochs (fractions allowed)."""

    name: str = P("choice", "constant", "Schedule", choices=SCHEDULES)
    warmup_epochs: float = P("float", 0.0, "Linear warm-up from 0 before the schedule",
                             min=0.0, max=MAX_EPOCHS)
    boundaries: list = P("json", [], "step: epochs at which the rate is multiplied by gamma")
    gamma: float = P("float", 0.1, "step: factor at each boundary", min=0.0, max=1.0)
    decay_rate: float = P("float", 0.9, "exponential: factor per epoch", min=0.0, max=1.0)
    alpha: float = P("float", 0.0, "cosine: final rate as a fraction of the base", min=0.0,
                     max=1.0)
    first_decay_epochs: float = P("float", 5.0, "cosine_restarts: length of the first "
                                  "cycle", min=0.01, max=MAX_EPOCHS)
    t_mul: float = P("float", 2.0, "cosine_restarts: cycle length multiplier", min=1.0,
                     max=100.0)
    m_mul: float = P("float", 1.0, "cosine_restarts: peak multiplier per restart", min=0.0,
                     max=1.0)
    factor: float = P("float", 0.1, "plateau: factor when the metric stalls", min=0.0,
                      max=1.0)
    patience: int = P("int", 3, "plateau: epochs without improvement", min=0,
                      max=MAX_EPOCHS)
    min_lr: float = P("float", 1e-6, "plateau: lower bound", min=0.0, max=10.0)

    def check(self, path: str) -> None:
        """Check the step boundaries."""
        b = self.boundaries
        if not isinstance(b, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= MAX_EPOCHS
            for x in b
        ) or b != sorted(b):
            raise SpecError(f"{path}.boundaries", "boundaries must be increasing positive "
                            f"epoch numbers (at most {MAX_EPOCHS:,})")


@dataclass(frozen=True)
class RegularizationSpec:
    """Experiment-wide regularization defaults (blocks may override them)."""

    kernel_l1: float = P("float", 0.0, "L1 penalty on kernels", min=0.0, max=MAX_PENALTY)
    kernel_l2: float = P("float", 0.0, "L2 penalty on kernels", min=0.0, max=MAX_PENALTY)
    bias_l2: float = P("float", 0.0, "L2 penalty on biases", min=0.0, max=MAX_PENALTY)
    max_norm: float | None = P("float", None, "Max-norm radius c (lectures: 2 to 3)",
                               min=0.0, max=MAX_PENALTY, optional=True)
    activity_l1: float = P("float", 0.0, "L1 penalty on activations", min=0.0,
                           max=MAX_PENALTY)
    sparsity_rho: float | None = P("float", None, "KL sparsity: target mean activation",
                                   min=1e-6, max=1 - 1e-6, optional=True)
    sparsity_beta: float = P("float", 0.0, "KL sparsity: weight of the penalty", min=0.0,
                             max=MAX_PENALTY)
    batchnorm: str = P("choice", "none", "Insert batch-norm after every convolution",
                       choices=("none", "before_activation", "after_activation"))


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """Stop when the monitored metric stops improving."""

    enabled: bool = P("bool", False, "Use early stopping")
    monitor: str = P("choice", "val_loss", "Metric to watch",
                     choices=("val_loss", "val_accuracy", "loss", "accuracy"))
    patience: int = P("int", 5, "Epochs without improvement before stopping", min=0,
                      max=MAX_EPOCHS)
    restore_best_weights: bool = P("bool", True, "Keep the best epoch's weights")


@dataclass(frozen=True)
class MixSpec:
    """MixUp or CutMix (Keras layers), with soft labels."""

    enabled: bool = P("bool", False, "Use it")
    alpha: float = P("float", 0.2, "Beta distribution parameter (lectures: 0.2 to 0.4)",
                     min=0.0, max=10.0)


@dataclass(frozen=True)
class AugmentationSpec:
    """Augmentation applied in training only."""

    placement: str = P("choice", "pipeline", "Run augmentation in the tf.data pipeline (CPU) "
                       "or inside the model (accelerator)", choices=("pipeline", "model"))
    layers: list = P("json", [], "Keras augmentation layers: [{type, params}]")
    mixup: MixSpec = S(MixSpec, "MixUp")
    cutmix: MixSpec = S(MixSpec, "CutMix")

    def check(self, path: str) -> None:
        """Check the augmentation layers against the augmentation catalogue."""
        from cnnlab.recipe.augment_catalog import validate_layers

        where = f"{path}.layers"
        if not isinstance(self.layers, list):
            raise SpecError(where, "must be a list of {type, params} objects")
        for i, entry in enumerate(self.layers):
            kind = entry.get("type") if isinstance(entry, dict) else None
            if isinstance(entry, dict) and not isinstance(kind, str):
                raise SpecError(f"{where}[{i}].type", "type must be the name of an "
                                f"augmentation layer (got {brief(kind)})")
        validate_layers(self.layers, where)


@dataclass(frozen=True)
class TransferSpec:
    """Transfer learning: which base, where it is cut, and how it is trained."""

    strategy: str = P("choice", "none", "none, scratch, feature_extractor, fine_tune or "
                      "multipliers", choices=STRATEGIES)
    base: str | None = P("str", None, "Keras application name, preset name or model file",
                         optional=True)
    base_source: str = P("choice", "application", "What base names",
                         choices=("application", "preset", "file"))
    weights: str = P("choice", "imagenet", "imagenet, random, or file (weights_path)",
                     choices=("imagenet", "random", "file"))
    weights_path: str | None = P("str", None, "Local weights file", optional=True)
    cut_at: str | None = P("str", None, "Last base layer kept (default: the whole "
                           "feature extractor)", optional=True)
    prefix: str = P("str", "base_", "Id prefix of the base's blocks in the model graph")
    head_epochs: int = P("int", 3, "fine_tune: epochs training only the head first", min=0,
                         max=MAX_EPOCHS)
    unfreeze: int = P("int", 0, "fine_tune: number of top base layers with weights unfrozen",
                      min=0, max=100_000)
    lr_multiplier: float = P("float", 0.1, "fine_tune: learning-rate multiplier for the "
                             "unfrozen base", min=0.0, max=10.0)
    layer_multipliers: dict = P("json", {}, "multipliers: {block id: lr multiplier}; 0 "
                                "freezes")
    head: str = P("choice", "softmax", "Classifier head", choices=("softmax", "svm"))
    svm_l2: float = P("float", 0.01, "svm head: L2 on the linear layer", min=0.0,
                      max=MAX_PENALTY)

    def check(self, path: str) -> None:
        """Check the multipliers and that a base is named when one is needed."""
        m = self.layer_multipliers
        if not isinstance(m, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100
            for v in m.values()
        ):
            raise SpecError(f"{path}.layer_multipliers",
                            "layer_multipliers must map block ids to numbers from 0 to 100")
        if self.weights == "file" and not self.weights_path:
            raise SpecError(f"{path}.weights_path", "weights 'file' needs weights_path")


@dataclass(frozen=True)
class DeviceSpec:
    """Where and how the model runs."""

    device: str = P("choice", "auto", "auto uses the GPU when there is one",
                    choices=("auto", "cpu", "gpu"))
    mixed_precision: str = P("choice", "none", "Mixed precision policy",
                             choices=("none", "mixed_float16", "mixed_bfloat16"))
    jit_compile: str = P("choice", "auto", "XLA compilation", choices=("auto", "on", "off"))
    steps_per_execution: int = P("int", 1, "Batches per compiled call", min=1, max=10_000)
    distribute: str = P("choice", "none", "Data parallelism",
                        choices=("none", "mirrored", "multi_worker"))
    tensorboard: bool = P("bool", False, "Also write TensorBoard logs in the run folder")


@dataclass(frozen=True)
class TrainingSpec:
    """The training recipe."""

    epochs: int = P("int", 10, "Number of epochs", min=1, max=MAX_EPOCHS)
    batch_size: int = P("int", 64, "Samples per batch", min=1, max=65_536)
    seed: int = P("int", 0, "Seed for weights, shuffling and augmentation", min=0,
                  max=2**31 - 1)
    deterministic: bool = P("bool", False, "Reproducible run: Keras seeds plus TensorFlow "
                            "op determinism (bit-identical weights on one machine; slower)")
    loss: str = P("choice", "auto", "auto picks cross-entropy (or squared hinge for an SVM "
                  "head)", choices=("auto", "categorical_crossentropy",
                                    "sparse_categorical_crossentropy", "squared_hinge"))
    metrics: list = P("json", ["accuracy"], "Metrics: accuracy, top5")
    label_smoothing: float = P("float", 0.0, "Label smoothing", min=0.0, max=0.5)
    gradient_accumulation_steps: int = P("int", 1, "Batches per optimizer update", min=1,
                                         max=1024)
    optimizer: OptimizerSpec = S(OptimizerSpec, "Optimizer")
    schedule: ScheduleSpec = S(ScheduleSpec, "Learning-rate schedule")
    regularization: RegularizationSpec = S(RegularizationSpec, "Regularization defaults")
    early_stopping: EarlyStoppingSpec = S(EarlyStoppingSpec, "Early stopping")
    augmentation: AugmentationSpec = S(AugmentationSpec, "Augmentation")
    transfer: TransferSpec = S(TransferSpec, "Transfer learning")
    device: DeviceSpec = S(DeviceSpec, "Device and precision")

    def check(self, path: str) -> None:
        """Check the metric names."""
        m = self.metrics
        if not isinstance(m, list) or not all(x in ("accuracy", "top5") for x in m):
            raise SpecError(f"{path}.metrics", "metrics must be a list of accuracy, top5")


