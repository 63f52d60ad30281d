"""File ▸ Export Network Figure…: the canvas as SVG, PDF or PNG, for slides and theses.

The figure is drawn by the canvas items' own ``paint`` (block cards with their
labels, shapes and marks, arrows, module frames), so it shows what the canvas
shows, modules collapsed or expanded as displayed, on a white background
without the dot grid or the selection. Qt writes the files: QSvgGenerator
(SVG, text stays text), QPdfWriter (PDF, vector) and QImage (PNG, twice the
screen's resolution). The file type comes from the name's suffix; the data
are made in memory and written atomically (temp file + rename); an existing
file is replaced only after the save dialog (or a question) confirmed it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter, QPdfWriter, QTransform
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsScene, QStyle, QStyleOptionGraphicsItem

from cnnlab import CnnlabError
from cnnlab.ui import dialogs

FORMATS = {".svg": "SVG drawing", ".pdf": "PDF document", ".png": "PNG image"}
FILTERS = ";;".join(f"{label} (*{suffix})" for suffix, label in FORMATS.items())
MARGIN = 24.0  # scene units around the items
PNG_SCALE = 2.0  # pixels per scene unit (a scene unit is a screen pixel at 100 %)
MAX_PNG_SIDE = 16_384
MAX_PNG_PIXELS = 40_000_000  # 160 MB while drawing; a larger network is scaled down
MAX_PDF_POINTS = 14_400.0  # the largest page PDF readers open (200 inches)
WHITE = QColor("#ffffff")


def screen_dpi() -> int:
    """The screen's logical dots per inch: a scene unit is one such dot.

    Every writer paints at this resolution, because the canvas measures and
    cuts its texts with the screen's font metrics: fonts are sized in points,
    so on a device of another resolution the texts would not fit their cards.
    """
    from PySide6.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    return round(screen.logicalDotsPerInch()) if screen is not None else 96


def figure_suffix(path: str | Path) -> str:
    """The figure type of a file name (``.svg``, ``.pdf`` or ``.png``).

    Raises:
        CnnlabError: For any other suffix.

    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise CnnlabError(f"{Path(path).name}: a network figure is written as .svg, .pdf or "
                          ".png; name the file with one of these")
    return suffix


def figure_rect(scene: QGraphicsScene) -> QRectF:
    """The scene rectangle of the figure: every visible item, with a margin.

    Raises:
        CnnlabError: When the canvas shows nothing.

    """
    rect = QRectF()
    for item in scene.items():
        if item.isVisible():
            rect = rect.united(item.sceneBoundingRect())
    if rect.isEmpty():
        raise CnnlabError("the canvas is empty: there is no network to draw")
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def paint_scene(painter: QPainter, scene: QGraphicsScene, source: QRectF, scale: float) -> None:
    """Draw the visible items of ``source`` at ``scale`` device units per scene unit.

    The items paint themselves bottom to top, none of them selected, over white.
    """
    base = QTransform.fromScale(scale, scale)
    base.translate(-source.left(), -source.top())
    painter.fillRect(QRectF(0, 0, source.width() * scale, source.height() * scale), WHITE)
    for item in scene.items(Qt.SortOrder.AscendingOrder):
        if not item.isVisible() or not item.sceneBoundingRect().intersects(source):
            continue
        option = QStyleOptionGraphicsItem()
        option.state = QStyle.StateFlag.State_Enabled
        option.exposedRect = item.boundingRect()
        painter.save()
        painter.setTransform(item.sceneTransform() * base)
        painter.setOpacity(item.effectiveOpacity())
        item.paint(painter, option, None)
        painter.restore()


def _buffer() -> tuple[QByteArray, QBuffer]:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    return data, buffer


def svg_bytes(scene: QGraphicsScene, title: str = "") -> bytes:
    """The figure as SVG (one scene unit = one SVG pixel; text as text)."""
    source = figure_rect(scene)
    data, buffer = _buffer()
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    size = QSize(round(source.width()), round(source.height()))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setResolution(screen_dpi())
    generator.setTitle(title or "Network")
    generator.setDescription("Network figure written by CNN Lab")
    painter = QPainter(generator)
    paint_scene(painter, scene, source, 1.0)
    painter.end()
    buffer.close()
    return bytes(data)


