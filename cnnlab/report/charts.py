"""The pictures of a run report, as PNG ``data:`` URIs to embed in the page.

Curves (loss, accuracy, learning rate per epoch), the confusion matrix with the
class names and the attribution examples are matplotlib figures on their own
Agg canvas (see :mod:`cnnlab.inspect.figures`): no display, any thread.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence

import numpy as np

from cnnlab.inspect import figures as fg

# Panels of the curves figure: title, y label, [(metric, legend)].
CURVE_PANELS = (
    ("Loss", "loss", (("loss", "training"), ("val_loss", "validation"))),
    ("Accuracy", "accuracy", (("accuracy", "training"), ("val_accuracy", "validation"),
                              ("top5", "training top-5"), ("val_top5", "validation top-5"))),
    ("Learning rate", "learning rate", (("lr", "at the epoch's end"),)),
)


def data_uri(fig) -> str:
    """The figure as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(fg.png_bytes(fig)).decode("ascii")


def _finite(values: Sequence[float]) -> bool:
    return any(v is not None and math.isfinite(v) for v in values)


def curves_figure(metrics: Mapping[str, Sequence[float]]):
    """Loss, accuracy and learning rate over the epochs; None when nothing was recorded."""
    panels = [(t, y, [(k, lab) for k, lab in series if _finite(metrics.get(k, ()))])
              for t, y, series in CURVE_PANELS]
    panels = [p for p in panels if p[2]]
    if not panels:
        return None
    fig = fg.new_figure(3.6 * len(panels) + 0.6, 3.2)
    for ax, panel in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels, strict=True):
        _panel(ax, metrics, *panel)
    return fig


def _panel(ax, metrics: Mapping[str, Sequence[float]], title: str, ylabel: str,
           series: Sequence[tuple[str, str]]) -> None:
    """One panel of the curves: a line per metric, a log scale for a rate that spans decades."""
    for key, label in series:
        values = np.asarray(metrics[key], dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3,
                linewidth=1.4, label=label)
        low, high = np.nanmin(values), np.nanmax(values)
        if key == "lr" and low > 0 and high > 20 * low:
            ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)


def confusion_figure(cm: np.ndarray, names: Sequence[str], heading: str):
    """The confusion matrix with the class names on both axes (as ``cnnlab inspect``)."""
    return fg.confusion_figure(cm, names, heading)


def examples_figure(images: Sequence[np.ndarray], heats: Sequence[np.ndarray],
                    captions: Sequence[str], method: str):
    """Each image above its attribution map laid over it, with its caption."""
    from cnnlab.inspect import overlay

    n = len(images)
    fig = fg.new_figure(max(2.6 * n, 4.0), 5.6)
    axes = np.asarray(fig.subplots(2, n)).reshape(2, n)
    for col, (image, heat, caption) in enumerate(zip(images, heats, captions, strict=True)):
        fg.show_image(axes[0, col], image, caption)
        fg.show_image(axes[1, col], overlay(image, heat, 0.45), method)
    fg.title(fig, f"{method}: where the network looks for the class it predicts "
                  "(red = most)")
    return fig
