"""The lab's views: training, runs, recipe panels and inspection.

:func:`install_views` adds them to the main window as tabs and wires them to
its document (the current experiment, edited by replacement with undo).
"""

from __future__ import annotations

from typing import Any


def _document(main_window: Any) -> Any:
    for name in ("document", "doc", "_document", "_doc"):
        doc = getattr(main_window, name, None)
        if doc is not None and hasattr(doc, "experiment"):
            return doc
    return None


def install_views(main_window: Any, workspace: Any = None) -> dict[str, Any]:
    """Create the Training, Runs, Recipe and Inspect views and add them as tabs.

    Args:
        main_window: Has ``add_view(title, widget)`` and a ``document`` with
            ``experiment``, ``apply(experiment, text)`` and ``changed``.
        workspace: The run store's workspace; None for the window's or the default.

    Returns:
        The views by title.

    """
    from cnnlab.ui.views.inspect_view import InspectView
    from cnnlab.ui.views.recipe_view import RecipeView, bind
    from cnnlab.ui.views.runs_view import RunsView
    from cnnlab.ui.views.training_view import TrainingView

    workspace = workspace if workspace is not None else getattr(main_window, "workspace", None)
    doc = _document(main_window)
    if doc is None:
        from cnnlab import default_experiment

        fixed = default_experiment()
        doc_get = lambda: fixed  # noqa: E731
    else:
        doc_get = lambda: doc.experiment  # noqa: E731
    training = TrainingView(doc_get, workspace)
    runs = RunsView(workspace)
    recipe = RecipeView(doc_get())
    inspect = InspectView(workspace)
    runs.resume_requested.connect(lambda run_id: training.start(resume=run_id))
    training.run_ended.connect(lambda _id: (runs.refresh(), inspect.refresh_runs()))
    training.run_started.connect(lambda _id: runs.refresh())
    if doc is not None:
        bind(recipe, doc_get, doc.apply)
        recipe.transfer_panel.set_document(doc_get, doc.apply)
        doc.changed.connect(recipe.set_experiment)
        runs.open_experiment.connect(lambda exp: doc.apply(exp, "Open a run's spec"))
    _follow_canvas_selection(main_window, inspect)
    views = {"Training": training, "Runs": runs, "Recipe": recipe, "Inspect": inspect}
    for title, widget in views.items():
        main_window.add_view(title, widget)
    return views


def _follow_canvas_selection(main_window: Any, inspect: Any) -> None:
    """Clicking one block on the canvas picks it as the inspected layer."""
    scene = getattr(main_window, "scene", None)
    if scene is None or not hasattr(scene, "selected_item_ids"):
        return

    def follow() -> None:
        try:
            ids = scene.selected_item_ids()
            if len(ids) == 1 and inspect.isVisible():
                inspect.select_layer(ids[0])
        except RuntimeError:  # the window (and its canvas or view) is being deleted
            return

    scene.selectionChanged.connect(follow)
