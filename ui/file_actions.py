"""File operations of the window: new, open, import, save, save as, recent files, recovery.

The experiment JSON is the document. Bad files show the loader's path-naming
message and leave the open document as it was.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from cnnlab import CnnlabError, Experiment, default_experiment, load_experiment
from cnnlab.diagram import ensure_positions
from cnnlab.spec import with_graph
from cnnlab.ui import dialogs, recovery

if TYPE_CHECKING:
    from cnnlab.ui.main_window import MainWindow

STOPPING = "Stopping the run after the current batch…"
QUIT_CHOICES = (("stop", "Stop After This Batch and Quit"), ("keep", "Keep Training"),
                ("cancel", "Cancel"))
REPLACE_CHOICES = (("stop", "Stop the Run First"), ("cancel", "Cancel"))


def empty_experiment(base: Experiment) -> Experiment:
    """``base`` with its Input block only: its data and recipe, no layers."""
    inputs = [n for n in base.model.nodes if n.type == "Input"][:1]
    exp = with_graph(base, inputs, [], modules={})
    transfer = dataclasses.replace(exp.training.transfer, layer_multipliers={})
    return dataclasses.replace(exp, name="Empty network", ui={},
                               description="An Input block only: add the layers yourself.",
                               training=dataclasses.replace(exp.training, transfer=transfer))


class FileActions:
    """What the File and Presets menus do."""

    def __init__(self, window: MainWindow):
        self.w = window
        self._importer = None
        self._after_stop: Callable[[], object] | None = None
        self._stop_poll = QTimer(window)
        self._stop_poll.setInterval(100)
        self._stop_poll.timeout.connect(self._check_stopped)

    @property
    def doc(self):
        """The window's document."""
        return self.w.doc

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.doc.dirty:
            return True
        answer = dialogs.ask_save(self.w, self.doc.experiment.name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- a run that is training -------------------------------------------------------------
    def training_run(self):
        """The Training (or Studies) view while a run is training in it, else None."""
        for title in ("Training", "Studies"):
            view = self.w.view_widget(title)
            if view is not None and getattr(view, "running", False):
                return view
        return None

    @property
    def stopping(self) -> bool:
        """True while a stop was requested and the action after it waits."""
        return self._after_stop is not None

    def may_quit(self) -> bool:
        """True when no run is training; otherwise ask: stop and quit, keep training, cancel.

        "Stop" asks the run to stop after the current batch and closes the
        window once it has stopped (the run is then ``stopped`` and resumable).
        """
        view = self.training_run()
        if view is None:
            return True
        if not self.stopping:
            text = (f"Run {view.run_id or '(starting)'} is training. Quitting now would leave "
                    "it interrupted. Stop it after the current batch and quit? The run is "
                    "saved as stopped and can be resumed from the Runs view.")
            if dialogs.choose(self.w, "A run is training", text, QUIT_CHOICES) == "stop":
                self._stop_then(view, self.w.close)
        if self.stopping:
            self.w.show_message(STOPPING, 0)
        return False

    def clear_of_training(self, what: str, then: Callable[[], object]) -> bool:
        """True when no run is training; otherwise offer to stop it and ``then()`` retry."""
        view = self.training_run()
        if view is None:
            return True
        if not self.stopping:
            text = (f"Run {view.run_id or '(starting)'} is training. Stop it after the "
                    f"current batch before {what}? The run is saved as stopped and can be "
                    "resumed from the Runs view.")
            if dialogs.choose(self.w, "A run is training", text, REPLACE_CHOICES) == "stop":
                self._stop_then(view, then)
        if self.stopping:
            self.w.show_message(STOPPING, 0)
        return False

    def _stop_then(self, view, then: Callable[[], object]) -> None:
        self._after_stop = then
        view.stop()
        self._stop_poll.start()

    def _check_stopped(self) -> None:
        """Timer slot: once the run's thread has ended, do what waited for it."""
        if self.training_run() is not None:
            return
        self._stop_poll.stop()
        then, self._after_stop = self._after_stop, None
        self.w.show_message("The run has stopped.")
        if then is not None:
            then()

    # -- new, open ---------------------------------------------------------------------------
    def new(self) -> None:
        """Start a new experiment from the default one."""
        if not self.clear_of_training("starting a new experiment", self.new):
            return
        if not self.maybe_save():
            return
        self.show_experiment(default_experiment(), None)

    def new_empty(self) -> None:
        """Start a new experiment with an Input block only (the default's data and recipe)."""
        if not self.clear_of_training("starting a new experiment", self.new_empty):
            return
        if not self.maybe_save():
            return
        self.show_experiment(empty_experiment(default_experiment()), None)

    def open(self, path: str | Path | None = None) -> bool:
        """Open an experiment file (asks for one when ``path`` is None)."""
        if not self.clear_of_training("opening another experiment", lambda: self.open(path)):
            return False
        if not self.maybe_save():
            return False
        if path is None:
            path = dialogs.open_path(self.w, self.w.settings.last_dir())
            if path is None:
                return False
        return self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Load ``path`` without asking; show the loader's message on failure."""
        try:
            exp = load_experiment(path)
        except CnnlabError as exc:
            dialogs.error(self.w, "Cannot open the experiment", str(exc))
            return False
        self.show_experiment(exp, path)
        self._remember(path)
        return True

    def show_experiment(self, exp: Experiment, path: str | Path | None,
                        dirty: bool = False) -> None:
        """Make ``exp`` the document (arranged when it has no layout) and fit the view."""
        self.doc.replace(ensure_positions(exp), path, dirty)
        self.w.scene.clearSelection()
        self.w.view.show_start()

    @property
    def importer(self):
        """The File > Import… runner (made on first use)."""
        if self._importer is None:
            from cnnlab.ui.model_import import ModelImporter

            self._importer = ModelImporter(self)
        return self._importer

    def import_model(self, path: str | Path | None = None) -> bool:
        """Import a Keras model file as a new unsaved experiment (in the background)."""
        if not self.clear_of_training("importing a model", lambda: self.import_model(path)):
            return False
        return self.importer.start(path)

    def save(self) -> bool:
        """Save to the document's file, or ask for one."""
        if self.doc.path is None:
            return self.save_as()
        return self._write(self.doc.path)

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        current = self.doc.path or Path(self.w.settings.last_dir()) / (
            _file_stem(self.doc.experiment.name) + ".json")
        path = dialogs.save_path(self.w, str(current))
        return self._write(Path(path)) if path else False

    def _write(self, path: Path) -> bool:
        try:
            self.doc.save(path)
        except (OSError, ValueError) as exc:
            dialogs.error(self.w, "Cannot save the experiment", f"{path}: {exc}")
            return False
        self._remember(path)
        self.w.show_message(f"Saved {path}")
        return True

    def _remember(self, path: str | Path) -> None:
        self.w.settings.add_recent(path)
        self.w.settings.set_last_dir(path)
        self.w.menus.update_recent(self.w.settings.recent_files())

    def load_preset(self, name: str | None = None) -> bool:
        """Ask for a preset, its input size and classes; open it as a new document."""
        from cnnlab.ui.presets_dialog import PresetsDialog

        if not self.clear_of_training("loading a preset", lambda: self.load_preset(name)):
            return False
        dialog = PresetsDialog(self.w, selected=name)
        if not dialog.exec() or dialog.experiment is None:
            return False
        if not self.maybe_save():
            return False
        self.show_experiment(dialog.experiment, None)
        return True

    def offer_recovery(self) -> bool:
        """On start: offer a recovery file newer than its document; True when restored."""
        found = recovery.find_recoverable()
        if found is None:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.saved_at))
        where = str(found.path) if found.path else "an unsaved experiment"
        question = (f"CNN Lab did not close properly. Restore the unsaved changes to "
                    f"“{found.experiment.name}” ({where}) autosaved at {when}?")
        if not dialogs.ask(self.w, "Restore unsaved changes?", question):
            found.file.unlink(missing_ok=True)
            return False
        self.show_experiment(found.experiment, found.path, dirty=True)
        self.w.autosaver.written.add(found.file)  # removed once the document is saved
        return True


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return stem.strip("_") or "experiment"
