"""The Presets dialog shows what the user gets: fitted classes, their count, the paper's."""

from __future__ import annotations

from cnnlab.ui.presets_dialog import PresetsDialog


def output_units(exp):
    return next(n.params["units"] for n in exp.model.nodes if n.type == "Output")


def open_dialog(qtbot, name):
    dialog = PresetsDialog(None, selected=name)
    qtbot.addWidget(dialog)
    return dialog


def test_vgg16_counts_the_fitted_classes_and_shows_the_published_count(qtbot):
    dialog = open_dialog(qtbot, "vgg16")
    assert dialog.classes_box.value() == 6
    assert dialog.count.text() == "134,285,126 (6 classes)"
    assert dialog.published.text() == "138,357,544 (1,000 classes, 224×224×3 input)"
    assert dialog.fit_note.text() == ("The output is fitted to the dataset's 6 classes "
                                      "(the paper has 1,000).")
    dialog.accept()
    assert output_units(dialog.experiment) == 6


def test_changing_classes_changes_the_count_and_the_result(qtbot):
    dialog = open_dialog(qtbot, "vgg16")
    dialog.classes_box.setValue(999)
    assert dialog.count.text() == f"{138_357_544 - 4097:,} (999 classes)"
    assert "keeps 999 classes but the dataset has 6" in dialog.fit_note.text()
    dialog.accept()
    assert output_units(dialog.experiment) == 999


def test_keeping_the_paper_classes_gives_the_published_network(qtbot):
    dialog = open_dialog(qtbot, "vgg16")
    assert not dialog.keep_classes.isHidden()
    assert "1,000 classes" in dialog.keep_classes.text()
    dialog.keep_classes.setChecked(True)
    assert dialog.classes_box.value() == 1000 and not dialog.classes_box.isEnabled()
    assert dialog.count.text() == "138,357,544 (1,000 classes)"
    dialog.accept()
    assert output_units(dialog.experiment) == 1000
    dialog.keep_classes.setChecked(False)
    assert dialog.classes_box.value() == 6


def test_a_small_head_keeps_its_classes_and_the_data_follows(qtbot):
    dialog = open_dialog(qtbot, "lenet5")
    assert dialog.classes_box.value() == 10
    assert dialog.keep_classes.isHidden()
    assert dialog.fit_note.text() == "The output is fitted to the dataset's 10 classes."
    dialog.accept()
    assert len(dialog.experiment.data.shapes.classes) == 10
