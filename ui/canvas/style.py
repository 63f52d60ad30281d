"""Colours and fonts of the canvas: calm, one accent colour per block group."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QFont, QFontDatabase

GROUP_COLORS = {
    "Input/Output": "#5d6d7e",
    "Convolution": "#3b7dd8",
    "Pooling": "#1f9e89",
    "Activation": "#e0a030",
    "Normalization": "#8a63c9",
    "Regularization": "#c95d7b",
    "Merge": "#d9722b",
    "Reshape": "#6f9a3c",
    "Core": "#4a5fc1",
    "Modules": "#37474f",
}

INK = QColor("#1f2933")
MUTED = QColor("#6b7785")
SHAPE_INK = QColor("#0b4f8a")
BORDER = QColor("#b8c1cc")
FILL = QColor("#ffffff")
MODULE_FILL = QColor("#f3f5f8")
SELECTED = QColor("#2f6fde")
ERROR = QColor("#d64545")
ERROR_FILL = QColor("#fff0f0")
WARNING = QColor("#d99a1e")
WARNING_FILL = QColor("#fff8e8")
EDGE = QColor("#5f6b7a")
GROUP_BORDER = QColor("#9aa5b1")
GROUP_FILL = QColor(226, 233, 243, 110)
BACKGROUND = QColor("#f7f8fa")
GRID_DOT = QColor("#dde1e7")


def group_color(group: str) -> QColor:
    """The accent colour of a block group."""
    return QColor(GROUP_COLORS.get(group, "#7b8794"))


@cache
def ui_font(point_size: float = 9.0, bold: bool = False) -> QFont:
    """The proportional font of block titles and labels."""
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


@cache
def mono_font(point_size: float = 9.0) -> QFont:
    """The monospace font used for shapes."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(point_size)
    return font
