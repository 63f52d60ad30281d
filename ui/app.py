"""Entry point of the window: ``cnnlab`` with no arguments, or ``python -m cnnlab.ui``.

The window is painted before TensorFlow is imported: only the light core
(spec, catalogue, analysis) loads at start; TensorFlow follows on a
background thread once the first paint is done, and the status bar says so.
With ``--startup-probe`` (or ``CNNLAB_STARTUP_PROBE=1``) the app prints the
time of its first paint and quits; ``benchmarks/bench_startup.py`` uses it.
With ``--tensorflow-probe`` it prints ``tensorflow_loaded STATE`` once the
background import has finished (and the views that need TensorFlow have
started), then quits: a test checks that TensorFlow's start-up log lines
never reach the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from cnnlab import CnnlabError, load_experiment, preset_choice
from cnnlab.startup_check import window_start_problem
from cnnlab.ui import crash, dialogs, gc_policy
from cnnlab.ui.main_window import MainWindow
from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.tf_loader import TensorFlowLoader


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The window's own arguments (unknown ones are left to Qt)."""
    parser = argparse.ArgumentParser(prog="cnnlab", description="CNN Lab window")
    parser.add_argument("file", nargs="?", help="experiment file to open")
    parser.add_argument("--workspace", help="workspace folder (default: the user data dir)")
    parser.add_argument("--startup-probe", action="store_true",
                        help="print the time of the first paint and quit")
    parser.add_argument("--tensorflow-probe", action="store_true",
                        help="print when TensorFlow has loaded in the background and quit")
    parser.add_argument("--no-tensorflow", action="store_true",
                        help="do not import TensorFlow in the background")
    args, _unknown = parser.parse_known_args(list(argv))
    args.startup_probe = args.startup_probe or os.environ.get("CNNLAB_STARTUP_PROBE") == "1"
    return args


class FirstPaint(QObject):
    """Calls ``callback`` once, right after the watched widget's first paint."""

    def __init__(self, widget, callback):
        super().__init__(widget)
        self._callback = callback
        self._done = False
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        """Notice the first paint event; run the callback after it is handled."""
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            stamp = time.time()
            QTimer.singleShot(0, lambda: self._callback(stamp))
        return False


def initial_document(file: str | None) -> tuple:
    """(experiment, path, error message) to open with: the file, or the default."""
    if file:
        try:
            return load_experiment(file), Path(file), None
        except CnnlabError as exc:
            return preset_choice.default_experiment(), None, str(exc)
    return preset_choice.default_experiment(), None, None


def install_other_views(window: MainWindow) -> None:
    """Add the lab's other views (training, runs, inspection) as tabs when present.

    They run TensorFlow in worker threads, so they start once the background
    import has finished.
    """
    try:
        from cnnlab.ui.views import install_views
    except ImportError:
        return
    try:
        install_views(window)
    except Exception as exc:  # noqa: BLE001 (a broken view must not take the builder down)
        crash.log.exception("the other views could not start")
        window.show_message(f"Training, runs and inspection views could not start: {exc}")


def _application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "cnnlab"])
    app.setApplicationName("cnnlab")
    app.setOrganizationName("CNN Lab")
    app.setApplicationDisplayName("CNN Lab")
    return app


def _cannot_start() -> bool:
    """Say in one line why Qt could not start here (no display, missing libraries); True then.

    ``cnnlab`` checks before it imports Qt; this covers ``python -m cnnlab.ui``.
    """
    if QApplication.instance() is not None:
        return False
    problem = window_start_problem()
    if problem is not None:
        print(f"cnnlab: error: {problem}", file=sys.stderr)
    return problem is not None


def _report_loaded(app: QApplication, loader: TensorFlowLoader) -> None:
    """``--tensorflow-probe``: say how the background import ended, then quit."""
    print(f"tensorflow_loaded {loader.state} {loader.error}".rstrip(), flush=True)
    app.quit()


def main(argv: Sequence[str] | None = None) -> int:
    """Open the lab's main window; return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if _cannot_start():
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if args.workspace:
        os.environ["CNNLAB_HOME"] = str(Path(args.workspace).expanduser().resolve())
    app = _application()
    gc_policy.install(app)  # Qt objects must never be collected in a worker thread
    install_wheel_guard()  # the wheel scrolls forms; it changes a box only once focused
    if not args.startup_probe:
        crash.install()
    exp, path, error = initial_document(args.file)
    window = MainWindow(exp, path)
    window.restore_layout()
    loader = TensorFlowLoader(window)
    loader.stateChanged.connect(lambda _s: window.set_tensorflow_state(loader.label(),
                                                                       loader.error))

    def after_first_paint(stamp: float) -> None:
        if args.startup_probe:
            loaded = "tensorflow" in sys.modules
            print(f"first_paint {stamp:.6f} tensorflow_imported={loaded}", flush=True)
            app.quit()
            return
        if args.no_tensorflow:
            install_other_views(window)
        else:
            loader.finished.connect(lambda: install_other_views(window))
            if args.tensorflow_probe:
                loader.finished.connect(lambda: _report_loaded(app, loader))
            loader.start()
        if error:
            dialogs.error(window, "Cannot open the experiment", error)
        window.files.offer_recovery()

    FirstPaint(window.view.viewport(), after_first_paint)
    window.show()
    code = app.exec()
    if app.platformName() == "offscreen":  # Qt crashes at exit with our data on its clipboard
        app.clipboard().clear()
    if loader.state == "loading" and not loader.wait(0.1):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # an import cannot be interrupted; do not wait for it
    return code
