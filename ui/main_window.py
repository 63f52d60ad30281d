"""The lab's main window: palette, canvas, properties, summary, problems, and view tabs.

The window shows one :class:`~cnnlab.ui.document.Document`. After every
change of the document the analysis runs and the canvas, the summary table,
the problems list and the form are brought up to date.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QMargins, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStyle,
    QTabWidget,
    QWidget,
)

from cnnlab import Analysis, Experiment, __version__, analyze, compact
from cnnlab.diagram import VisibleGraph, visible_graph
from cnnlab.spec import positions
from cnnlab.ui import dialogs, menus
from cnnlab.ui.canvas.scene import GraphScene
from cnnlab.ui.canvas.view import GraphView
from cnnlab.ui.document import Document
from cnnlab.ui.editor import Editor
from cnnlab.ui.file_actions import FileActions
from cnnlab.ui.folder_drop import FolderDropFilter
from cnnlab.ui.menus import Menus
from cnnlab.ui.palette import Palette
from cnnlab.ui.plan_panel import PlanPanel
from cnnlab.ui.problems import ProblemsList
from cnnlab.ui.properties import PropertiesPanel
from cnnlab.ui.recovery import Autosaver
from cnnlab.ui.settings import LabSettings
from cnnlab.ui.summary_table import SummaryTable

DEFAULT_SIZE = (1500, 920)
BORDER = 4  # a window manager's side and bottom frame, before the window is shown


def fit_rect(wanted: QRect, available: QRect, frame: QMargins) -> QRect:
    """A window geometry that fits, with its frame, inside ``available``.

    Args:
        wanted: The window's geometry (without its frame).
        available: The screen's available geometry (without panels and docks).
        frame: The frame around the window (title bar, borders).

    Returns:
        ``wanted`` made smaller where it is too big and moved where it sticks out.
    """
    room = available.marginsRemoved(frame)
    w, h = min(wanted.width(), room.width()), min(wanted.height(), room.height())
    x = min(max(wanted.x(), room.left()), room.left() + room.width() - w)
    y = min(max(wanted.y(), room.top()), room.top() + room.height() - h)
    return QRect(x, y, w, h)


class MainWindow(QMainWindow):
    """The network builder and the tab area for the lab's other views."""

    def __init__(self, experiment: Experiment, path=None, settings: LabSettings | None = None,
                 autosave_ms: int | None = None):
        super().__init__()
        self.setObjectName("MainWindow")
        self.settings = settings or LabSettings()
        self.doc = Document(experiment, path, self)
        self.analysis: Analysis = analyze(experiment.model)
        self.graph = VisibleGraph()
        self.last_refresh_s = 0.0
        self._analysed_key: tuple | None = None
        self._analysed_model = None
        self._build_widgets()
        self.editor = Editor(self)
        self.files = FileActions(self)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self.menus = Menus(self)
        self._build_status()
        self._connect()
        self._accept_folder_drops()
        self.autosaver = Autosaver(self.doc, autosave_ms or 30_000, self)
        self._default_geometry()
        self.files.show_experiment(experiment, path)

    # -- construction ------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.scene = GraphScene(self)
        self.view = GraphView(self.scene)
        self.view.setObjectName("canvas")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("views")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.view, "Network")
        self.setCentralWidget(self.tabs)
        self.palette = Palette()
        self.properties = PropertiesPanel()
        self.summary = SummaryTable()
        self.plan_panel = PlanPanel()
        self.problems = ProblemsList()

    def _dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self._dock("palette", "Blocks", self.palette, left)
        self._dock("properties", "Properties", self.properties, right)
        summary = self._dock("summary", "Summary", self.summary, bottom)
        problems = self._dock("problems", "Problems", self.problems, bottom)
        self.splitDockWidget(summary, problems, Qt.Orientation.Horizontal)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.plan_panel)
        plan = self._dock("plan", "Plan", scroll, bottom)
        self.tabifyDockWidget(summary, plan)  # next to the Summary, one click away
        summary.raise_()
        self.resizeDocks([self.docks["palette"], self.docks["properties"]], [230, 300],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([summary, problems], [900, 420], Qt.Orientation.Horizontal)
        self.resizeDocks([summary], [200], Qt.Orientation.Vertical)

    def _build_status(self) -> None:
        self.totals_label = QLabel()
        self.tf_label = QLabel("TensorFlow: not loaded")
        self.statusBar().addPermanentWidget(self.totals_label)
        self.statusBar().addPermanentWidget(self.tf_label)

    def _connect(self) -> None:
        e = self.editor
        self.doc.changed.connect(self.refresh)
        self.doc.stateChanged.connect(self.update_title)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.connectRequested.connect(e.connect)
        self.scene.movesFinished.connect(e.moved)
        self.scene.foldRequested.connect(e.fold)
        self.view.blockDropped.connect(e.drop_block)
        self.palette.activated.connect(e.add_below_selection)
        self.properties.paramsEdited.connect(e.edit_params)
        self.properties.nameEdited.connect(e.rename_experiment)
        self.properties.foldRequested.connect(e.fold)
        self.problems.blockActivated.connect(self.reveal_block)
        self.summary.blockActivated.connect(self.reveal_block)

    def _accept_folder_drops(self) -> None:
        self.pending_folder: str | None = None
        self.setAcceptDrops(True)
        self.folder_drops = FolderDropFilter(self)
        self.folder_drops.watch(self, self.view.viewport())
        self.folder_drops.folderDropped.connect(self.use_data_folder)

    # -- the public face for other views -----------------------------------------------------
    def add_view(self, title: str, widget: QWidget) -> int:
        """Add a view (training, runs, inspection...) as a tab next to the network."""
        index = self.tabs.addTab(widget, title)
        widget.setObjectName(widget.objectName() or f"view_{title.lower()}")
        if title == "Recipe" and self.pending_folder:
            self.use_data_folder(self.pending_folder)
        return index

    def view_widget(self, title: str) -> QWidget | None:
        """The view in the tab called ``title``, or None."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                return self.tabs.widget(i)
        return None

    def use_data_folder(self, folder: str) -> bool:
        """Check an image folder in the Recipe view's Data panel and make it the data source.

        Before the Recipe view exists (it starts once TensorFlow has loaded) the
        folder waits for it. Returns True when the check has started.
        """
        recipe = self.view_widget("Recipe")
        if recipe is None or not hasattr(recipe, "use_folder"):
            self.pending_folder = folder
            self.show_message(f"{folder} will be checked once TensorFlow has loaded.", 0)
            return False
        self.pending_folder = None
        self.show_view("Recipe")
        self.show_message(f"Checking the image folder {folder}…")
        return recipe.use_folder(folder)

    def show_view(self, title: str) -> bool:
        """Bring the tab called ``title`` to the front."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)
                return True
        return False

    def drop_block(self, type_name: str, at: QPointF) -> list[str] | None:
        """Create a block as a palette drop at scene point ``at`` does."""
        return self.editor.drop_block(type_name, at)

    # -- keeping views in step ---------------------------------------------------------------
    def refresh(self, exp: Experiment | None = None) -> None:
        """Analyse the current experiment and update every view (timed)."""
        start = time.perf_counter()
        exp = exp or self.doc.experiment
        self._analyse(exp)
        self.plan_panel.set_experiment(exp)
        self.graph = visible_graph(exp)
        self.scene.sync(self.graph, self.analysis, positions(exp), exp,
                        self.problems.data_problems)  # set by the editor just before
        self.problems.set_problems(self.analysis.problems)
        self.palette.set_modules(exp.model.modules)
        self._selection_changed()
        self._update_status()
        self.update_title()
        self.last_refresh_s = time.perf_counter() - start

    def _analyse(self, exp: Experiment) -> None:
        """Run the analysis unless only the layout changed since the last one."""
        reg, device = exp.training.regularization, exp.training.device
        key = (reg.batchnorm, device.mixed_precision)
        if exp.model is self._analysed_model and key == self._analysed_key:
            return
        bpv = 4 if device.mixed_precision == "none" else 2
        self.analysis = analyze(exp.model, reg.batchnorm, bpv)
        self._analysed_model, self._analysed_key = exp.model, key
        self.summary.set_analysis(self.analysis)

    def _update_status(self) -> None:
        t = self.analysis.totals
        errors = self.problems.error_count()  # the analysis's and the model-vs-data problems
        self.totals_label.setText(f"{compact(t.params)} params · {compact(t.macs)} mult-adds · "
                                  f"{compact(t.activations)} activations")
        dock = self.docks["problems"]
        count = len(self.problems.problems)
        dock.setWindowTitle(f"Problems ({count})" if count else "Problems")
        self.totals_label.setStyleSheet("color: #d64545;" if errors else "")

    def update_title(self) -> None:
        """The experiment's name, with Qt's unsaved mark (``*``) while there are changes.

        Qt appends the application's display name (``— CNN Lab``) itself.
        """
        name = self.doc.experiment.name.strip() or "Untitled experiment"
        self.setWindowTitle(name.replace("[*]", "[*][*]") + "[*]")
        self.setWindowModified(self.doc.dirty)

    def _selection_changed(self) -> None:
        ids = self.scene.selected_item_ids()
        self.properties.show_selection(self.doc.experiment, self.graph, ids)
        if len(ids) == 1 and ids[0] in self.graph.nodes:
            self.summary.show_block(self.graph.nodes[ids[0]].flat_id)

    def reveal_block(self, flat_id: str) -> None:
        """Select and show the canvas item of an expanded block id."""
        item_id = self.graph.owner.get(flat_id, flat_id)
        item = self.scene.item_for(item_id)
        if item is None:
            return
        self.scene.select_ids([item_id])
        self.tabs.setCurrentWidget(self.view)
        self.view.ensureVisible(item, 80, 80)

    def show_message(self, text: str, ms: int = 6000) -> None:
        """A transient message in the status bar."""
        self.statusBar().showMessage(text, ms)

    def set_tensorflow_state(self, text: str, detail: str = "") -> None:
        """The status bar's TensorFlow label (``detail`` as its tooltip, and logged)."""
        self.tf_label.setText(text)
        self.tf_label.setToolTip(detail)
        if detail:
            import logging

            logging.getLogger("cnnlab.ui").warning("TensorFlow: %s", detail)

    def show_first_steps(self) -> None:
        """Help ▸ First Steps: a short guided tour of the window (not modal)."""
        dialogs.page(self, "help_first_steps", "First steps", menus.FIRST_STEPS)

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts, read from the menus' actions (not modal)."""
        dialogs.page(self, "help_shortcuts", "Keyboard shortcuts",
                     menus.shortcuts_html(self.menuBar()))

    def show_about(self) -> None:
        """The About box."""
        dialogs.info(self, "About CNN Lab", f"CNN Lab {__version__}: build, train and "
                     "understand convolutional networks.")

    # -- layout memory and closing -----------------------------------------------------------
    def _default_geometry(self) -> None:
        """The first start's size, centred on the screen and no bigger than it."""
        available = self.screen().availableGeometry()
        wanted = QRect(QPoint(), QSize(*DEFAULT_SIZE))
        wanted.moveCenter(available.center())
        self.setGeometry(fit_rect(wanted, available, self._frame_margins()))

    def restore_layout(self) -> None:
        """Restore the window geometry and dock layout of the last session.

        The restored geometry is fitted to the screen the window lands on (a
        layout saved on a big monitor and restored on a 1280x800 laptop).
        """
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.keep_on_screen()

    def keep_on_screen(self) -> None:
        """Shrink and move the window (its frame included) into the available screen area."""
        if self.isMaximized() or self.isFullScreen():
            return
        screen = QGuiApplication.screenAt(self.geometry().center()) or self.screen()
        fitted = fit_rect(self.geometry(), screen.availableGeometry(), self._frame_margins())
        if fitted != self.geometry():
            self.setGeometry(fitted)

    def _frame_margins(self) -> QMargins:
        """The window frame's size: measured once shown, else a title bar and thin borders."""
        frame, inner = self.frameGeometry(), self.geometry()
        if frame != inner:
            return QMargins(inner.left() - frame.left(), inner.top() - frame.top(),
                            frame.right() - inner.right(), frame.bottom() - inner.bottom())
        title = self.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight) or 30
        return QMargins(BORDER, max(title, 24), BORDER, BORDER)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Ask about a training run and unsaved changes, remember the layout, drop recovery."""
        if not self.files.may_quit() or not self.files.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.autosaver.discard()
        event.accept()
