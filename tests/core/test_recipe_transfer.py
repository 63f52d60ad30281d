"""Transfer learning: phases, freezing, per-layer rates, the advisor, and a real experiment.

The experiment pretrains a small CNN on six shape classes, saves it, and
trains on 30 labelled images per class of four other shapes: as a feature
extractor, fine-tuned, and from scratch, with the same budget. Transfer must
beat scratch by a margin.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlab.build import build_model  # noqa: E402
from cnnlab.data import generate_shapes  # noqa: E402
from cnnlab.errors import SpecError  # noqa: E402
from cnnlab.recipe import (  # noqa: E402
    Phase,
    advise_transfer,
    apply_phase,
    base_layers,
    make_loss,
    make_metrics,
    make_optimizer,
    transfer_phases,
)
from cnnlab.recipe.layerwise import LayerwiseAdam  # noqa: E402
from cnnlab.spec import experiment_from_dict  # noqa: E402

SIZE = 24
SOURCE = ("circle", "square", "triangle", "star", "cross", "ring")
TARGET = ("half_disc", "crescent", "bar", "pentagon")
PER_CLASS = 30
BASE = [
    ("base_conv1", "Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same",
                              "activation": "relu"}),
    ("base_pool1", "MaxPooling2D", {}),
    ("base_conv2", "Conv2D", {"filters": 64, "kernel_size": 3, "padding": "same",
                              "activation": "relu"}),
    ("base_bn", "BatchNormalization", {"momentum": 0.9}),
    ("base_pool2", "MaxPooling2D", {}),
    ("base_conv3", "Conv2D", {"filters": 64, "kernel_size": 3, "padding": "same",
                              "activation": "relu"}),
    ("base_gmp", "GlobalMaxPooling2D", {}),
]


def experiment(classes, epochs=6, **transfer):
    blocks = [*BASE, ("head", "Output", {"units": classes})]
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [SIZE, SIZE, 1]}}]
    nodes += [{"id": i, "type": t, "params": p} for i, t, p in blocks]
    edges = [{"src": a["id"], "dst": b["id"]} for a, b in zip(nodes, nodes[1:])]
    training = {"epochs": epochs, "batch_size": 16, "optimizer": {"learning_rate": 0.01},
                "transfer": transfer}
    return experiment_from_dict({"model": {"nodes": nodes, "edges": edges},
                                 "training": training})


def shapes(classes, n, seed):
    x, y = generate_shapes(classes, n, image_size=SIZE, channels=1, seed=seed)
    return (x / 255.0).astype("float32"), y


def pretrain(folder, seed=0):
    """Pretrain the base on the source shapes; save it as a .keras file."""
    x, y = shapes(SOURCE, 2400, seed=seed)
    exp = experiment(len(SOURCE), strategy="none")
    keras.utils.set_random_seed(seed)
    model = build_model(exp)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=make_loss(exp.training, 6),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.1, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9
    model.save(folder / "pretrained.keras")
    return folder / "pretrained.keras"


def target_data(seed=1):
    """A small labelled set of the other shapes (30 per class) and a test set."""
    x, y = shapes(TARGET, 640, seed=seed)
    small = np.concatenate([np.flatnonzero(y == c)[:PER_CLASS] for c in range(len(TARGET))])
    rest = np.setdiff1d(np.arange(len(y)), small)
    reps = 2  # two passes per epoch: fewer epochs of Keras overhead, same data
    return (np.tile(x[small], (reps, 1, 1, 1)), np.tile(y[small], reps)), (x[rest], y[rest])


def train_on_target(pretrained, target, strategy, **transfer):
    """Build, load the base by layer name (unless scratch), run the phases; report."""
    (x, y), (x_test, y_test) = target
    exp = experiment(len(TARGET), strategy=strategy, **transfer)
    t = exp.training
    keras.utils.set_random_seed(1)
    model = build_model(exp)
    if strategy != "scratch":
        source = keras.models.load_model(pretrained)
        for layer in base_layers(model, t):
            layer.set_weights(source.get_layer(layer.name).get_weights())
    start = {w.path: w.numpy().copy() for w in model.weights}
    steps = len(x) // t.batch_size
    for phase in transfer_phases(t):
        multipliers = apply_phase(model, t, phase)
        model.compile(optimizer=make_optimizer(t, steps, multipliers,
                                               start_step=phase.start_epoch * steps),
                      loss=make_loss(t, len(TARGET)), metrics=make_metrics(t, False))
        model.fit(x, y, batch_size=t.batch_size, initial_epoch=phase.start_epoch,
                  epochs=phase.end_epoch, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    changed = {w.path for w in model.weights if not np.array_equal(w.numpy(), start[w.path])}
    return accuracy, changed


def compare(pretrained, target):
    return {
        "scratch": train_on_target(pretrained, target, "scratch"),
        "feature_extractor": train_on_target(pretrained, target, "feature_extractor"),
        "fine_tune": train_on_target(pretrained, target, "fine_tune", head_epochs=2,
                                     unfreeze=1, lr_multiplier=0.1),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return compare(pretrain(tmp_path_factory.mktemp("base")), target_data())


def assert_transfer_wins(results):
    acc = {k: v[0] for k, v in results.items()}
    print("test accuracy on 4 new shapes from 30 labels each:",
          {k: round(v, 3) for k, v in acc.items()})
    assert acc["feature_extractor"] >= acc["scratch"] + 0.07
    assert acc["fine_tune"] >= acc["scratch"] + 0.12


def test_feature_extractor_leaves_the_base_bit_identical(results):
    _, changed = results["feature_extractor"]
    assert changed == {"head/kernel", "head/bias"}


def test_fine_tune_changes_only_the_unfrozen_layers(results):
    _, changed = results["fine_tune"]
    # base_bn's moving statistics stay too: frozen batch norm runs in inference mode.
    assert changed == {"head/kernel", "head/bias", "base_conv3/kernel", "base_conv3/bias"}


def test_transfer_beats_training_from_scratch_on_a_small_set(results):
    assert_transfer_wins(results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3])
def test_transfer_wins_with_other_seeds(seed, tmp_path):
    assert_transfer_wins(compare(pretrain(tmp_path, seed), target_data(seed + 1)))


def test_phases_of_each_strategy():
    def phases(**transfer):
        return transfer_phases(experiment(4, epochs=10, **transfer).training)

    assert phases(strategy="none") == [Phase(0, 10, "all")]
    assert phases(strategy="scratch") == [Phase(0, 10, "all")]
    assert phases(strategy="feature_extractor") == [Phase(0, 10, "none")]
    assert phases(strategy="fine_tune", head_epochs=3, unfreeze=2, lr_multiplier=0.2) == [
        Phase(0, 3, "none"), Phase(3, 10, "top_n", 0.2)]
    assert phases(strategy="fine_tune", head_epochs=0, unfreeze=0) == [
        Phase(0, 10, "all", 0.1)]
    assert phases(strategy="fine_tune", head_epochs=20) == [Phase(0, 10, "none")]


def trainable(model):
    return {layer.name for layer in model.layers if layer.trainable and layer.weights}


def test_apply_phase_freezes_and_returns_multipliers():
    exp = experiment(4, strategy="fine_tune", unfreeze=2, lr_multiplier=0.1)
    model = build_model(exp)
    assert apply_phase(model, exp.training, Phase(0, 2, "none")) == {}
    assert trainable(model) == {"head"}
    multipliers = apply_phase(model, exp.training, Phase(2, 6, "top_n", 0.1))
    assert multipliers == {"base_conv2": 0.1, "base_conv3": 0.1}
    assert trainable(model) == {"head", "base_conv2", "base_conv3"}
    apply_phase(model, exp.training, Phase(2, 6, "all", 0.1))
    assert trainable(model) == {"head", "base_conv1", "base_conv2", "base_conv3"}
    scratch = experiment(4, strategy="scratch")
    assert apply_phase(model, scratch.training, Phase(0, 6, "all")) == {}
    assert "base_bn" in trainable(model)  # from scratch, batch norm learns


def test_layer_multipliers_strategy_freezes_zero_and_scales_others():
    exp = experiment(4, strategy="multipliers",
                     layer_multipliers={"base_conv1": 0, "base_conv3": 0.5})
    model = build_model(exp)
    (phase,) = transfer_phases(exp.training)
    multipliers = apply_phase(model, exp.training, phase)
    assert multipliers == {"base_conv1": 0.0, "base_conv3": 0.5}
    assert "base_conv1" not in trainable(model)
    opt = make_optimizer(exp.training, 10, multipliers)
    assert isinstance(opt, LayerwiseAdam) and opt.layer_multipliers == multipliers


def test_unknown_block_in_multipliers_is_named():
    exp = experiment(4, strategy="multipliers")
    model = build_model(exp)
    t = exp.training
    bad = type(t.transfer)(strategy="multipliers", layer_multipliers={"nope": 0.5})
    with pytest.raises(SpecError, match="layer_multipliers.nope"):
        apply_phase(model, type(t)(transfer=bad), Phase(0, 1, "all"))


@pytest.mark.parametrize("size, similarity, strategy", [
    ("small", "similar", "feature_extractor"), ("small", "different", "feature_extractor"),
    ("large", "similar", "fine_tune"), ("large", "different", "fine_tune")])
def test_advisor_follows_the_rule_of_thumb(size, similarity, strategy):
    advice = advise_transfer(size, similarity)
    assert advice.strategy == strategy and len(advice.text) > 40
    if (size, similarity) == ("small", "different"):
        assert "lower" in advice.text and advice.settings["cut"] == "lower"


def test_advisor_refuses_unknown_answers():
    with pytest.raises(SpecError):
        advise_transfer("huge", "similar")
