"""GUI responsiveness while training: lateness of a 10 ms QTimer heartbeat.

Trains a small CNN on the shapes data through the TrainingView (real trainer,
worker thread, 25 Hz redraw) and measures how late each heartbeat tick fires
in the GUI thread. Prints the 50th/99th percentile and the maximum lateness;
the target is a 99th percentile <= 50 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui_heartbeat.py
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 10


def experiment():
    """The default experiment for 6 epochs (~10 s on 2 cores): long enough for a p99."""
    from cnnlab import default_experiment

    exp = default_experiment()
    return dataclasses.replace(exp, training=dataclasses.replace(exp.training, epochs=6))


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from cnnlab.ui.views.training_view import TrainingView

    exp = experiment()
    with tempfile.TemporaryDirectory() as ws:
        view = TrainingView(lambda: exp, workspace=ws)
        view.resize(1400, 800)
        view.show()
        lateness: list[float] = []
        clock = QElapsedTimer()
        last = [0.0]

        def tick() -> None:
            now = clock.nsecsElapsed() / 1e6
            if view.running and view.buffers.batch_x:  # measure while batches run
                lateness.append(max(0.0, now - last[0] - TICK_MS))
            last[0] = now

        heart = QTimer()
        heart.setInterval(TICK_MS)
        heart.timeout.connect(tick)
        clock.start()
        heart.start()
        view.worker.finished.connect(lambda: QTimer.singleShot(100, app.quit))
        QTimer.singleShot(300_000, app.quit)
        view.start()
        app.exec()
        heart.stop()
        print(view.message.text())
    arr = np.asarray(lateness)
    if arr.size == 0:
        print("no heartbeat samples taken during training")
        return
    print(f"heartbeat {TICK_MS} ms, {arr.size} ticks during training: "
          f"p50 {np.percentile(arr, 50):.1f} ms, p99 {np.percentile(arr, 99):.1f} ms, "
          f"max {arr.max():.1f} ms (target p99 <= 50 ms)")


if __name__ == "__main__":
    main()
