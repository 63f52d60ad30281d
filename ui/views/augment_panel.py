"""The augmentation panel: transforms with settings, MixUp/CutMix, live preview."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab.recipe import AUGMENTATIONS, HELP
from cnnlab.spec import MixSpec, TrainingSpec, section_params
from cnnlab.ui.param_form import ParamForm
from cnnlab.ui.views.plots import image_view, show_image, tile_images
from cnnlab.ui.views.worker import Worker, call_in_thread


def _sample_images(n: int = 8):
    from cnnlab.data import generate_shapes

    x, _ = generate_shapes(samples=n, image_size=48, seed=1)
    return x


class AugmentationPanel(QWidget):
    """Edit ``training.augmentation``; emits ``changed(new TrainingSpec)``."""

    changed = Signal(object)

    def __init__(self, training: TrainingSpec | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.training = training or TrainingSpec()
        self._build()
        self.worker = Worker(self)
        self.worker.result.connect(self._show_preview)
        self.worker.failed.connect(lambda m: self.preview_message.setText(f"No preview: {m}"))
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.update_preview)
        self.set_value(self.training)

    def _build(self) -> None:
        self.add_box = QComboBox()
        for name in AUGMENTATIONS:
            self.add_box.addItem(name)
            self.add_box.setItemData(self.add_box.count() - 1, HELP.get(name, ""), 3)
        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_layer(self.add_box.currentText()))
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(self.add_box, 1)
        row.addWidget(add)
        row.addWidget(remove)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._select_layer)
        self.settings_holder = QVBoxLayout()
        self.layer_form: ParamForm | None = None
        self.mixup = ParamForm(section_params(MixSpec))
        self.cutmix = ParamForm(section_params(MixSpec))
        self.mixup.edited.connect(lambda name, _v: self._mix_edited(self.mixup, name))
        self.cutmix.edited.connect(lambda name, _v: self._mix_edited(self.cutmix, name))
        left = QVBoxLayout()
        left.addLayout(row)
        left.addWidget(self.list, 1)
        left.addLayout(self.settings_holder)
        left.addWidget(QLabel("<b>MixUp</b>"))
        left.addWidget(self.mixup)
        left.addWidget(QLabel("<b>CutMix</b>"))
        left.addWidget(self.cutmix)
        self.preview, self.preview_item = image_view()
        self.preview.setMinimumSize(320, 320)
        self.preview_message = QLabel("")
        self.preview_message.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Augmented samples</b>"))
        right.addWidget(self.preview, 1)
        right.addWidget(self.preview_message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

    def set_value(self, training: TrainingSpec) -> None:
        """Show this recipe's augmentation (no signal)."""
        self.training = training
        aug = training.augmentation
        self.list.blockSignals(True)
        self.list.clear()
        for layer in aug.layers:
            self.list.addItem(str(layer.get("type", "?")))
        self.list.blockSignals(False)
        self.mixup.set_values(dataclasses.asdict(aug.mixup))
        self.cutmix.set_values(dataclasses.asdict(aug.cutmix))
        self._select_layer(self.list.count() - 1)
        self.list.setCurrentRow(self.list.count() - 1)
        self._debounce.start()

    def _emit(self, form: ParamForm | None = None, name: str | None = None,
              **changes: Any) -> bool:
        """Apply ``changes`` to the augmentation; refused: shown at ``form``'s field ``name``."""
        aug = dataclasses.replace(self.training.augmentation, **changes)
        try:
            aug.check("training.augmentation")
        except Exception as exc:  # noqa: BLE001 - SpecError, shown at the field
            if form is None:
                self.preview_message.setText(str(exc))
            else:
                form.refuse(exc, name)
            return False
        if aug == self.training.augmentation:
            return True  # the same value again (Enter, leaving the field): no edit
        self.training = dataclasses.replace(self.training, augmentation=aug)
        self.changed.emit(self.training)
        self._debounce.start()
        return True

    def add_layer(self, name: str) -> None:
        """Append a transform with its default settings."""
        params = {p.name: p.default for p in AUGMENTATIONS[name]}
        layers = [*self.training.augmentation.layers, {"type": name, "params": params}]
        self._emit(layers=layers)
        self.list.addItem(name)
        self.list.setCurrentRow(self.list.count() - 1)

    def remove_selected(self) -> None:
        """Remove the selected transform."""
        row = self.list.currentRow()
        if row < 0:
            return
        layers = list(self.training.augmentation.layers)
        del layers[row]
        self.list.takeItem(row)
        self._emit(layers=layers)

    def _select_layer(self, row: int) -> None:
        if self.layer_form is not None:
            self.layer_form.setParent(None)
            self.layer_form.deleteLater()
            self.layer_form = None
        layers = self.training.augmentation.layers
        if not 0 <= row < len(layers):
            return
        layer = layers[row]
        form = ParamForm(AUGMENTATIONS.get(layer.get("type"), ()), layer.get("params", {}))
        form.edited.connect(lambda name, _v, r=row: self._layer_edited(r, name))
        self.settings_holder.addWidget(form)
        self.layer_form = form

    def _layer_edited(self, row: int, name: str) -> None:
        form = self.layer_form
        layers = [dict(x) for x in self.training.augmentation.layers]
        layers[row] = {"type": layers[row]["type"], "params": form.values()}
        if self._emit(form, name, layers=layers):
            form.set_values(form.values())  # applied: no old marks (as after a block edit)

    def _mix_edited(self, form: ParamForm, name: str) -> None:
        mixup, cutmix = MixSpec(**self.mixup.values()), MixSpec(**self.cutmix.values())
        if self._emit(form, name, mixup=mixup, cutmix=cutmix):
            self.mixup.set_values(dataclasses.asdict(mixup))
            self.cutmix.set_values(dataclasses.asdict(cutmix))

    def update_preview(self) -> None:
        """Render a grid of augmented samples in the worker thread."""
        if self.worker.running:
            self._debounce.start()
            return
        training = self.training

        def compute():
            import cnnlab.recipe as recipe

            preview = getattr(recipe, "preview_augmentations", None)
            if preview is None:
                from cnnlab.recipe import preview_augmentations as preview
            return preview(training, _sample_images(4), 4, 0)

        call_in_thread(self.worker, compute)

    def _show_preview(self, images: Any) -> None:
        try:
            arr = np.asarray(images)
            if arr.ndim == 5:  # (images, variants, H, W, C): one row per image
                cols = arr.shape[1]
                arr = arr.reshape(-1, *arr.shape[2:])
            else:
                cols = 4
            self.preview_images = arr
            show_image(self.preview_item, tile_images(arr, cols=cols, pad=2))
            self.preview_message.setText("")
        except Exception as exc:  # noqa: BLE001
            self.preview_message.setText(f"No preview: {exc}")
