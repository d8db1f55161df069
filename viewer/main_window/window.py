"""The Caliper main window: browser, image, lesion table, responses.

Left: patients and timepoints.  Centre: the current timepoint's series
(:class:`SeriesViewerWidget`) and, at follow-up, the selected lesion's previous
key slice (:class:`PriorSliceWidget`), scrolled together by patient position.
Right: where the next caliper goes and the lesion table.  Bottom: the response
panel.  Every slot reads widget state, makes one :class:`app.session.ReadingSession`
call and returns; the window redraws from the session's signals.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QSettings, Qt, QThreadPool
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from viewer.dialogs.other_patient import confirm_other_patient
from viewer.errors import shows_errors
from viewer.image.layout import ViewerLayout
from viewer.image.loading import SeriesLibrary, SeriesLoadTask
from viewer.image.overlays import MeasurementOverlay
from viewer.image.presets import PRESET_NAMES
from viewer.image.prior import PriorSliceWidget
from viewer.image.view import SeriesViewerWidget
from viewer.image.volume import instance_set_key, slice_of
from viewer.image.warnings_banner import LoadWarningsBannerWidget
from viewer.lesions.table_model import LesionTableModel
from viewer.main_window.actions import TimepointActions, make_action, series_of
from viewer.main_window.caliper_actions import CaliperActions
from viewer.main_window.escape_cancels import EscapeCancels
from viewer.main_window.export_menu import ExportMenu
from viewer.main_window.help import HelpMenu
from viewer.main_window.layouts import ViewActions
from viewer.main_window.load_errors import show_load_error
from viewer.main_window.navigation import LesionNavigation
from viewer.main_window.pacs import PacsActions
from viewer.main_window.records import RecordActions
from viewer.main_window.seg_import import SegImportActions
from viewer.main_window.smart_caliper import SmartCaliperActions
from viewer.main_window.trial import TrialActions, WindowSettings
from viewer.main_window.volumetry import VolumetryPanel

if TYPE_CHECKING:  # the docks' contents are imported when they are built (finish_building)
    from viewer.lesions.assign_bar import AssignBarWidget
    from viewer.lesions.table_view import LesionTableView
    from viewer.main_window.comparison import ComparisonReading
    from viewer.main_window.patient_browser import PatientBrowserWidget
    from viewer.main_window.series_panel import SeriesPanelWidget
    from viewer.response.panel import ResponsePanelWidget

log = logging.getLogger("caliper")

_TOOL_TITLES = {
    "pointer": "Select",
    "bidirectional": "Bidirectional",
    "line": "Line",
    "pan": "Pan",
    "zoom": "Zoom",
    "window": "Window/level",
    "smart": "Smart caliper",
    "brush": "Contour brush",
}
#: Single-key tool shortcuts (text editors take the keys first when they have focus).
_TOOL_KEYS = {
    "pointer": "S",
    "bidirectional": "B",
    "line": "L",
    "pan": "P",
    "zoom": "Z",
    "window": "W",
    "smart": "M",
    "brush": "E",
}


class MainWindow(QMainWindow):
    """The reading workstation for one reader.

    It lays out the widgets, builds the File, Edit and Admin menus and the
    toolbar, and owns one collaborator per further responsibility, each building
    its own actions and handling their slots: :attr:`timepoints`
    (:class:`TimepointActions`), :attr:`calipers` (:class:`CaliperActions`),
    :attr:`pacs` (:class:`PacsActions`), :attr:`trial` (:class:`TrialActions`)
    and :attr:`window_settings` (:class:`WindowSettings`).

    Parameters
    ----------
    session : app.session.ReadingSession
        The controller every widget talks to.
    library : SeriesLibrary
        Opens folders and finds series opened before (injected by ``app/main.py``).
    parent : QWidget, optional
        Parent widget.
    pacs_controller : app.pacs.controller.PacsController, optional
        Behind File → Find on PACS…; None disables it.
    cohort_controller : app.cohort.controller.CohortController, optional
        Behind Trial → Cohort…; None disables it.
    settings_path : str, optional
        INI file where geometry, tool, preset and the last patient are remembered.
    readers_controller : app.readers.ReaderAdminController, optional
        Behind Admin → Readers… (enabled for administrators only); None disables it.
    build_docks_later : bool, optional
        Build only the frame (menus, toolbar, image view, docks with their titles) and
        leave the docks' contents and the comparison pane to :meth:`finish_building`,
        which the caller runs once the window has been painted (``caliper``'s start-up,
        issue 17).  By default the window is complete when constructed.
    """

    def __init__(
        self,
        session: Any,
        library: SeriesLibrary,
        parent: QWidget | None = None,
        *,
        pacs_controller: Any = None,
        cohort_controller: Any = None,
        settings_path: str | None = None,
        readers_controller: Any = None,
        export_controller: Any = None,
        build_docks_later: bool = False,
    ) -> None:
        super().__init__(parent)
        self.readers_controller = readers_controller
        self.setObjectName("mainWindow")
        self.setWindowTitle("Caliper")
        self.session, self.library, self.pacs_controller = session, library, pacs_controller
        self.cohort_controller, self.settings_path = cohort_controller, settings_path
        self._other_patient_confirmed = False  # for the series just loaded (see _may_show)
        self._timepoint_shown: int | None = None  # the timepoint the view was last set up for
        self._loading_for: int | None = None  # the patient open when the last load started
        self.last_task: SeriesLoadTask | None = None
        self._loads: list[SeriesLoadTask] = []  # running, cancelled when the window closes
        self._pool = QThreadPool(self)  # our own: the global pool stops once an event loop quits
        self.viewer = SeriesViewerWidget()
        self.load_banner = LoadWarningsBannerWidget()
        self.lesion_model = LesionTableModel(session, self)
        self.lock_banner = QLabel()
        self.lock_banner.setObjectName("lockBanner")
        self.lock_banner.setWordWrap(True)
        self.lock_banner.hide()
        self.timepoints = TimepointActions(
            self, session, self.viewer, self.lesion_model, self.lock_banner
        )
        self.calipers = CaliperActions(
            self,
            session,
            self.viewer,
            None,  # the assign bar and the lesion table: given in finish_building()
            None,
            amendment_reason=lambda: self.amendment_reason,
            refresh_overlays=self._refresh_overlays,
        )
        self.smart_caliper = SmartCaliperActions(self, session, self.viewer, self.calipers)
        self.seg_import = SegImportActions(self, session, self.viewer, self.smart_caliper)
        self.volumetry = VolumetryPanel(self, session, self.viewer)
        self.escape_cancels = EscapeCancels(self)  # Esc with both segmentations running
        sc, vp = self.smart_caliper, self.volumetry
        self.escape_cancels.add(sc.cancel_key, sc.cancel_button, "the Smart caliper segmentation")
        self.escape_cancels.add(vp.cancel_key, vp.cancel_button, "the liver segmentation")
        self._contour_editor: Any = None  # built when first needed (contour_editor())
        self.volumetry.brush_target = lambda target: self.contour_editor().set_target(target)
        self.pacs = PacsActions(self, pacs_controller, self.open_folder)
        self.trial = TrialActions(self, cohort_controller)
        self.records = RecordActions(self, session)
        self.navigation = LesionNavigation(
            self, session, self.viewer, None, lambda: self.amendment_reason
        )  # its table: given in finish_building()
        self.exports = ExportMenu(self, session, export_controller, self._images_folders)
        self.help = HelpMenu(self)
        self._folders: dict[str, str] = {}  # series UID -> the folder it was opened from
        self._build_layout()
        self._build_actions()
        self.view_actions = ViewActions(self, self.layout_view, self.preset_box, settings_path)
        self.view_actions.add_menu(self.menuBar())
        self.view_actions.add_to_toolbar(self.findChild(QToolBar, "mainToolbar"))
        self.window_settings = WindowSettings(
            self, settings_path, session, self.tool_actions, self.preset_box, self.set_tool
        )
        self._on_commands_changed()  # Undo/Redo, Sign/Amend as they will be: no flicker
        self.timepoints.update_lock_banner()
        self.resize(1600, 1000)
        self._dock_sizes_restored = False  # from window.ini (restore_settings)
        self.docks_built = False
        """True once the docks hold their contents (:meth:`finish_building`)."""
        if not build_docks_later:
            self.finish_building()

    def finish_building(self) -> None:
        """Fill the docks (patients, series, lesions, response), add the comparison pane, connect.

        Called by the constructor, unless ``build_docks_later`` asked to call it once the
        window has been painted (``caliper`` shows its window first, then its docks'
        contents); again, it does nothing.
        """
        if self.docks_built:
            return
        self.docks_built = True
        from viewer.lesions.assign_bar import AssignBarWidget
        from viewer.lesions.table_view import LesionTableView
        from viewer.main_window.comparison import ComparisonReading
        from viewer.main_window.patient_browser import PatientBrowserWidget
        from viewer.main_window.series_panel import SeriesPanelWidget
        from viewer.response.panel import ResponsePanelWidget

        # the comparison pane takes the place of its stand-in (a cell of 1x2 / 2x2, or none)
        self.prior = PriorSliceWidget()
        stand_in, self.layout_view.prior = self.layout_view.prior, self.prior
        grid = self.layout_view.layout()
        if grid is not None and grid.replaceWidget(stand_in, self.prior) is not None:
            self.prior.show()
        stand_in.deleteLater()
        self.comparison: ComparisonReading = ComparisonReading(
            self.session,
            self.library,
            self.viewer,
            self.prior,
            self.view_actions.comparison_available,
            self.settings_path,
        )
        self.browser: PatientBrowserWidget = PatientBrowserWidget(self.session)
        self.lesion_table: LesionTableView = LesionTableView(self.lesion_model)
        self.assign_bar: AssignBarWidget = AssignBarWidget()
        self.response_panel: ResponsePanelWidget = ResponsePanelWidget(self.session)
        self.series_panel: SeriesPanelWidget = SeriesPanelWidget(self.library, self.open_folder)
        self.calipers.assign_bar, self.calipers.lesion_table = self.assign_bar, self.lesion_table
        self.navigation.table = self.lesion_table
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(2, 2, 2, 2)
        right_layout.addWidget(self.lock_banner)
        right_layout.addWidget(self.assign_bar)
        right_layout.addWidget(self.lesion_table, 1)
        for title, widget in (
            ("Patients", self.browser),
            ("Series", self.series_panel),
            ("Lesions", right),
            ("Response", self.response_panel),
        ):
            placeholder = self.docks[title].widget()
            self.docks[title].setWidget(widget)
            if placeholder is not None:
                placeholder.deleteLater()
        if self.isVisible() and not self._dock_sizes_restored:
            # laid out around empty docks: split the left column as the contents would have
            # (in proportion to their size hints), as when they are there at the first show
            left = [self.docks["Patients"], self.docks["Series"]]
            heights = [dock.sizeHint().height() for dock in left]
            self.resizeDocks(left, heights, Qt.Orientation.Vertical)
        self._connect()
        if self.tool_actions["brush"].isChecked():  # restored before the docks were built
            self.contour_editor()
        self._on_timepoint_selected()

    # -- construction ------------------------------------------------------------------
    def _build_layout(self) -> None:
        image_column = QWidget()  # the loader's warnings in a bar right above the image
        image_layout = QVBoxLayout(image_column)
        image_layout.setContentsMargins(0, 0, 0, 0)
        image_layout.setSpacing(2)
        image_layout.addWidget(self.load_banner)
        image_layout.addWidget(self.viewer, 1)
        stand_in = cast(PriorSliceWidget, QWidget())  # the comparison pane: finish_building()
        self.layout_view = ViewerLayout(self.viewer, stand_in, image_column)  # 1x1, 1x2, 2x2
        self.setCentralWidget(self.layout_view)
        self.docks: dict[str, QDockWidget] = {}
        """The four docks by title; their contents come in :meth:`finish_building`."""
        for title, area in (
            ("Patients", Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Series", Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Lesions", Qt.DockWidgetArea.RightDockWidgetArea),
            ("Response", Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}Dock")
            dock.setWidget(QWidget())  # replaced by the contents
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
            self.addDockWidget(area, dock)
            self.docks[title] = dock
        docks = self.docks
        self.resizeDocks([docks["Patients"]], [250], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["Lesions"]], [680], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["Response"]], [230], Qt.Orientation.Vertical)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.reader_label = QLabel(self._reader_text())
        self.statusBar().addPermanentWidget(self.reader_label)

    def _reader_text(self) -> str:
        reader = self.session.reader  # None while app/main.py still opens the database
        return "" if reader is None else f"{reader.full_name} ({reader.role.value})"

    def attach_session(
        self, *, readers_controller: Any, cohort_controller: Any, export_controller: Any
    ) -> None:
        """The session now has its reader and database: enable what needs them.

        ``caliper`` shows this window before the database is open, on a session that
        hands over to the real one once the reader has logged in (``app.pending_session``).
        """
        self.readers_controller = readers_controller
        self.cohort_controller = self.trial.cohort_controller = cohort_controller
        self.trial.cohort_action.setEnabled(cohort_controller is not None)
        self.trial.cohort_action.setToolTip("")
        self.exports.controller = export_controller
        self.exports.update_actions()
        allowed = readers_controller is not None and readers_controller.can_manage
        self.readers_action.setEnabled(allowed)
        self.readers_action.setToolTip("" if allowed else readers_controller.why_not)
        self.reader_label.setText(self._reader_text())
        self.finish_building()  # normally done already, right after the first paint
        self.browser.refresh()
        self._on_commands_changed()
        self._on_timepoint_selected()

    def _action(self, text: str, slot: Any, shortcut: Any = None, name: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, name)

    def _build_actions(self) -> None:
        self.open_action = self._action(
            "Open folder…", self._on_open_folder, QKeySequence.StandardKey.Open, "open"
        )
        self.open_file_action = self._action(
            "Open zip or DICOMDIR…", self._on_open_file, None, "openFile"
        )
        self.find_on_pacs_action = self.pacs.find_on_pacs_action
        self.new_patient_action = self.timepoints.new_patient_action
        self.new_timepoint_action = self.timepoints.new_timepoint_action
        self.undo_action = self._action("Undo", self._on_undo, [QKeySequence("Ctrl+Z")], "undo")
        self.redo_action = self._action(
            "Redo", self._on_redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], "redo"
        )
        self.delete_action = self._action("Delete measurement", self._on_delete, None, "delete")
        self.sign_action = self.timepoints.sign_action
        self.amend_action = self.timepoints.amend_action
        self.cohort_action = self.trial.cohort_action
        quit_action = self._action(
            "Quit", self.close, "Ctrl+Q", "quit"
        )  # no standard key offscreen or on Windows
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.setToolTipsVisible(True)  # the disabled "Find on PACS…" says why
        file_menu.aboutToShow.connect(self.pacs.update_action)  # a node may have been added since
        for action in (
            self.open_action,
            self.open_file_action,
            self.seg_import.action,
            self.find_on_pacs_action,
            self.new_patient_action,
            None,
            quit_action,
        ):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        self.pacs.update_action()
        edit_menu = menus.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.delete_action):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
        edit_menu.addSeparator()
        self.navigation.add_to_menu(edit_menu)
        tp_menu = menus.addMenu("&Timepoint")
        for action in (self.new_timepoint_action, None, self.sign_action, self.amend_action):
            tp_menu.addSeparator() if action is None else tp_menu.addAction(action)
        self.records.add_menu(menus)
        self.trial.add_menu(menus)
        self.exports.add_menu(menus)
        tools_menu = menus.addMenu("T&ools")
        self.volumetry.add_menu_action(tools_menu)
        self._build_admin_menu(menus)
        self.help.add_menu(menus)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_action)
        toolbar.addSeparator()
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name in ("pointer", "bidirectional", "smart", "brush", "line", "pan", "zoom", "window"):
            action = QAction(_TOOL_TITLES[name], self, checkable=True)
            action.setObjectName(f"tool_{name}")
            action.setShortcut(QKeySequence(_TOOL_KEYS[name]))
            action.setToolTip(f"{_TOOL_TITLES[name]} ({_TOOL_KEYS[name]})")
            action.triggered.connect(lambda _=False, n=name: self.layout_view.set_tool(n))
            group.addAction(action)
            toolbar.addAction(action)
            if name in ("smart", "brush"):  # also in Tools, by the volumetry
                tools_menu.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions["brush"].setIconText("Brush")  # short: the toolbar fits 1600 px
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESET_NAMES))
        self.preset_box.textActivated.connect(self.viewer.apply_preset)
        toolbar.addWidget(self.preset_box)
        toolbar.addSeparator()
        for action in (
            self.undo_action,
            self.redo_action,
            self.delete_action,
            None,
            self.new_timepoint_action,
            self.sign_action,
        ):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.set_tool("bidirectional")

    def _connect(self) -> None:
        s = self.session
        s.patient_opened.connect(self._on_patient_opened)
        s.timepoint_selected.connect(self._on_timepoint_selected)
        s.timepoint_locked.connect(self._on_timepoint_selected)
        for signal in (
            s.measurement_added,
            s.measurement_changed,
            s.measurement_removed,
            s.lesion_added,
            s.lesion_changed,
            s.lesion_removed,
        ):
            signal.connect(self._on_measurements_changed)
        s.commands.changed.connect(self._on_commands_changed)
        self.tool_actions["brush"].toggled.connect(lambda on: on and self.contour_editor())
        self.viewer.measurement_drawn.connect(self._on_measurement_drawn)
        self.viewer.measurement_edited.connect(self._on_measurement_edited)
        self.viewer.delete_requested.connect(self._on_delete_requested)
        self.lesion_table.lesion_selected.connect(self._on_lesion_selected)
        self.calipers.connect()
        self.navigation.connect()
        self.smart_caliper.connect()
        self.volumetry.connect_signals()
        self._on_commands_changed()

    def _build_admin_menu(self, menus: Any) -> None:
        self.readers_action = self._action("Readers…", self._on_readers, None, "readers")
        allowed = self.readers_controller is not None and self.readers_controller.can_manage
        self.readers_action.setEnabled(allowed)
        if not allowed:
            self.readers_action.setToolTip(
                self.readers_controller.why_not
                if self.readers_controller is not None
                else "Readers are managed in the workstation started with 'caliper'."
            )
        admin_menu = menus.addMenu("&Admin")
        admin_menu.setToolTipsVisible(True)  # the disabled entry says why and what to do
        admin_menu.addAction(self.readers_action)

    def _on_readers(self) -> Any:
        from viewer.dialogs.readers import ReadersDialog

        self.readers_dialog = ReadersDialog(self.readers_controller, self)
        self.readers_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.readers_dialog.open()
        return self.readers_dialog

    # -- public helpers (menus, tests, app/main.py) ------------------------------------
    @property
    def amendment_reason(self) -> str | None:
        """The reason of the amendment in progress (its edits carry it), or None."""
        return self.timepoints.amendment_reason

    def add_patient(self, subject_id: str, **details: Any) -> None:
        """Store a new patient (optional trial, site, criteria, confirmation_required); open it."""
        self.timepoints.add_patient(subject_id, **details)

    def start_amendment(self, reason: str) -> None:
        """Allow edits of the signed current timepoint, each audited with *reason*."""
        self.timepoints.start_amendment(reason)

    def restore_settings(self) -> str | None:
        """Apply the remembered geometry, tool and preset; return the last patient's subject id."""
        last_patient = self.window_settings.restore()
        path = self.settings_path
        self._dock_sizes_restored = path is not None and QSettings(
            path, QSettings.Format.IniFormat
        ).contains("window/state")  # as WindowSettings.save() keeps them
        return last_patient

    def save_settings(self) -> None:
        """Remember geometry, tool, preset and the open patient."""
        self.window_settings.save()

    def _on_find_on_pacs(self) -> Any:
        return self.pacs.open_dialog()

    def _on_cohort(self) -> Any:
        return self.trial.open_cohort()

    def set_tool(self, name: str) -> None:
        """Make *name* the active image tool (and check its tool button)."""
        self.tool_actions[name].setChecked(True)
        self.layout_view.set_tool(name)

    def show_volume(self, volume: Any) -> None:
        """Display *volume* in the image view.

        The same images (series UID and instance set) keep the slice; other
        files of the same series (e.g. the whole series after an excerpt)
        replace the view and stay on the image shown, found by SOP Instance UID.
        """
        shown = self.viewer.volume
        same = shown is volume or (
            shown is not None and instance_set_key(shown) == instance_set_key(volume)
        )
        index = self.viewer.slice_index
        if not same:
            uids = list(getattr(shown, "sop_instance_uids", None) or [])
            image = uids[index] if shown is not None and 0 <= index < len(uids) else None
            self.viewer.set_volume(volume)
            self.load_banner.show_for(volume)
            new_uids = list(volume.sop_instance_uids)
            index = self._first_measured_slice(
                volume, new_uids.index(image) if image in new_uids else None
            )
        self.viewer.set_slice(index)
        self._refresh_overlays()
        self.series_panel.show_study(self._folder_of(volume), volume)

    def _folder_of(self, volume: Any) -> str | None:
        return self._folder_of_series(getattr(volume, "series_instance_uid", ""))

    def _folder_of_series(self, uid: str) -> str | None:
        """The folder series *uid* was opened from (this session first, then the library)."""
        if uid in self._folders:
            return self._folders[uid]
        known = getattr(self.library, "folders", None)
        places = list(known(uid)) if callable(known) else []
        return places[0] if places else None

    def _images_folders(self) -> list[str]:
        """Folders the open patient's series were opened from, the shown one first (exports)."""
        uids = [getattr(self.viewer.volume, "series_instance_uid", "")]
        if self.session.patient is not None:
            uids += [tp.series_instance_uid for tp in self.session.timepoints()]
        folders = [self._folder_of_series(uid) for uid in dict.fromkeys(uids) if uid]
        return [f for f in dict.fromkeys(folders) if f]

    def _first_measured_slice(self, volume: Any, default: int | None) -> int:
        """The image shown before (*default*), else the current timepoint's first measured image."""
        if default is not None or self.session.current_timepoint is None:
            return self.viewer.slice_index if default is None else default
        for m in self.session.measurements():
            index = slice_of(volume, m.geometry)
            if index is not None:
                return index
        return self.viewer.slice_index

    def open_folder(self, path: str, series_uid: str | None = None) -> SeriesLoadTask:
        """Load the series under *path* in the background, then attach it to the current timepoint.

        When *path* holds several image series (and *series_uid* does not name
        one) the reader chooses in a :class:`SeriesChooserDialog` first.
        """
        task = SeriesLoadTask(self.library, path, series_uid)
        task.signals.choose.connect(lambda found, p=path: self._on_series_choice(p, found))
        task.signals.progress.connect(self._on_load_progress)
        task.signals.finished.connect(
            lambda v, p=path: self._folders.update({v.series_instance_uid: p})
        )
        task.signals.finished.connect(self._on_series_loaded)
        task.signals.failed.connect(lambda exc, p=path: self._on_load_failed(exc, p))
        self.last_task = task
        self._loading_for = getattr(self.session.patient, "id", None)
        self._loads = [t for t in self._loads if not t.is_done] + [task]
        self.progress.setRange(0, 0)
        self.progress.show()
        self.statusBar().showMessage(f"Loading {path}…")
        self._pool.start(task)
        return task

    def cancel_loads(self, wait_seconds: float = 1.0) -> bool:
        """Cancel every series still loading; wait up to *wait_seconds*; True if all stopped."""
        for task in self._loads:
            task.cancel()
        stopped = self._pool.waitForDone(int(wait_seconds * 1000))
        self._loads = [t for t in self._loads if not t.is_done]
        return stopped

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802  (Qt's name)
        """Cancel loads in progress (quitting never waits for a series), save settings, close."""
        if not self.cancel_loads():
            log.warning("a series load did not stop within 1 s of closing the window")
        self.window_settings.save()
        super().closeEvent(event)

    # -- session → widgets ---------------------------------------------------------------
    def _on_patient_opened(self, *_: object) -> None:
        """Another patient: nothing of the previous one stays on screen."""
        self.viewer.clear()
        self.prior.clear()
        self.series_panel.clear()
        self._on_timepoint_selected()

    def _may_show(self, volume: Any) -> bool:
        """False when *volume* is of another DICOM patient and the reader did not confirm it.

        The warning names both Patient IDs; "attach anyway" is offered when the
        current timepoint has no series yet (the attachment is then audited),
        otherwise the series is not opened.
        """
        self._other_patient_confirmed = False
        if getattr(self.session.patient, "id", None) != self._loading_for:
            self.statusBar().showMessage(
                "Not opened: another patient was opened while the series loaded.", 15000
            )
            return False
        tp = self.session.current_timepoint
        warning = self.session.other_patient_warning(
            getattr(volume, "patient_id", None), tp.id if tp is not None else None
        )
        if warning is None:
            return True
        can_attach = tp is not None and not tp.series_instance_uid
        if not confirm_other_patient(self, warning, tp.label if can_attach else None):
            self.statusBar().showMessage(
                "Not opened: the series is of DICOM patient ID "
                f"{getattr(volume, 'patient_id', '')}.",
                15000,
            )
            return False
        self._other_patient_confirmed = True
        return True

    def _on_timepoint_selected(self, *_: object) -> None:
        tp = self.session.current_timepoint
        patient = self.session.patient
        self.timepoints.set_amendment_reason(None)
        title = "Caliper"
        if patient is not None:
            title += f" — {patient.subject_id}" + (f" — {tp.label}" if tp else "")
        reader = self.session.reader  # None until the reader has logged in
        self.setWindowTitle(title if reader is None else f"{title} — {reader.full_name}")
        if tp is not None and tp.series_instance_uid:
            volume = self.library.volume(
                tp.series_instance_uid, self._measured_images(tp.series_instance_uid)
            )
            if volume is not None:
                self.show_volume(volume)
            else:
                self.statusBar().showMessage(
                    f"The series of {tp.label} is not on this computer: "
                    "File → Open folder… to find it."
                )
        self.timepoints.update_lock_banner()
        self._on_measurements_changed()
        # another timepoint (not the same one signed): the view goes to the selected lesion
        switched = getattr(tp, "id", None) != self._timepoint_shown
        self._timepoint_shown = getattr(tp, "id", None)
        self._on_lesion_selected(self.lesion_table.selected_lesion_id(), switched=switched)

    def _on_measurements_changed(self, *_: object) -> None:
        self.calipers.update_assign_bar()
        self._refresh_overlays()

    def _refresh_overlays(self) -> None:
        volume = self.viewer.volume
        if volume is None or self.session.current_timepoint is None:
            self.viewer.set_overlays([])
            return
        lesions = {lesion.id: lesion for lesion in self.session.lesions()}
        selected = self.lesion_table.selected_lesion_id()
        overlays = [
            MeasurementOverlay(
                m.id,
                self.calipers.overlay_label(m, lesions.get(m.lesion_id)),
                m.geometry,
                selected=m.lesion_id == selected,
            )
            for m in self.session.measurements()
            if m.geometry is not None
            and m.id is not None
            and m.geometry.series_instance_uid == volume.series_instance_uid
        ]
        self.viewer.set_overlays(overlays)
        missing = [
            o.caption
            for o in overlays
            if o.measurement_id in self.viewer.unavailable_measurement_ids
        ]
        if missing:
            self.statusBar().showMessage(
                f"{', '.join(missing)}: image not available — it is not among the loaded files of "
                "this series (File → Open folder… on the folder holding it).",
                15000,
            )

    def _measured_images(self, series_instance_uid: str) -> list[str]:
        """SOP Instance UIDs the current timepoint's measurements on that series were drawn on."""
        if self.session.current_timepoint is None:
            return []
        return [
            m.geometry.sop_instance_uid
            for m in self.session.measurements()
            if m.geometry is not None and m.geometry.series_instance_uid == series_instance_uid
        ]

    def _on_commands_changed(self) -> None:
        can_undo, can_redo = self.session.commands.can_undo_redo()
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        # the menu says what would be undone; the toolbar button keeps its short text (fixed
        # width: "Sign timepoint" never moves) and tells the rest in its tool tip
        for action, label, short, keys in (
            (self.undo_action, self.session.commands.undo_label, "Undo", "Ctrl+Z"),
            (self.redo_action, self.session.commands.redo_label, "Redo", "Ctrl+Shift+Z"),
        ):
            action.setText(label)
            action.setIconText(short)
            action.setToolTip(f"{label} ({keys})")

    def _on_lesion_selected(self, lesion_id: int | None, *, switched: bool = False) -> None:
        """*switched*: another timepoint is shown; the view goes to the lesion there too."""
        self.assign_bar.select_lesion(lesion_id)
        self._refresh_overlays()
        shown = self.comparison.update(lesion_id)  # the comparison pane (viewer/main_window)
        if lesion_id is not None and (shown is not None or switched):
            # its slice here, else the one at the compared (or latest earlier) caliper's place
            self.navigation.show_slice_of(lesion_id, None if shown is None else shown[0])

    # -- widgets → session (one call each) ---------------------------------------------
    @shows_errors("Could not record the measurement")
    def _on_measurement_drawn(self, geometry: Any) -> None:
        self.calipers.record_caliper(geometry)  # may ask "are you sure?" first

    @shows_errors("Could not move the measurement")
    def _on_measurement_edited(self, measurement_id: int, geometry: Any) -> None:
        self.calipers.move_caliper(measurement_id, geometry)

    @shows_errors("Could not delete the measurement")
    def _on_delete_requested(self, measurement_id: int) -> None:
        self.session.delete_measurement(measurement_id, reason=self.amendment_reason)

    @shows_errors("Could not delete the measurement")
    def _on_delete(self) -> None:
        lesion_id = self.lesion_table.selected_lesion_id()
        measurement = self.session.measurement_for(lesion_id) if lesion_id is not None else None
        if measurement is None:
            raise LookupError("Select a lesion measured at this timepoint first.")
        self.session.delete_measurement(measurement.id, reason=self.amendment_reason)

    @shows_errors("Could not undo")
    def _on_undo(self) -> None:
        if self._contour_editor is not None and self._contour_editor.undo_local():
            return  # a liver / resection brush stroke (not stored yet)
        self.session.undo(reason=self.amendment_reason)

    def contour_editor(self) -> Any:
        """The contour brush (``viewer.main_window.contour_edit``), built the first time."""
        if self._contour_editor is None:
            from viewer.main_window.contour_edit import ContourEditor

            self._contour_editor = ContourEditor(self)
        return self._contour_editor

    @shows_errors("Could not redo")
    def _on_redo(self) -> None:
        if self._contour_editor is not None and self._contour_editor.redo_local():
            return  # a liver / resection brush stroke undone above
        self.session.redo(reason=self.amendment_reason)

    def _on_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a DICOM folder")
        if path:
            self.open_folder(path)

    def _on_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a zip archive, DICOMDIR or DICOM file",
            "",
            "DICOM (*.zip DICOMDIR *.dcm);;All files (*)",
        )
        if path:
            self.open_folder(path)

    def _on_series_choice(self, path: str, found: list[Any]) -> None:
        """Several image series under *path*: ask which one (window-modal), then load it."""
        self.progress.hide()
        self.statusBar().showMessage(f"{path} holds {len(found)} image series: choose one.", 8000)
        from viewer.dialogs.series_chooser import SeriesChooserDialog

        dialog = SeriesChooserDialog(path, found, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.open_folder(path, dialog.chosen_uid))
        dialog.open()

    def _on_load_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_load_failed(self, exc: object, path: str = "") -> None:
        self.progress.hide()
        self.statusBar().showMessage("Loading failed.", 5000)
        if isinstance(exc, BaseException):
            self.last_load_error = show_load_error(self, path, exc)

    @shows_errors("Could not attach the series to the timepoint")
    def _on_series_loaded(self, volume: Any) -> None:
        self.progress.hide()
        if not self._may_show(volume):
            return
        self.show_volume(volume)
        described = " ".join(
            str(getattr(volume, n, "") or "") for n in ("modality", "series_description")
        )
        self.statusBar().showMessage(
            f"Loaded {described.strip()} ({volume.voxels.shape[0]} slices)", 8000
        )
        if self.viewer.unavailable_measurement_ids:
            self._refresh_overlays()  # the status bar then names the measurements without image
        tp = self.session.current_timepoint
        if tp is not None and not tp.series_instance_uid:
            self.session.attach_series(
                tp.id,
                **series_of(volume),
                dicom_scan_date=getattr(volume, "scan_date", None),
                confirm_other_patient=self._other_patient_confirmed,
                reason=self.amendment_reason,
            )
        elif tp is not None and tp.series_instance_uid != volume.series_instance_uid:
            self.statusBar().showMessage(
                f"Shown, not attached: {tp.label} is read on another series.", 8000
            )
