"""The properties of the selected block: a form generated from the catalogue.

A block shows its parameters (regularization fields in a collapsible
section); a module instance shows the instance's parameters; with nothing
selected the experiment's name. The fields are built by the same
:class:`~cnnlab.ui.param_form.ParamForm` as the recipe's; every applied value is one
edit, sent as ``paramsEdited(node id, new params)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab import BLOCKS, REG_PARAM_NAMES, Experiment, Param
from cnnlab.diagram import VisibleGraph
from cnnlab.ui.param_form import ParamForm
from cnnlab.ui.param_widgets import TYPING_MS, ParamEditor, install_wheel_guard


def module_params(exp: Experiment, module: str) -> list[Param]:
    """Parameter declarations for a module instance, typed by their defaults."""
    out = []
    for name, default in exp.model.modules[module].params.items():
        kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default), "json")
        out.append(Param(name, kind, default, f"module parameter (default {default!r})"))
    return out


class PropertiesPanel(QScrollArea):
    """The form of the current selection.

    Signals:
        paramsEdited(str, dict): New parameters for a top-level block or instance.
        nameEdited(str): A new experiment name.
        foldRequested(str, bool): Collapse (True) or expand a module instance.
    """

    paramsEdited = Signal(str, dict)  # noqa: N815 (Qt naming)
    nameEdited = Signal(str)  # noqa: N815
    foldRequested = Signal(str, bool)  # noqa: N815

    def __init__(self, parent=None):
        super().__init__(parent)
        install_wheel_guard()
        self.setWidgetResizable(True)
        self.editors: dict[str, ParamEditor] = {}
        self.forms: list[ParamForm] = []
        self._key: tuple | None = None
        self._target: str | None = None
        self._given: dict[str, Any] = {}
        self.error_label = QLabel()
        self._body = QWidget()
        self.setWidget(self._body)

    # -- what to show ------------------------------------------------------------------------
    def show_selection(self, exp: Experiment, graph: VisibleGraph, ids: list[str]) -> None:
        """Show the form for the selected canvas items."""
        if len(ids) > 1:
            self._rebuild(("many", len(ids)), lambda lay: lay.addWidget(
                _label(f"{len(ids)} blocks selected")))
            return
        if not ids:
            self._show_experiment(exp)
            return
        item = ids[0]
        node = graph.nodes.get(item)
        instance = item if item in graph.module_of else (node.group if node else None)
        if instance is not None:
            self._show_instance(exp, instance, folded=item not in graph.groups and
                                node is not None and node.kind == "module",
                                inner=node if node is not None and node.kind == "inner"
                                else None)
        elif node is not None:
            self._show_block(exp, node.id)

    def _show_experiment(self, exp: Experiment) -> None:
        key = ("experiment",)
        if key != self._key:
            self._rebuild(key, self._build_experiment)
        self._shown_name = exp.name
        typing = self._name_edit.hasFocus() and self._name_typing.isActive()
        if not typing and self._name_edit.text() != exp.name:
            self._name_edit.setText(exp.name)

    def _build_experiment(self, lay: QVBoxLayout) -> None:
        lay.addWidget(_title("Experiment"))
        form = QFormLayout()
        self._name_edit = QLineEdit()
        self._name_typing = QTimer(self._name_edit, singleShot=True, interval=TYPING_MS)
        self._name_typing.timeout.connect(self._rename)
        self._name_edit.textEdited.connect(lambda _t: self._name_typing.start())
        self._name_edit.editingFinished.connect(self._rename)
        form.addRow("Name", self._name_edit)
        lay.addLayout(form)
        lay.addWidget(_label("Select a block on the canvas to edit its parameters; drag "
                             "blocks from the palette to add them.", muted=True))

    def _rename(self) -> None:
        """Apply the typed name (a pause in typing, Enter or leaving the field)."""
        self._name_typing.stop()
        if self._name_edit.text() != self._shown_name:
            self._shown_name = self._name_edit.text()
            self.nameEdited.emit(self._shown_name)

    def _show_block(self, exp: Experiment, node_id: str) -> None:
        node = exp.model.node(node_id)
        block = BLOCKS[node.type]
        key = ("block", node_id, node.type)
        self._target, self._given = node_id, dict(node.params)
        if key != self._key:
            self._rebuild(key, lambda lay: self._build_block(lay, node_id, block))
        self._load_values({p.name: p.default for p in block.params} | dict(node.params))

    def _build_block(self, lay: QVBoxLayout, node_id: str, block) -> None:
        lay.addWidget(_title(f"{block.type}  ·  {node_id}"))
        lay.addWidget(_label(block.help, muted=True))
        plain = [p for p in block.params if p.name not in REG_PARAM_NAMES]
        reg = [p for p in block.params if p.name in REG_PARAM_NAMES]
        lay.addWidget(self._form(plain))
        if reg:
            lay.addWidget(_Section("Regularization", self._form(reg)))

    def _show_instance(self, exp: Experiment, instance: str, folded: bool, inner) -> None:
        node = exp.model.node(instance)
        params = module_params(exp, node.type)
        key = ("module", instance, node.type, folded, inner.id if inner else None)
        self._target, self._given = instance, dict(node.params)
        if key != self._key:
            mod = exp.model.modules[node.type]
            self._rebuild(key, lambda lay: self._build_instance(
                lay, instance, node.type, mod.description, params, folded, inner))
        self._load_values({p.name: p.default for p in params} | dict(node.params))

    def _build_instance(self, lay, instance, module, description, params, folded, inner):
        lay.addWidget(_title(f"{module}  ·  {instance}"))
        if inner is not None:
            lay.addWidget(_label(f"{inner.id} ({inner.type}) is part of this module; its "
                                 "parameters come from the module's parameters below.",
                                 muted=True))
        lay.addWidget(_label(description or "A module instance.", muted=True))
        lay.addWidget(self._form(params))
        button = QPushButton("Expand in place" if folded else "Collapse to one block")
        button.clicked.connect(lambda: self.foldRequested.emit(instance, not folded))
        lay.addWidget(button)

    # -- form plumbing -----------------------------------------------------------------------
    def _rebuild(self, key: tuple, build) -> None:
        self._key = key
        self.editors, self.forms = {}, []
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(10, 10, 10, 10)
        build(lay)
        self.error_label = _label("", muted=False)
        self.error_label.setStyleSheet("color: #d64545;")
        lay.addWidget(self.error_label)
        lay.addStretch(1)
        self.setWidget(body)
        self._body = body

    def _form(self, params: list[Param]) -> ParamForm:
        # The block's fields live at model.nodes[ID].params in the experiment ("Sweep this…").
        form = ParamForm(params, path=f"model.nodes[{self._target}].params")
        form.edited.connect(self._commit)
        self.forms.append(form)
        self.editors.update(form.editors)
        return form

    def _load_values(self, values: Mapping[str, Any]) -> None:
        for form in self.forms:
            form.set_values(values)
        self.error_label.setText("")

    def _commit(self, name: str, value: Any) -> None:
        if self._target is None:
            return
        params = dict(self._given)
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
        if params != self._given:
            self.paramsEdited.emit(self._target, params)

    def show_error(self, name: str | None, message: str) -> None:
        """Show a refused edit at its field and in its form's error line (else under all)."""
        form = next((f for f in self.forms if name in f.editors), None)
        if form is not None:
            form.show_error(message, name)
        else:
            self.error_label.setText(message)


class _Section(QWidget):
    """A titled part of the form that folds open on click (closed at first)."""

    def __init__(self, title: str, form: QWidget):
        super().__init__()
        self.toggle = QToolButton()
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.content = form
        self.content.setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.addWidget(self.toggle)
        lay.addWidget(self.content)
        self.toggle.toggled.connect(self._toggled)

    def _toggled(self, opened: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        self.content.setVisible(opened)


def _title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() + 1)
    label.setFont(font)
    return label


def _label(text: str, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if muted:
        label.setStyleSheet("color: #6b7785;")
    return label