def pdf_bytes(scene: QGraphicsScene, title: str = "") -> bytes:
    """The figure as a one-page vector PDF whose page is the figure's size."""
    source = figure_rect(scene)
    dpi = screen_dpi()
    points = min(72 / dpi, MAX_PDF_POINTS / max(source.width(), source.height()))
    data, buffer = _buffer()
    writer = QPdfWriter(buffer)
    writer.setTitle(title or "Network")
    writer.setCreator("CNN Lab")
    writer.setResolution(dpi)
    page = QSizeF(source.width() * points, source.height() * points)
    writer.setPageSize(QPageSize(page, QPageSize.Unit.Point, "figure",
                                 QPageSize.SizeMatchPolicy.ExactMatch))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    painter = QPainter(writer)
    scale = min(writer.width() / source.width(), writer.height() / source.height())
    paint_scene(painter, scene, source, scale)
    painter.end()
    buffer.close()
    return bytes(data)


def png_scale(source: QRectF) -> float:
    """Pixels per scene unit: :data:`PNG_SCALE`, less for a figure too large to hold."""
    scale = PNG_SCALE
    scale = min(scale, MAX_PNG_SIDE / source.width(), MAX_PNG_SIDE / source.height())
    return min(scale, (MAX_PNG_PIXELS / (source.width() * source.height())) ** 0.5)


def png_image(scene: QGraphicsScene) -> QImage:
    """The figure as an image (see :func:`png_scale`); its stated resolution is the scale's."""
    source = figure_rect(scene)
    scale, dpi = png_scale(source), screen_dpi()
    image = QImage(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(WHITE)
    _dots_per_inch(image, dpi)  # painted at the screen's resolution (see screen_dpi)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    paint_scene(painter, scene, source, scale)
    painter.end()
    _dots_per_inch(image, dpi * scale)  # so that it prints at the canvas's size
    return image


def _dots_per_inch(image: QImage, dpi: float) -> None:
    image.setDotsPerMeterX(round(dpi / 0.0254))
    image.setDotsPerMeterY(round(dpi / 0.0254))


def png_bytes(scene: QGraphicsScene) -> bytes:
    """The figure as PNG data."""
    data, buffer = _buffer()
    if not png_image(scene).save(buffer, "PNG"):
        raise CnnlabError("Qt could not encode the figure as PNG")
    buffer.close()
    return bytes(data)


def figure_bytes(scene: QGraphicsScene, suffix: str, title: str = "") -> bytes:
    """The figure in the format of ``suffix`` (``.svg``, ``.pdf`` or ``.png``)."""
    if suffix == ".svg":
        return svg_bytes(scene, title)
    if suffix == ".pdf":
        return pdf_bytes(scene, title)
    return png_bytes(scene)


def write_figure(scene: QGraphicsScene, path: str | Path, title: str = "") -> Path:
    """Write the figure to ``path`` (type from the suffix), atomically; return the path.

    The caller has made sure that replacing an existing file is wanted.

    Raises:
        CnnlabError: For an unknown suffix, a folder or an empty canvas.
        OSError: When the file cannot be written.

    """
    from cnnlab import atomic_write_bytes

    path = Path(path)
    suffix = figure_suffix(path)
    if path.is_dir():
        raise CnnlabError(f"{path} is a folder; give a file name for the figure")
    atomic_write_bytes(path, figure_bytes(scene, suffix, title))
    return path


def ask_figure_path(parent, suggestion: str) -> str | None:
    """Ask where to write the figure; None when cancelled or a replacement was declined.

    The dialog confirms replacing the file it was given; a name without a
    suffix gets the chosen type's, and if that names an existing file the
    user is asked again.
    """
    path, chosen = QFileDialog.getSaveFileName(parent, "Export network figure", suggestion,
                                               FILTERS)
    if not path:
        return None
    if Path(path).suffix.lower() not in FORMATS:
        suffix = next((s for s, label in FORMATS.items() if chosen.startswith(label)), ".svg")
        path += suffix
        if Path(path).exists() and not dialogs.ask(
                parent, "Replace the file?", f"{path} already exists. Replace it?"):
            return None
    return path


def export_network_figure(window, path: str | Path | None = None) -> Path | None:
    """File ▸ Export Network Figure…: ask for a file (unless given), write, say where.

    Returns:
        The file written, or None (cancelled, or the error was shown).

    """
    exp = window.doc.experiment
    if path is None:
        folder = Path(window.doc.path).parent if window.doc.path else Path.home()
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in exp.name) or "network"
        path = ask_figure_path(window, str(folder / f"{stem}.svg"))
        if path is None:
            return None
    try:
        written = write_figure(window.scene, path, exp.name)
    except (CnnlabError, OSError) as exc:
        dialogs.error(window, "Cannot export the figure", str(exc))
        return None
    window.show_message(f"Network figure written to {written}")
    return written
