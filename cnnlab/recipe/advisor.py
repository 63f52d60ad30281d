"""The lectures' rule of thumb for transfer learning, as advice for the UI.

|                     | similar dataset            | different dataset              |
|---------------------|----------------------------|--------------------------------|
| little data         | linear classifier on the   | linear classifier on features  |
|                     | top layer's features       | from earlier layers (cut low)  |
| a lot of data       | fine-tune a few layers     | fine-tune many or all layers   |

Pure Python: no Keras import.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from cnnlab.errors import SpecError


@dataclass(frozen=True)
class Advice:
    """A suggested strategy, a sentence or two for the UI, and suggested settings.

    Attributes:
        strategy: A ``transfer.strategy`` value.
        text: The explanation shown to the user.
        settings: Suggested ``transfer`` fields (``cut``: ``top`` or ``lower``
            is a hint for choosing ``cut_at``, not a field).

    """

    strategy: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)


_ADVICE = {
    ("small", "similar"): Advice(
        "feature_extractor",
        "Little data, similar images: freeze the whole base and train only a linear "
        "classifier (or SVM) on its top features; fine-tuning would overfit.",
        {"cut": "top"}),
    ("small", "different"): Advice(
        "feature_extractor",
        "Little data, different images: freeze the base but cut it lower (set cut_at to "
        "an earlier layer), since the top features are too specific to the old task; "
        "train a linear classifier on the earlier, more generic features.",
        {"cut": "lower"}),
    ("large", "similar"): Advice(
        "fine_tune",
        "A lot of data, similar images: start from the pretrained base and fine-tune its "
        "top layers at a lower learning rate after a few epochs of training the head.",
        {"cut": "top", "unfreeze": 4, "lr_multiplier": 0.1, "head_epochs": 3}),
    ("large", "different"): Advice(
        "fine_tune",
        "A lot of data, different images: fine-tune many or all layers (or train from "
        "scratch, initialised with the pretrained weights); there is enough data to adapt "
        "the whole network.",
        {"cut": "top", "unfreeze": 0, "lr_multiplier": 0.5, "head_epochs": 1}),
}


def advise_transfer(dataset_size: str, similarity: str) -> Advice:
    """Return the advice for a dataset size (small/large) and similarity (similar/different).

    Raises:
        SpecError: For values other than those.

    """
    if dataset_size not in ("small", "large"):
        raise SpecError("dataset_size", "must be small or large")
    if similarity not in ("similar", "different"):
        raise SpecError("similarity", "must be similar or different")
    advice = _ADVICE[(dataset_size, similarity)]
    return replace(advice, settings=dict(advice.settings))
