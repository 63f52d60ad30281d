"""The figure helpers stay readable with many classes and many channels."""

import numpy as np

from cnnlab.inspect import figures as fg


def test_many_classes_keep_their_names_and_drop_unreadable_counts(tmp_path):
    names = [f"c{i}" for i in range(50)]
    cm = np.eye(50, dtype=int) * 3
    fig = fg.confusion_figure(cm, names, "confusion matrix on 150 test samples")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert not ax.texts  # 2,500 counts would be unreadable: the colour carries them
    few = fg.confusion_figure(cm[:6, :6], names[:6], "t")
    assert sorted(int(t.get_text()) for t in few.axes[0].texts) == [0] * 30 + [3] * 6
    out = fg.save_png(few, tmp_path / "cm.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_many_channels_get_round_row_starts_and_sparse_ticks():
    fig = fg.grid_figure(np.zeros((512, 7, 7), np.float32), "maps",
                         xlabel="channel = row + column", cbar_label="activation")
    ax = fig.axes[0]
    rows = [int(t.get_text()) for t in ax.get_yticklabels()]
    cols = [int(t.get_text()) for t in ax.get_xticklabels()]
    assert rows == list(range(0, 512, 32)) and cols == list(range(0, 32, 2))
    one_row = fg.grid_figure(np.zeros((4, 3, 3), np.float32), "f", xlabel="filter = row + column")
    assert one_row.axes[0].get_xlabel() == "filter"
    assert fg.default_columns(3) == 3 and fg.default_columns(6) == 4
