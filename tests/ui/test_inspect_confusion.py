"""The confusion matrix as a student reads it: class names that never run together, the full
names on hover, and a plain sentence instead of empty axes."""

import numpy as np
from PySide6.QtGui import QFontMetrics

from cnnlab.ui.views.inspect_confusion import LEFT_AXIS_PX, ConfusionView

LONG = ["airplane_with_long_wings", "automobile", "bird_of_prey", "cat", "deer_in_the_forest",
        "dog", "frog", "horse", "ship", "truck_and_trailer"]


def test_long_class_names_are_fitted_to_their_cells_and_named_on_hover(qtbot):
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(420, 420)
    view.show()
    assert view.currentWidget() is view.empty and "Press Evaluate" in view.empty.text()
    cm = np.arange(100).reshape(10, 10)
    view.set_matrix(cm, LONG)
    heatmap = view.heatmap
    assert view.currentWidget() is heatmap
    qtbot.waitUntil(lambda: heatmap.plot.getViewBox().width() > 100)
    heatmap.relabel()
    bottom, left = heatmap.tick_texts()
    metrics = QFontMetrics(heatmap.font())
    cell = heatmap.cell_px()
    assert 0 < cell <= heatmap.plot.getViewBox().width() / 10
    assert all(metrics.horizontalAdvance(text) < cell for text in bottom)  # never touching
    assert bottom[1] != "automobile" and left[3] == "cat" and left[0] != LONG[0]
    assert all(metrics.horizontalAdvance(text) <= LEFT_AXIS_PX for text in left)
    ticks = heatmap.plot.getAxis("bottom")._tickLevels[0]
    assert [t for _pos, t in ticks] == bottom
    assert heatmap.cell_text(0, 4) == ("true airplane_with_long_wings, predicted "
                                       "deer_in_the_forest: 4 samples (9% of the true class)")
    view.resize(900, 300)  # wide and low: the locked aspect leaves the cells narrow
    qtbot.waitUntil(lambda: heatmap.cell_px() < heatmap.plot.getViewBox().width() / 20)
    bottom = heatmap.tick_texts()[0]
    assert all(metrics.horizontalAdvance(text) < heatmap.cell_px() for text in bottom)
    view.resize(1400, 1400)
    qtbot.waitUntil(lambda: heatmap.tick_texts()[0][1] == "automobile")  # room: in full
    view.set_matrix(np.zeros((0, 0)), [])
    assert view.currentWidget() is view.empty
