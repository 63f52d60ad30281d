"""The health report window on real generated data: counts, charts, means, duplicates with
thumbnails, bad files, and "Exclude from training" through the window's undoable apply."""

import dataclasses

import numpy as np
import pytest
from hang_guard import no_hang_fixture
from health_support import BAD, CLASSES, PLANTED, health_folder
from PySide6.QtCore import Qt

from cnnlab.data.shapes import generate_shapes
from cnnlab.spec.sections import DataSpec, ShapesSpec
from cnnlab.ui.views.data_health import DataHealthDialog

WAIT = 60_000

no_hang = no_hang_fixture(120)


def finish(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.report is not None or "Cannot" in dialog.status.text(),
                    timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog.worker.running, timeout=WAIT)
    assert dialog.worker.wait(10)
    assert dialog.report is not None, dialog.status.text()


def child_with(dialog, sample_id):
    tree = dialog.groups
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        for k in range(top.childCount()):
            if top.child(k).text(0) == sample_id:
                return top.child(k)
    raise AssertionError(f"{sample_id} is in no group")


def test_folder_report_shows_counts_means_groups_and_bad_files(qtbot, tmp_path):
    folder = health_folder(tmp_path / "data")
    dialog = DataHealthDialog(DataSpec(source="folder", path=str(folder)), 0,
                              can_revise=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.start()
    finish(qtbot, dialog)
    assert dialog.counts_plot.heights == [dialog.report.classes[c] for c in CLASSES]
    assert sum(dialog.counts_plot.heights) == 46
    assert dialog.sizes_plot.heights == [45, 1]  # 16x16 and the resized copy's 24x24
    assert "Classes (3)" in dialog.summary.toPlainText()
    assert dialog.means_grid.count() == 2 * len(CLASSES)  # a picture and a caption each
    assert dialog.tabs.tabText(2) == "Duplicates (4)"
    assert dialog.groups.topLevelItem(0).text(0).endswith("(conflicting labels, leak)")
    copy = child_with(dialog, PLANTED["exact"][1])
    assert not copy.icon(0).isNull()  # the file's thumbnail
    assert copy.toolTip(0) == str(folder / PLANTED["exact"][1])
    assert [dialog.bad.topLevelItem(i).text(0) for i in range(3)] == list(BAD)
    copy.setSelected(True)
    assert not dialog.exclude_button.isEnabled()  # this spec has no data.exclude
    assert "no data.exclude" in dialog.exclude_hint.text()
    dialog.close()


def _npz_with_copies(path):
    x, y = generate_shapes(list(CLASSES), 30, 8, 3, 0.05, 2)
    x[5], y[5] = x[4], (y[4] + 1) % 3  # the same image under two labels
    x[9] = x[8]
    y[9] = y[8]
    np.savez(path, x_train=x, y_train=y, x_test=x[:3], y_test=y[:3], class_names=CLASSES)
    return path


def test_exclude_and_relabel_from_the_report_emit_the_revised_data(qtbot, tmp_path):
    """The Data panel's Check data… on an npz: exclude a group's copy and a file, relabel one."""
    from cnnlab.ui.views.data_panel import DataPanel

    panel = DataPanel(DataSpec(source="npz", path=str(_npz_with_copies(tmp_path / "d.npz"))))
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.health_button, Qt.MouseButton.LeftButton)
    dialog = panel.health_dialog
    finish(qtbot, dialog)
    groups = {frozenset(g.files) for g in dialog.report.duplicates}
    assert frozenset({"train[4]", "train[5]"}) in groups
    assert frozenset({"train[0]", "test[0]"}) in groups  # the test set repeats x[:3]: leaks
    _group_row(dialog, ["train[8]", "train[9]"]).setSelected(True)  # copies: all but the first
    child_with(dialog, "train[5]").setSelected(True)
    assert dialog.exclude_button.isEnabled()
    with qtbot.waitSignal(panel.changed, timeout=WAIT) as emitted:
        qtbot.mouseClick(dialog.exclude_button, Qt.MouseButton.LeftButton)
    assert emitted.args[0].exclude == ["train[5]", "train[9]"] == panel.data.exclude
    assert child_with(dialog, "train[9]").text(1) == "excluded"
    assert not dialog.exclude_button.isEnabled()  # nothing left to exclude in the selection
    dialog.groups.clearSelection()
    child_with(dialog, "train[4]").setSelected(True)
    dialog.relabel_box.setCurrentText("square")
    with qtbot.waitSignal(panel.changed, timeout=WAIT) as emitted:
        qtbot.mouseClick(dialog.relabel_button, Qt.MouseButton.LeftButton)
    assert emitted.args[0].relabel == {"train[4]": "square"} == panel.data.relabel
    assert panel.data.exclude == ["train[5]", "train[9]"]
    assert child_with(dialog, "train[4]").text(1) == "relabelled square"
    dialog.close()
    qtbot.waitUntil(lambda: not panel.previewing, timeout=WAIT)


def _group_row(dialog, files):
    tree = dialog.groups
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole).files == files)


# The whole window (22 s here). Covered without it by
# test_exclude_and_relabel_from_the_report_emit_the_revised_data (the panel and the dialog) and
# test_install_views (a panel's edit reaching the document).
@pytest.mark.slow
def test_exclude_from_the_report_edits_the_document_undoably(qtbot, tmp_path, monkeypatch):
    """The real window: Check data… in the Recipe view's Data panel, select, exclude, undo."""
    from builder_helpers import DialogRecorder, make_window

    from cnnlab.runs import RunStore
    from cnnlab.ui.views import install_views

    DialogRecorder().install(monkeypatch)  # closing asks about the unsaved edit: discard
    window = make_window(qtbot)
    recipe = install_views(window, RunStore(tmp_path / "ws"))["Recipe"]
    npz = _npz_with_copies(tmp_path / "d.npz")
    exp = window.doc.experiment
    window.doc.apply(dataclasses.replace(exp, data=DataSpec(source="npz", path=str(npz))),
                     "Use npz")
    panel = recipe.data_panel
    qtbot.mouseClick(panel.health_button, Qt.MouseButton.LeftButton)
    dialog = panel.health_dialog
    finish(qtbot, dialog)
    _group_row(dialog, ["train[8]", "train[9]"]).setSelected(True)
    child_with(dialog, "train[5]").setSelected(True)
    assert dialog.exclude_button.isEnabled()
    qtbot.mouseClick(dialog.exclude_button, Qt.MouseButton.LeftButton)
    assert window.doc.experiment.data.exclude == ["train[5]", "train[9]"]
    assert child_with(dialog, "train[9]").text(1) == "excluded"
    assert not dialog.exclude_button.isEnabled()  # nothing left to exclude in the selection
    window.doc.undo_stack.undo()
    assert window.doc.experiment.data.exclude == []
    dialog.close()
    qtbot.waitUntil(lambda: not panel.previewing, timeout=WAIT)


def test_stop_says_stopped(qtbot):
    shapes = ShapesSpec(classes=list(CLASSES), samples=3000, image_size=16)
    dialog = DataHealthDialog(DataSpec(shapes=shapes), 0)
    qtbot.addWidget(dialog)
    assert dialog.start()
    dialog.stop()  # the job is still generating the shapes: it stops at its first look
    qtbot.waitUntil(lambda: not dialog.worker.running, timeout=WAIT)
    assert dialog.worker.wait(10)
    assert dialog.report is None and dialog.status.text() == "Stopped; nothing to show."
