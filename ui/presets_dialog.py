"""Choose a preset network: its description, input size, classes and parameter count."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnlab import (
    CnnlabError,
    Experiment,
    analysis_of,
    fitted_preset,
    grouped,
    list_presets,
    output_units,
    published_params,
)
from cnnlab.spec import data_classes

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setKeyboardTracking(False)
    return box


class PresetsDialog(QDialog):
    """Lists the presets; on OK ``experiment`` holds the loaded, re-sized network."""

    def __init__(self, parent=None, selected: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Load preset")
        self.resize(720, 420)
        self.experiment: Experiment | None = None
        self.fitted: int | None = None  # the selected preset's classes when fitted to its data
        self.entries = {e.name: e for e in list_presets()}
        self.listing = QListWidget()
        for entry in self.entries.values():
            item = QListWidgetItem(entry.title)
            item.setData(NAME_ROLE, entry.name)
            item.setToolTip(entry.description)
            self.listing.addItem(item)
        self._build_details()
        lay = QHBoxLayout(self)
        lay.addWidget(self.listing, 1)
        lay.addWidget(self.details, 2)
        self.listing.currentItemChanged.connect(lambda *_: self._select())
        names = list(self.entries)
        row = names.index(selected) if selected in names else 0
        self.listing.setCurrentRow(row)

    def _build_details(self) -> None:
        self.details = QWidget()
        lay = QVBoxLayout(self.details)
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.title.setFont(font)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.paper = QLabel()
        self.paper.setWordWrap(True)
        self.paper.setStyleSheet("color: #6b7785;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        for widget in (self.title, self.description, self.paper):
            lay.addWidget(widget)
        lay.addLayout(self._size_form())
        lay.addWidget(self.message)
        lay.addStretch(1)
        lay.addWidget(buttons)

    def _size_form(self) -> QFormLayout:
        """Input size, classes and width, and the parameter count they give."""
        form = QFormLayout()
        self.height_box, self.width_box = _spin(1, 4096, 32), _spin(1, 4096, 32)
        self.channels_box, self.classes_box = _spin(1, 64, 3), _spin(1, 100_000, 10)
        self.scale_box = QDoubleSpinBox()
        self.scale_box.setRange(0.0625, 16)
        self.scale_box.setSingleStep(0.25)
        self.scale_box.setValue(1.0)
        self.scale_box.setKeyboardTracking(False)
        size = QHBoxLayout()
        for box, label in ((self.height_box, "H"), (self.width_box, "W"),
                           (self.channels_box, "C")):
            size.addWidget(QLabel(label))
            size.addWidget(box)
        form.addRow("Input size", size)
        form.addRow("Classes", self.classes_box)
        self.keep_classes = QCheckBox()
        self.keep_classes.toggled.connect(self._keep_toggled)
        form.addRow("", self.keep_classes)
        form.addRow("Width multiplier", self.scale_box)
        self.count = QLabel()
        self.count.setStyleSheet("font-weight: bold;")
        form.addRow("Parameters", self.count)
        self.published = QLabel()
        self.published.setStyleSheet("color: #6b7785;")
        form.addRow("Published", self.published)
        self.fit_note = QLabel()
        self.fit_note.setWordWrap(True)
        form.addRow(self.fit_note)
        for box in (self.height_box, self.width_box, self.channels_box, self.classes_box,
                    self.scale_box):
            box.valueChanged.connect(lambda *_: self._update_count())
        return form

    def current_name(self) -> str | None:
        """The selected preset's name."""
        item = self.listing.currentItem()
        return item.data(NAME_ROLE) if item else None

    def _select(self) -> None:
        entry = self.entries.get(self.current_name())
        if entry is None:
            return
        self.title.setText(entry.title)
        self.description.setText(entry.description)
        self.paper.setText(entry.paper)
        image = len(entry.input_shape) == 3
        boxes = (self.height_box, self.width_box, self.channels_box)
        values = entry.input_shape if image else (entry.input_shape[0], 1, 1)
        for box, value in zip(boxes, values):
            box.blockSignals(True)
            box.setValue(int(value))
            box.blockSignals(False)
        self.width_box.setEnabled(image)
        self.channels_box.setEnabled(image)
        self.height_box.setEnabled("input_shape" in entry.adjustable)
        self.fitted = output_units(fitted_preset(entry.name))
        self._set_classes(self.fitted or entry.classes)
        self.classes_box.setEnabled("classes" in entry.adjustable)
        self._set_keep(entry)
        self.scale_box.blockSignals(True)
        self.scale_box.setValue(1.0)
        self.scale_box.blockSignals(False)
        self.scale_box.setEnabled("width" in entry.adjustable)
        self._update_count()

    def _set_classes(self, value: int) -> None:
        self.classes_box.blockSignals(True)
        self.classes_box.setValue(value)
        self.classes_box.blockSignals(False)

    def _set_keep(self, entry) -> None:
        """Offer the paper's classes when fitting to the data changes them."""
        self.keep_classes.blockSignals(True)
        self.keep_classes.setChecked(False)
        self.keep_classes.blockSignals(False)
        self.keep_classes.setText(f"Keep the paper's {entry.classes:,} classes "
                                  "(for pretrained weights)")
        self.keep_classes.setVisible("classes" in entry.adjustable
                                     and self.fitted not in (None, entry.classes))
        shape = "×".join(str(d) for d in entry.input_shape)
        published = published_params(entry.name)
        self.published.setText("–" if published is None else
                               f"{grouped(published)} ({entry.classes:,} classes, "
                               f"{shape} input)")

    def _keep_toggled(self, keep: bool) -> None:
        entry = self.entries[self.current_name()]
        self._set_classes(entry.classes if keep else (self.fitted or entry.classes))
        self.classes_box.setEnabled(not keep)
        self._update_count()

    def arguments(self) -> dict:
        """The load arguments the form describes."""
        entry = self.entries[self.current_name()]
        shape = (self.height_box.value(), self.width_box.value(), self.channels_box.value())
        args: dict = {"input_shape": shape if len(entry.input_shape) == 3 else
                      (self.height_box.value(),), "classes": self.classes_box.value()}
        if self.scale_box.value() != 1.0:
            args["width"] = self.scale_box.value()
        if tuple(args["input_shape"]) == tuple(entry.input_shape):
            args.pop("input_shape")
        if args["classes"] == (self.fitted or entry.classes):
            args.pop("classes")  # as loaded: fitted to the data
        return args

    def _load(self) -> Experiment | None:
        try:
            exp = fitted_preset(self.current_name(), **self.arguments())
        except CnnlabError as exc:
            self.message.setStyleSheet("color: #d64545;")
            self.message.setText(str(exc))
            return None
        self.message.setText("")
        return exp

    def _update_count(self) -> None:
        exp = self._load()
        self.ok_button.setEnabled(exp is not None)
        if exp is None:
            self.count.setText("–")
            return
        analysis = analysis_of(exp)
        units = output_units(exp)
        self.count.setText(grouped(analysis.totals.params)
                           + (f" ({units:,} classes)" if units else ""))
        self.fit_note.setText(self._fit_sentence(exp, units))
        errors = analysis.errors()
        if errors:
            self.message.setStyleSheet("color: #b07800;")
            self.message.setText(f"At this input size the network does not fit: {errors[0]}. "
                                 "It still opens, with the problem marked.")
        else:
            self.message.setStyleSheet("color: #d64545;")

    def _fit_sentence(self, exp: Experiment, units: int | None) -> str:
        """Say how the output relates to the dataset's classes."""
        have = data_classes(exp)
        paper = self.entries[self.current_name()].classes
        if units is None or have is None:
            return ""
        if units == have:
            note = f" (the paper has {paper:,})" if paper != units else ""
            return f"The output is fitted to the dataset's {have} classes{note}."
        return (f"The output keeps {units:,} classes but the dataset has {have}: Problems "
                "marks the output until they agree (choose the data in Recipe > Data).")

    def accept(self) -> None:
        """Load the preset; stay open with the message when it cannot."""
        self.experiment = self._load()
        if self.experiment is not None:
            super().accept()
