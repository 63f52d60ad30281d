"""The Data panel on real hostile data: every skipped file and left-out class listed with
its reason after the folder check; samples and counts for folder and npz sources."""

import os

import numpy as np
import pytest
from hang_guard import no_hang_fixture

from cnnlab.spec.sections import DataSpec
from cnnlab.ui.views.data_panel import DataPanel

WAIT = 60_000


no_hang = no_hang_fixture(90)


def write_png(path, value):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.full((8, 8, 1), value, np.uint8)).numpy())


@pytest.fixture
def hostile_folder(tmp_path):
    """cats/dogs with 3 good PNGs each; cats also has a FIFO, a /dev/zero link and 25 text
    files named .png; fish has only a text file."""
    root = tmp_path / "pets"
    for name, value in (("cats", 40), ("dogs", 200)):
        for i in range(3):
            write_png(root / name / f"{i}.png", value + i)
    os.mkfifo(root / "cats" / "x.png")
    os.symlink("/dev/zero", root / "cats" / "zero.png")
    for i in range(25):
        (root / "cats" / f"text{i:02d}.png").write_text("words, not pixels")
    (root / "fish").mkdir()
    (root / "fish" / "readme.txt").write_text("no images here")
    return root


def rows(panel):
    tree = panel.skipped
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1))
            for i in range(tree.topLevelItemCount())]


def settle(qtbot, panel):
    qtbot.wait(400)
    qtbot.waitUntil(lambda: not panel.worker.running and not panel.checker.running,
                    timeout=WAIT)


def test_folder_check_lists_every_skipped_file_and_class(qtbot, hostile_folder):
    panel = DataPanel(DataSpec(source="folder", path=str(hostile_folder), validation_split=0.0,
                               test_split=0.0))
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    assert not panel.skipped.isVisible(), "no list before a check"
    with qtbot.waitSignal(panel.checker.finished, timeout=WAIT):
        panel.check_button.click()
    listed = dict(rows(panel))
    assert len(listed) == 25 + 2 + 1 + 1
    assert listed["cats/x.png"] == "not a regular file: a FIFO (named pipe)"
    assert listed["cats/zero.png"] == "not a regular file: a character device"
    assert all(listed[f"cats/text{i:02d}.png"] == "not an image: it is text, not JPEG, PNG, "
               "GIF, BMP or WebP" for i in range(25))
    assert listed["fish/readme.txt"] == "not an image: .txt extension"
    assert listed["class fish"] == "left out: no usable image (1 bad file(s))"
    assert panel.skipped.isVisible() and "(29)" in panel.skipped_title.text()
    assert panel.skipped.verticalScrollBar().maximum() > 0, "the long list scrolls"
    tip = panel.skipped.topLevelItem(0).toolTip(0)
    assert tip.startswith(str(hostile_folder)) and os.path.isabs(tip)
    text = panel.report.toPlainText()
    assert "2 classes" not in text and "3 classes, 6 usable images" in text
    assert "and 8 more: all of them are in the list of skipped files below" in text
    settle(qtbot, panel)
    assert panel.bar_heights == [3, 3], "the preview trains on the good files; fish is left out"


def test_a_new_check_replaces_the_list(qtbot, hostile_folder, tmp_path):
    panel = DataPanel(DataSpec(source="folder", path=str(hostile_folder)))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.checker.finished, timeout=WAIT):
        panel.check_folder()
    assert rows(panel)
    with qtbot.waitSignal(panel.checker.finished, timeout=WAIT):
        panel.check_folder(str(tmp_path / "missing"))
    assert rows(panel) == [] and "image folder not found" in panel.report.toPlainText()
    settle(qtbot, panel)


def test_npz_samples_and_errors_show_in_the_panel(qtbot, tmp_path):
    x = (np.arange(20 * 64).reshape(20, 8, 8) % 250).astype(np.uint8)
    y = np.arange(20) % 2
    good = tmp_path / "good.npz"
    np.savez(good, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    bad = tmp_path / "nan.npz"
    xf = x / 255.0
    xf[3, 0, 0] = np.nan
    np.savez(bad, x_train=xf, y_train=y, x_test=xf[:4], y_test=y[:4])
    panel = DataPanel(DataSpec(source="npz", path=str(good), validation_split=0.0))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: hasattr(panel, "bar_heights"), timeout=WAIT)
    assert panel.bar_heights == [10, 10] and panel.message.text() == ""
    panel.set_value(DataSpec(source="npz", path=str(bad)))
    qtbot.waitUntil(lambda: "NaN" in panel.message.text(), timeout=WAIT)
    assert panel.message.text() == (
        "Cannot load samples: nan.npz: x_train: 1 pixel value(s) are NaN or infinite, in 1 "
        "image(s) (first: image 3); training on them gives NaN losses")
    settle(qtbot, panel)


def test_folder_source_opened_without_a_check_lists_its_skipped_files(qtbot, hostile_folder):
    panel = DataPanel(DataSpec(source="folder", path=str(hostile_folder)))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: hasattr(panel, "bar_heights"), timeout=WAIT)
    listed = dict(rows(panel))
    assert len(listed) == 29 and listed["cats/x.png"] == "not a regular file: a FIFO (named pipe)"
    assert listed["class fish"] == "left out: no usable image (1 bad file(s))"
    panel.set_value(DataSpec())
    assert rows(panel) == [], "the list belongs to the folder, not to the shapes source"
    settle(qtbot, panel)
