"""Canvas speed: one parameter edit -> analysis, canvas and views refreshed.

Opens the window offscreen on the default CNN (the baseline), on ResNet-50
with its 16 modules collapsed, and on ResNet-50 with every module expanded
(over 150 blocks on the canvas). Edits ``conv1``'s filters several times and
prints the median edit -> refresh time of each, and its ratio to the default
CNN's measured in the same process (a ratio survives a slow or busy machine;
the target: ResNet-50 expanded under 100 ms on a laptop).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas_refresh.py
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from PySide6.QtWidgets import QApplication  # noqa: E402

FILTERS = (32, 48, 64, 96, 40, 56, 64)


def window_on(exp, expanded: bool):
    """A shown main window on ``exp`` (modules expanded when ``expanded``)."""
    from cnnlab.ui.main_window import MainWindow

    window = MainWindow(exp)
    window.resize(1400, 900)
    window.show()
    QApplication.processEvents()
    if expanded:
        window.editor.fold_all(False)
        QApplication.processEvents()
    return window


def median_refresh_s(window, block: str = "conv1") -> tuple[float, int]:
    """Median seconds of an edit of ``block``'s filters until the events are processed."""
    times = []
    for filters in FILTERS:
        node = window.doc.experiment.model.node(block)
        start = time.perf_counter()
        window.editor.edit_params(block, {**node.params, "filters": filters})
        QApplication.processEvents()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(window.scene.blocks)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from cnnlab import preset_choice

    cases = [("default CNN", preset_choice.default_experiment(), False),
             ("ResNet-50, modules collapsed", preset_choice.load_preset("resnet50"), False),
             ("ResNet-50, modules expanded", preset_choice.load_preset("resnet50"), True)]
    baseline = None
    for label, exp, expanded in cases:
        window = window_on(exp, expanded)
        median_refresh_s(window)  # warm-up: first paints, caches
        seconds, blocks = median_refresh_s(window)
        baseline = baseline or seconds
        print(f"{label:30s} {blocks:4d} blocks on the canvas: edit -> refresh median "
              f"{seconds * 1000:6.1f} ms, {seconds / baseline:5.1f}x the default CNN")
        window.doc.undo_stack.setClean()  # no "save changes?" on close
        window.close()
        window.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
