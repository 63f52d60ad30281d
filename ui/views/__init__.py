"""The lab's views: training, runs, recipe panels and inspection.

:func:`install_views` adds them to the main window as tabs, gives each what it
needs (the window's document, the one run store) and wires them together.

Modules:
    training_view, plots: start/pause/stop with live curves; plot helpers.
    runs_view, runs_table, run_labels, run_report: the run history, labels, reports.
    recipe_view, recipe_panels, augment_panel, data_panel, transfer_panel: the recipe.
    inspect_view, inspect_source, inspect_*: the inspection panels over a session.
    studies_view, new_study_dialog, study_plots: studies of many runs (Optuna).
    export_dialog: verified exports of a run. worker: background jobs with events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnnlab.runs import RunStore
    from cnnlab.ui.main_window import MainWindow


def install_views(window: MainWindow, store: RunStore) -> dict[str, object]:
    """Create the Training, Runs, Recipe, Inspect and Studies views and add them as tabs.

    Args:
        window: The main window: its document (``window.doc``) is what the views
            edit and train; its canvas (``window.scene``) picks the inspected layer.
        store: The window's one run store, shared by every view.

    Returns:
        The views by title.

    """
    from cnnlab.ui.views.inspect_view import InspectView
    from cnnlab.ui.views.recipe_view import RecipeView, bind
    from cnnlab.ui.views.runs_view import RunsView
    from cnnlab.ui.views.studies_view import StudiesView
    from cnnlab.ui.views.training_health import connect_badges
    from cnnlab.ui.views.training_view import TrainingView

    doc = window.doc
    current = lambda: doc.experiment  # noqa: E731
    training = TrainingView(current, store)
    connect_badges(training, window.scene)  # a training-health warning marks its block
    runs = RunsView(store)
    recipe = RecipeView(current())
    inspect = InspectView(store)
    studies = StudiesView(current, store)
    runs.resume_requested.connect(lambda run_id: training.start(resume=run_id))
    _wire_branches(window, training, runs, store)
    training.run_ended.connect(lambda _id: (runs.refresh(), inspect.refresh_runs()))
    training.run_started.connect(lambda _id: runs.refresh())
    bind(recipe, current, doc.apply)
    recipe.transfer_panel.set_document(current, doc.apply)
    doc.changed.connect(recipe.set_experiment)
    runs.open_experiment.connect(lambda exp: doc.apply(exp, "Open a run's spec"))
    _wire_studies(window, studies, runs, doc)
    inspect.revision_requested.connect(lambda change: _revise_data(doc, change))
    _follow_canvas_selection(window, inspect)
    views = {"Training": training, "Runs": runs, "Recipe": recipe, "Inspect": inspect,
             "Studies": studies}
    for title, widget in views.items():
        window.add_view(title, widget)
    return views


def revised_experiment(experiment, change: dict):
    """The experiment with a dataset revision added (from the Samples gallery).

    Args:
        experiment: The document's experiment.
        change: ``{"exclude": [ids]}`` or ``{"relabel": {id: class name}}``.
    """
    import dataclasses

    data = experiment.data
    exclude = list(data.exclude) + [i for i in change.get("exclude", ()) if i not in data.exclude]
    relabel = {**data.relabel, **change.get("relabel", {})}
    return dataclasses.replace(experiment, data=dataclasses.replace(
        data, exclude=exclude, relabel=relabel))


def _revise_data(doc, change: dict) -> None:
    """Apply a dataset revision to the document as one undoable step."""
    excluded, relabelled = len(change.get("exclude", ())), len(change.get("relabel", {}))
    count = excluded or relabelled
    what = f"{'Exclude' if excluded else 'Relabel'} {count} sample{'' if count == 1 else 's'}"
    doc.apply(revised_experiment(doc.experiment, change), what)


def _wire_branches(window: MainWindow, training, runs, store) -> None:
    """Branches start in the Training view, from the Runs view's dialog or its own Branch…."""
    from cnnlab.ui.views.steer_dialog import branch_training_run

    def branch(experiment, fork: str) -> None:
        window.tabs.setCurrentWidget(training)
        training.start(experiment=experiment, fork=fork)

    runs.branch_requested.connect(branch)
    training.branch_requested.connect(lambda: branch_training_run(
        training, store, branch, lambda text: training._show(text, "error")))


def _wire_studies(window: MainWindow, studies, runs, doc) -> None:
    """The Studies view opens the best trial in the editor and overlays trials in Runs."""

    def show_runs(ids: list[str]) -> None:
        runs.refresh()
        runs.select(ids)
        window.tabs.setCurrentWidget(runs)

    studies.open_experiment.connect(lambda exp: doc.apply(exp, "Open the best trial"))
    studies.show_runs.connect(show_runs)
    studies.run_ended.connect(runs.refresh)
    # "Sweep this…" on any field shows the view (its own signal: it dies with the view,
    # while the form builder's sweep_requests lives as long as the process).
    studies.show_requested.connect(lambda: window.tabs.setCurrentWidget(studies))


def _follow_canvas_selection(window: MainWindow, inspect) -> None:
    """Clicking one block on the canvas picks it as the inspected layer."""
    scene = window.scene

    def follow() -> None:
        try:
            ids = scene.selected_item_ids()
            if len(ids) == 1 and inspect.isVisible():
                inspect.select_layer(ids[0])
        except RuntimeError:  # the window (and its canvas or view) is being deleted
            return

    scene.selectionChanged.connect(follow)
