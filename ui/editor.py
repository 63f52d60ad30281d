"""Turns gestures on the canvas and in the form into edits of the document.

Every method builds a new experiment with a pure function of
:mod:`cnnlab.spec.edit` (or the clipboard/arrange helpers) and pushes it
as one undo step. Refused edits become a status-bar message, and refused
parameter values an error at their field; nothing raises to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF

from cnnlab import SpecError, output_classes_problems
from cnnlab.diagram import BLOCK_H, BLOCK_W, ROW, auto_layout, set_folded
from cnnlab.spec import (
    EditRefused,
    add_block,
    connect,
    data_classes,
    delete,
    fit_output_classes,
    move,
    rename_experiment,
    set_params,
    with_ui,
)
from cnnlab.ui import clipboard

if TYPE_CHECKING:
    from cnnlab.ui.main_window import MainWindow


class Editor:
    """The edit operations of the main window."""

    def __init__(self, window: MainWindow):
        self.w = window
        # Before the window's refresh (connected later), so the Problems list shows both.
        window.doc.changed.connect(self.check_data)
        window.problems.fixRequested.connect(self.fix_problem)

    @property
    def exp(self):
        """The current experiment."""
        return self.w.doc.experiment

    def apply(self, text: str, fn: Callable[..., Any], *args: Any) -> list[str] | None:
        """Run ``fn(exp, *args)``; push its result as one undo step named ``text``.

        ``fn`` returns an experiment, or (experiment, ids to select). Returns the
        ids to select, or None when the edit was refused.
        """
        try:
            result = fn(self.exp, *args)
        except EditRefused as exc:
            self.w.show_message(str(exc))
            return None
        except SpecError as exc:
            self.w.properties.show_error(exc.path.rsplit(".", 1)[-1], exc.message)
            self.w.show_message(str(exc))
            return None
        exp, ids = result if isinstance(result, tuple) else (result, None)
        ids = [ids] if isinstance(ids, str) else ids
        self.w.doc.apply(exp, text)
        if ids is not None:
            self.w.scene.select_ids(ids)
        return ids or []

    # -- the model against its data ---------------------------------------------------------
    def check_data(self, exp) -> None:
        """Hand the Problems list the mismatches between the model and its data."""
        self.w.problems.set_data_problems(
            output_classes_problems(exp.model, data_classes(exp)))

    def fix_problem(self, node_id: str, code: str) -> None:
        """Apply the one-click fix of a problem (one undo step)."""
        if code == "output_classes":
            self.apply(f"Fit {node_id} to the data's classes", fit_output_classes,
                       node_id)

    # -- blocks and connections --------------------------------------------------------------
    def drop_block(self, type_name: str, at: QPointF) -> list[str] | None:
        """Create a block where a palette entry was dropped (centred on the drop point)."""
        pos = (at.x() - BLOCK_W / 2, at.y() - BLOCK_H / 2)
        return self.apply(f"Add {type_name}", add_block, type_name, pos)

    def add_below_selection(self, type_name: str) -> list[str] | None:
        """Add a block under the selected one and connect it (palette double-click)."""
        selected = self.w.scene.selected_top_ids()
        item = self.w.scene.item_for(selected[0]) if len(selected) == 1 else None
        if item is None:
            centre = self.w.view.mapToScene(self.w.view.viewport().rect().center())
            return self.drop_block(type_name, centre)
        rect = item.sceneBoundingRect()
        pos = (rect.left() + 4, rect.bottom() - 4 + ROW - BLOCK_H)

        def add_and_connect(exp, kind, xy, src):
            exp, nid = add_block(exp, kind, xy)
            try:
                exp = connect(exp, src, nid)
            except EditRefused:
                pass
            return exp, [nid]

        return self.apply(f"Add {type_name}", add_and_connect, type_name, pos, selected[0])

    def connect(self, src: str, dst: str) -> None:
        """Connect two top-level blocks (the end of a port drag)."""
        self.apply(f"Connect {src} → {dst}", connect, src, dst)

    def moved(self, moves: dict) -> None:
        """Store positions after a drag (one undo step for the whole drag)."""
        self.apply("Move" if len(moves) > 1 else f"Move {next(iter(moves))}",
                   move, moves)

    def delete_selection(self) -> None:
        """Delete the selected blocks and connections."""
        ids = self.w.scene.selected_top_ids()
        edges = self.w.scene.selected_connections()
        inner = [i for i in self.w.scene.selected_item_ids() if i not in ids]
        if not ids and not edges:
            if inner:
                self.w.show_message("blocks inside a module are part of its definition; "
                                    "select the module's frame to delete the module")
            return
        what = ", ".join(ids) if ids else f"{len(edges)} connection(s)"
        self.apply(f"Delete {what}", delete, ids, edges)

    def edit_params(self, node_id: str, params: dict) -> None:
        """New parameters from the form."""
        old = dict(self.exp.model.node(node_id).params)
        changed = sorted(k for k in set(params) | set(old) if params.get(k) != old.get(k))
        self.apply(f"Edit {node_id}.{', '.join(changed)}", set_params, node_id,
                   params)

    def rename_experiment(self, name: str) -> None:
        """A new experiment name from the form."""
        if name.strip() != self.exp.name:
            self.apply("Rename experiment", rename_experiment, name)

    # -- clipboard ---------------------------------------------------------------------------
    def copy(self) -> bool:
        """Copy the selected blocks; False when nothing is selected."""
        ids = self.w.scene.selected_top_ids()
        if not ids:
            return False
        clipboard.put_on_clipboard(clipboard.fragment(self.exp, ids))
        return True

    def cut(self) -> None:
        """Copy, then delete, the selected blocks."""
        if self.copy():
            self.delete_selection()

    def paste(self) -> None:
        """Paste the clipboard's blocks at the first free spot beside their originals."""
        frag = clipboard.from_clipboard()
        if not frag:
            self.w.show_message("the clipboard holds no blocks")
            return
        self._paste(frag, "Paste")

    def duplicate(self) -> None:
        """Copy the selected blocks to the first free spot beside themselves."""
        ids = self.w.scene.selected_top_ids()
        if ids:
            self._paste(clipboard.fragment(self.exp, ids), "Duplicate")

    def _paste(self, frag: dict, text: str) -> None:
        try:
            self.apply(text, clipboard.paste, frag)
        except (KeyError, TypeError, ValueError) as exc:
            self.w.show_message(f"cannot paste these blocks ({exc})")

    # -- layout ------------------------------------------------------------------------------
    def fold(self, instance: str, fold: bool) -> None:
        """Collapse or expand a module instance in place."""
        text = f"{'Collapse' if fold else 'Expand'} {instance}"
        self.apply(text, lambda exp: (set_folded(exp, instance, fold), [instance]))

    def fold_all(self, fold: bool) -> None:
        """Collapse or expand every module instance, then arrange."""
        def change(exp):
            ids = [n.id for n in exp.model.nodes if n.type in exp.model.modules]
            folded = set(ids) if fold else set()
            return auto_layout(with_ui(exp, folded=folded))

        self.apply("Collapse all modules" if fold else "Expand all modules", change)

    def auto_layout(self) -> None:
        """Arrange every block top-down."""
        self.apply("Arrange automatically", auto_layout)
