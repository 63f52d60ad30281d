"""The dataset health report: the Data panel's "Check data…" window.

:func:`cnnlab.data.check_data` runs in a worker thread with a progress bar
(Stop asks it to end); the report then shows, in tabs, the counts and a text
summary with the class-count bar chart and the size histogram, the per-class
mean images, the duplicate groups with thumbnails and file names, and the bad
files. Selected duplicates can be excluded from training: the window adds
their ids to the experiment's ``data.exclude`` through its undoable apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnlab.data import check_data, health_report_text
from cnnlab.ui.views.inspect_widgets import to_icon, to_qimage
from cnnlab.ui.views.plots import make_plot
from cnnlab.ui.views.worker import Worker

ID_ROLE = Qt.ItemDataRole.UserRole
THUMB = 48
MAX_SIZES = 12


class DataHealthDialog(QDialog):
    """Check one data section in the background and show its health report.

    Args:
        data: The experiment's data section.
        seed: The experiment's seed (the split the report names is the run's).
        can_revise: Whether the spec has ``data.exclude`` and ``data.relabel`` (the
            actions are disabled if not).
        parent: The owning widget.

    Emits ``exclude_requested(list of sample ids)`` when the user excludes samples and
    ``relabel_requested({sample id: class name})`` when the user relabels them.
    """

    exclude_requested = Signal(object)
    relabel_requested = Signal(object)

    def __init__(self, data: Any, seed: int, can_revise: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dataset health")
        self.resize(960, 720)
        self.data, self.seed, self.can_revise = data, seed, can_revise
        self.report = None
        self.excluded: set[str] = set(getattr(data, "exclude", None) or ())
        self.relabelled: dict[str, str] = dict(getattr(data, "relabel", None) or {})
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.tabs = QTabWidget()
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._build_tabs()
        self.worker = Worker(self)
        self.worker.event.connect(self._progressed)
        self.worker.result.connect(self._show)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(lambda: self.stop_button.setEnabled(False))

    # -- building -----------------------------------------------------------------------------
    def _build_tabs(self) -> None:
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.counts_plot = make_plot("Images per class", "images", "class")
        self.sizes_plot = make_plot("Image sizes (height x width)", "images", "size")
        for plot in (self.counts_plot, self.sizes_plot):
            plot.setMinimumHeight(180)
        plots = QHBoxLayout()
        plots.addWidget(self.counts_plot)
        plots.addWidget(self.sizes_plot)
        page = QWidget()
        box = QVBoxLayout(page)
        box.addWidget(self.summary, 1)
        box.addLayout(plots, 1)
        self.tabs.addTab(page, "Summary")
        self.means = QWidget()
        self.means_grid = QGridLayout(self.means)
        self.means_grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.means)
        self.tabs.addTab(scroll, "Mean images")
        self.tabs.addTab(self._build_duplicates(), "Duplicates")
        self.bad = QTreeWidget()
        self.bad.setHeaderLabels(["File", "Reason"])
        self.bad.setRootIsDecorated(False)
        self.tabs.addTab(self.bad, "Bad files")

    def _build_duplicates(self) -> QWidget:
        self.groups = QTreeWidget()
        self.groups.setHeaderLabels(["Group / file", "Kind", "Classes", "Splits"])
        self.groups.setIconSize(QSize(THUMB, THUMB))
        self.groups.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.groups.itemSelectionChanged.connect(self._selection_changed)
        self.exclude_button = QPushButton("Exclude from training")
        self.exclude_button.setEnabled(False)
        self.exclude_button.clicked.connect(lambda _c=False: self.exclude_selected())
        self.relabel_button = QPushButton("Relabel as")
        self.relabel_button.setEnabled(False)
        self.relabel_button.clicked.connect(lambda _c=False: self.relabel_selected())
        self.relabel_box = QComboBox()
        self.exclude_hint = QLabel("" if self.can_revise else
                                   "This experiment has no data.exclude field.")
        self.exclude_hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.exclude_button)
        row.addWidget(self.relabel_button)
        row.addWidget(self.relabel_box)
        row.addWidget(self.exclude_hint, 1)
        page = QWidget()
        box = QVBoxLayout(page)
        box.addWidget(QLabel("Select files, or a group to exclude all its copies but the "
                             "first (every member of a group with conflicting labels) or to "
                             "relabel all its members."))
        box.addWidget(self.groups, 1)
        box.addLayout(row)
        return page

    # -- the check ----------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the check in the background; False if one is still running."""
        data, seed = self.data, self.seed

        def job(sink, control):
            return check_data(data, seed, progress=lambda done, total: sink((done, total)),
                              stop=lambda: control.stop_requested, thumbnails=True)

        if not self.worker.start(job, name="cnnlab-data-health"):
            return False
        self.status.setText(f"Checking the {data.source} data…")
        self.progress.setRange(0, 0)
        self.stop_button.setEnabled(True)
        return True

    def stop(self) -> None:
        """Ask the running check to stop."""
        self.worker.stop()

    def _progressed(self, event) -> None:
        done, total = event
        self.progress.setRange(0, max(int(total), 1))
        self.progress.setValue(int(done))
        self.status.setText(f"Checking the {self.data.source} data: {done:,} of {total:,} "
                            "images…")

    def _failed(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if self.worker.control.stop_requested:
            self.status.setText("Stopped; nothing to show.")
            return
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(f"Cannot check the data: {text}")

    # -- showing ------------------------------------------------------------------------------
    def _show(self, report) -> None:
        self.report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        problems = sum(g.conflicting or g.leaking for g in report.duplicates)
        self.status.setText(f"{report.images:,} images checked in {report.seconds:.1f} s: "
                            f"{len(report.duplicates)} duplicate group(s), {problems} with "
                            f"conflicting labels or across splits, {len(report.bad_files)} "
                            "bad file(s).")
        self.summary.setPlainText(health_report_text(report))
        names = list(report.class_names)
        self._bars(self.counts_plot, names, [report.classes[n] for n in names])
        sizes = sorted(report.sizes.items(), key=lambda kv: -kv[1])[:MAX_SIZES]
        self._bars(self.sizes_plot, [f"{h}x{w}" for (h, w), _ in sizes], [n for _, n in sizes])
        self._show_means(report)
        self.relabel_box.clear()
        self.relabel_box.addItems(names)
        self._show_groups(report)
        self._show_bad(report)

    @staticmethod
    def _bars(plot, labels: list[str], heights: list[int]) -> None:
        plot.clear()
        x = np.arange(len(labels))
        plot.addItem(pg.BarGraphItem(x=x, height=heights, width=0.7, brush="#1f77b4"))
        plot.getAxis("bottom").setTicks([list(zip(x.tolist(), labels, strict=True))])
        plot.heights = list(heights)

    def _show_means(self, report) -> None:
        while self.means_grid.count():
            self.means_grid.takeAt(0).widget().deleteLater()
        for k, (name, mean) in enumerate(report.mean_images.items()):
            picture = QLabel()
            picture.setPixmap(_pixmap(mean / 255.0, 96))
            picture.setToolTip(f"The mean of the {report.classes[name]:,} images of {name}")
            caption = QLabel(f"{name} ({report.classes[name]:,})")
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.means_grid.addWidget(picture, 2 * (k // 6), k % 6)
            self.means_grid.addWidget(caption, 2 * (k // 6) + 1, k % 6)

    def _show_groups(self, report) -> None:
        self.groups.clear()
        for number, group in enumerate(report.duplicates, start=1):
            tags = [t for t, on in (("conflicting labels", group.conflicting),
                                    ("leak", group.leaking)) if on]
            title = f"Group {number}: {len(group.files)} files" + \
                (f" ({', '.join(tags)})" if tags else "")
            top = QTreeWidgetItem([title, group.kind, ", ".join(group.classes),
                                   ", ".join(group.splits)])
            top.setData(0, ID_ROLE, group)
            for k, sample_id in enumerate(group.files):
                child = QTreeWidgetItem([sample_id, "", "", ""])
                child.setData(0, ID_ROLE, sample_id)
                if group.paths:
                    child.setToolTip(0, group.paths[k])
                picture = report.thumbnails.get(sample_id)
                if picture is not None:
                    child.setIcon(0, to_icon(picture / 255.0, THUMB))
                top.addChild(child)
            self.groups.addTopLevelItem(top)
            top.setExpanded(number <= 20)
        self._mark_excluded()
        self.groups.resizeColumnToContents(0)
        self.tabs.setTabText(2, f"Duplicates ({len(report.duplicates)})")

    def _show_bad(self, report) -> None:
        self.bad.clear()
        for name, why in report.bad_files:
            item = QTreeWidgetItem([name, why])
            item.setToolTip(1, why)
            self.bad.addTopLevelItem(item)
        self.bad.resizeColumnToContents(0)
        self.tabs.setTabText(3, f"Bad files ({len(report.bad_files)})")

    # -- excluding ----------------------------------------------------------------------------
    def selected_ids(self, whole_groups: bool = False) -> list[str]:
        """The sample ids the selection names, not yet excluded.

        A selected group row names its copies but the first (every member of a
        group with conflicting labels), or with ``whole_groups`` all members.
        """
        ids: list[str] = []
        for item in self.groups.selectedItems():
            value = item.data(0, ID_ROLE)
            if isinstance(value, str):
                ids.append(value)
            else:
                whole = whole_groups or value.conflicting
                ids.extend(value.files if whole else value.files[1:])
        return sorted(set(ids) - self.excluded)

    def _selection_changed(self) -> None:
        self.exclude_button.setEnabled(self.can_revise and bool(self.selected_ids()))
        self.relabel_button.setEnabled(self.can_revise and bool(self.selected_ids(True)))

    def exclude_selected(self) -> list[str]:
        """Ask the window to exclude the selected samples; return their ids."""
        ids = self.selected_ids()
        if not ids or not self.can_revise:
            return []
        self.excluded |= set(ids)
        self.exclude_requested.emit(ids)
        self._revised(f"Excluded {len(ids)} sample(s) (data.exclude)")
        return ids

    def relabel_selected(self, name: str | None = None) -> dict[str, str]:
        """Ask the window to give the selected samples class ``name`` (default: the chosen)."""
        name = name or self.relabel_box.currentText()
        mapping = {i: name for i in self.selected_ids(True)}
        if not mapping or not name or not self.can_revise:
            return {}
        self.relabelled.update(mapping)
        self.relabel_requested.emit(mapping)
        self._revised(f"Relabelled {len(mapping)} sample(s) as {name} (data.relabel)")
        return mapping

    def _revised(self, text: str) -> None:
        self._mark_excluded()
        self.exclude_hint.setText(f"{text}; Edit > Undo takes it back; Check data… again "
                                  "shows the revised data.")
        self._selection_changed()

    def _mark_excluded(self) -> None:
        for i in range(self.groups.topLevelItemCount()):
            top = self.groups.topLevelItem(i)
            for k in range(top.childCount()):
                child = top.child(k)
                sample_id = child.data(0, ID_ROLE)
                gone = sample_id in self.excluded
                new_class = self.relabelled.get(sample_id)
                child.setText(1, "excluded" if gone else (f"relabelled {new_class}"
                                                          if new_class else ""))
                child.setForeground(0, Qt.GlobalColor.gray if gone else Qt.GlobalColor.black)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Stop a running check when the window closes."""
        self.worker.stop()
        super().closeEvent(event)


def _pixmap(image: np.ndarray, size: int):
    from PySide6.QtGui import QPixmap

    return QPixmap.fromImage(to_qimage(image)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
