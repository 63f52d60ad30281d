"""Acceptance matrix, augmentation part: every layer of the augmentation catalogue in the
pipeline and in the model, MixUp and CutMix, each trained once through ``cnnlab train``.

Each case trains at learning rate 0, so the saved weights are those every
batch saw: the logged training loss must differ from the loss of the clean
training images (augmentation ran) while the validation loss equals the
saved model's loss on the clean validation images (it never runs there).
"""

from __future__ import annotations

import pytest
from matrix_checks import close, cross_entropy, predict
from matrix_lab import layer_names

from cnnlab.recipe.augment_catalog import AUGMENTATIONS


def augmented(placement: str, layers: list, **mix):
    """An edit: learning rate 0 and this augmentation."""
    def edit(d):
        d["training"]["optimizer"]["learning_rate"] = 0.0
        aug = d["training"]["augmentation"]
        aug.update(placement=placement, layers=layers)
        for name, alpha in mix.items():
            aug[name] = {"enabled": True, "alpha": alpha}
    return edit


def check_training_only(run) -> None:
    """Training batches were changed; validation images were not."""
    x, y = run.train_arrays()
    clean = cross_entropy(predict(run.model, x), y)
    xv, yv = run.val_arrays()
    metrics = run.result["metrics"]
    assert close(metrics["val_loss"], cross_entropy(predict(run.model, xv), yv), rel=1e-4)
    # without augmentation the two differ by float32 rounding only (measured: 2e-7)
    assert abs(metrics["loss"] - clean) > 1e-6, (metrics["loss"], clean)


STRONG = {"RandomFlip": {"mode": "horizontal_and_vertical"}, "RandomRotation": {"factor": 0.5},
          "RandomErasing": {"factor": 1.0, "scale": 0.5}, "RandomInvert": {"factor": 1.0},
          "RandomGrayscale": {"factor": 1.0}, "RandomGaussianBlur": {"factor": 1.0},
          "RandomPerspective": {"factor": 1.0, "scale": 0.5},
          "RandomElasticTransform": {"factor": 1.0, "scale": 1.0}}


@pytest.mark.parametrize("placement", ["pipeline", "model"])
@pytest.mark.parametrize("kind", sorted(AUGMENTATIONS))
def test_every_augmentation_layer_changes_training_batches_only(lab, kind, placement):
    layers = [{"type": kind, "params": STRONG.get(kind, {})}]
    run = lab.train(lab.spec(augmented(placement, layers)))
    assert run.ok, run.describe()
    check_training_only(run)
    assert layer_names(run) == layer_names(lab.cached("base"))  # never saved in the model


@pytest.mark.parametrize("mixer", ["mixup", "cutmix"])
def test_mixup_and_cutmix_mix_training_batches_only(lab, mixer):
    run = lab.train(lab.spec(augmented("pipeline", [], **{mixer: 0.4})))
    assert run.ok, run.describe()
    check_training_only(run)
