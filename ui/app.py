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

The process exits by returning its status from :func:`main`; a TensorFlow
import still running in the background is waited for first (see
:func:`wait_for_import`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import PySide6
from PySide6.QtCore import QEvent, QObject, QPointF, QTimer
from PySide6.QtWidgets import QApplication

from cnnlab import (
    CnnlabError,
    default_experiment,
    load_experiment,
    pyside_build_problem,
    quiet_environment,
    window_start_problem,
)
from cnnlab.runs import RunStore, open_store
from cnnlab.ui import crash, dialogs, gc_policy
from cnnlab.ui.main_window import MainWindow
from cnnlab.ui.param_widgets import install_wheel_guard
from cnnlab.ui.tf_loader import TensorFlowLoader

EXIT_WAIT_S = 30.0  # the longest a closed window waits for TensorFlow's import to end


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
            return default_experiment(), None, str(exc)
    return default_experiment(), None, None


def install_other_views(window: MainWindow, store: RunStore) -> None:
    """Add the lab's other views (training, runs, inspection) as tabs when present.

    They run TensorFlow in worker threads, so they start once the background
    import has finished.
    """
    try:
        from cnnlab.ui.views import install_views
    except ImportError:
        return
    try:
        install_views(window, store)
    except Exception as exc:  # noqa: BLE001 (a broken view must not take the builder down)
        crash.log.exception("the other views could not start")
        window.show_message(f"Training, runs and inspection views could not start: {exc}")


def _application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "cnnlab"])
    app.setApplicationName("cnnlab")
    app.setOrganizationName("CNN Lab")
    app.setApplicationDisplayName("CNN Lab")
    return app


def drops_none_references() -> bool:
    """True when calling a void Qt method loses a reference to ``None``.

    The harmless probe for the broken PySide6 build described in
    :mod:`cnnlab.startup_check`; always False where ``None`` is immortal (3.12+).
    """
    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(16):
        point.setX(1.0)
    return sys.getrefcount(None) <= before - 16


def _cannot_start(pyside_probe: Callable[[], bool]) -> bool:
    """Say in one line why the window cannot start here; True then.

    A PySide6 build that would crash is refused first. Then, unless a
    ``QApplication`` exists already, no display or missing system libraries:
    ``cnnlab`` checks those before it imports Qt; this covers ``python -m cnnlab.ui``.
    """
    problem = pyside_build_problem(pyside_probe(), PySide6.__version__)
    if problem is None and QApplication.instance() is None:
        problem = window_start_problem()
    if problem is not None:
        print(f"cnnlab: error: {problem}", file=sys.stderr)
    return problem is not None


def _report_loaded(app: QApplication, loader: TensorFlowLoader) -> None:
    """``--tensorflow-probe``: say how the background import ended, then quit."""
    print(f"tensorflow_loaded {loader.state} {loader.error}".rstrip(), flush=True)
    app.quit()


def _after_first_paint(app: QApplication, window: MainWindow, store: RunStore,
                       loader: TensorFlowLoader,
                       args: argparse.Namespace, error: str | None) -> Callable[[float], None]:
    """What the window does once painted: start TensorFlow's import and the other views."""
    def after_first_paint(stamp: float) -> None:
        if args.startup_probe:
            loaded = "tensorflow" in sys.modules
            print(f"first_paint {stamp:.6f} tensorflow_imported={loaded}", flush=True)
            app.quit()
            return
        if args.no_tensorflow:
            install_other_views(window, store)
        else:
            loader.finished.connect(lambda: install_other_views(window, store))
            if args.tensorflow_probe:
                loader.finished.connect(lambda: _report_loaded(app, loader))
            loader.start()
        if error:
            dialogs.error(window, "Cannot open the experiment", error)
        window.files.offer_recovery()

    return after_first_paint


def wait_for_import(loader: TensorFlowLoader, timeout: float = EXIT_WAIT_S) -> bool:
    """Let a background TensorFlow import end before the process does; True when it has.

    An import cannot be interrupted, and Python does not wait for the
    loader's daemon thread: it finalises the interpreter around it while
    TensorFlow's native libraries are half loaded. So a window closed during
    the import (which takes seconds) waits for it, at most ``timeout``
    seconds; after that the process exits anyway and the interpreter stops
    the thread.
    """
    return loader.wait(timeout)


def main(argv: Sequence[str] | None = None, *,
         pyside_probe: Callable[[], bool] = drops_none_references) -> int:
    """Open the lab's main window; return the exit status.

    Args:
        argv: the window's arguments (default: ``sys.argv[1:]``).
        pyside_probe: finds the broken PySide6 build (a test passes one that does).
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if _cannot_start(pyside_probe):
        return 2
    quiet_environment()  # before anything imports Keras
    store = open_store(args.workspace)  # the one store every view shares
    app = _application()
    collector = gc_policy.install()  # Qt objects must never be collected in a worker thread
    install_wheel_guard()  # the wheel scrolls forms; it changes a box only once focused
    if not args.startup_probe:
        crash.install(store.workspace / "logs")
    exp, path, error = initial_document(args.file)
    window = MainWindow(exp, path)
    window.restore_layout()
    loader = TensorFlowLoader(window)
    loader.stateChanged.connect(lambda _s: window.set_tensorflow_state(loader.label(),
                                                                       loader.error))
    FirstPaint(window.view.viewport(), _after_first_paint(app, window, store, loader, args, error))
    window.show()
    code = app.exec()
    collector.timer.stop()
    if app.platformName() == "offscreen":  # Qt crashes at exit with our data on its clipboard
        app.clipboard().clear()
    wait_for_import(loader)
    return code
