"""The View menu and its toolbar controls: layouts, planes, cine, window presets.

:class:`ViewActions` is a collaborator of the main window.  It builds

* View → Layout: 1×1 (Ctrl+1), 1×2 current | comparison (Ctrl+2), 2×2 axial,
  coronal, sagittal and comparison (Ctrl+4), and the toolbar's layout box;
* View → Plane of the main pane: axial (Alt+1), coronal (Alt+2), sagittal (Alt+3);
* View → Cine (C) with a frame-rate box in the status bar, slower ([) and faster (]);
* View → Window preset: keys 1..7, the series' own DICOM window being 1;

puts the layout box in the toolbar and the cine button and frame rate in the
status bar, keeps the toolbar's preset box saying which preset the window is in
("custom" after a drag) and puts a refused caliper's reason in the status bar.
The protocol setting ``viewer/allow_reformat_measurements`` (INI file of the
window's settings; default false) lets calipers be drawn on reformats.  The
layout the reader chooses is remembered there (``view/layout``): the next start
opens with it instead of 1×2 at follow-up / 1×1 at baseline.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QMainWindow, QMenu, QSpinBox, QToolBar, QToolButton

from viewer.image.layout import LAYOUT_TITLES, LAYOUTS, Cine, ViewerLayout
from viewer.image.presets import CUSTOM, DICOM, PRESET_NAMES

#: Shortcut of each layout.
LAYOUT_KEYS = {"1x1": "Ctrl+1", "1x2": "Ctrl+2", "2x2": "Ctrl+4"}
#: Shortcut of each plane of the main pane.
PLANE_KEYS = {"axial": "Alt+1", "coronal": "Alt+2", "sagittal": "Alt+3"}  # F2 edits a table cell
CINE_KEY, SLOWER_KEY, FASTER_KEY = "C", "[", "]"
#: The protocol setting allowing calipers on coronal/sagittal reformats.
REFORMAT_SETTING = "viewer/allow_reformat_measurements"
#: The layout the reader last chose (menu, key or toolbar); a start opens with it.
LAYOUT_SETTING = "view/layout"


def preset_title(name: str) -> str:
    """Menu text of a preset (``"dicom"`` -> ``"DICOM window (series)"``)."""
    return "DICOM window (series)" if name == DICOM else name.capitalize()


class ViewActions:
    """Builds the View menu and toolbar controls and keeps them in step with the panes.

    Parameters
    ----------
    window : QMainWindow
        Parent of the actions; its status bar shows refusals.
    layout : ViewerLayout
        The panes.
    preset_box : QComboBox
        The toolbar's window preset box (gets a "custom" entry).
    settings_path : str, optional
        INI file holding the protocol setting :data:`REFORMAT_SETTING` and the reader's
        layout (:data:`LAYOUT_SETTING`).
    """

    def __init__(
        self,
        window: QMainWindow,
        layout: ViewerLayout,
        preset_box: QComboBox,
        settings_path: str | None = None,
    ) -> None:
        self.window, self.layout, self.preset_box = window, layout, preset_box
        self.reader_chose_layout = False
        """True once the reader picked a layout: follow-ups then no longer switch to 1x2."""
        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(window)
        for name in LAYOUTS:
            action = QAction(LAYOUT_TITLES[name], window, checkable=True)
            action.setObjectName(f"layout_{name}")
            action.setShortcut(QKeySequence(LAYOUT_KEYS[name]))
            action.triggered.connect(lambda _=False, n=name: self.choose_layout(n))
            group.addAction(action)
            self.layout_actions[name] = action
        self.plane_actions: dict[str, QAction] = {}
        for plane, key in PLANE_KEYS.items():
            action = QAction(plane.capitalize(), window)
            action.setObjectName(f"plane_{plane}")
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, p=plane: layout.set_plane(p))
            self.plane_actions[plane] = action
        self.cine_action = QAction("Cine", window, checkable=True)
        self.cine_action.setObjectName("cine")
        self.cine_action.setShortcut(QKeySequence(CINE_KEY))
        self.cine_action.setToolTip(f"Play the slices (cine) ({CINE_KEY})")
        self.cine_action.toggled.connect(layout.cine.set_running)
        layout.cine.running_changed.connect(self.cine_action.setChecked)
        self.fps_box = QSpinBox()
        self.fps_box.setObjectName("cineFps")
        self.fps_box.setRange(Cine.MIN_FPS, Cine.MAX_FPS)
        self.fps_box.setValue(layout.cine.fps)
        self.fps_box.setSuffix(" fps")
        self.fps_box.setToolTip(f"Cine frame rate (slower {SLOWER_KEY}, faster {FASTER_KEY})")
        self.fps_box.valueChanged.connect(layout.cine.set_fps)
        self.slower_action = QAction("Cine slower", window)
        self.slower_action.setShortcut(QKeySequence(SLOWER_KEY))
        self.slower_action.triggered.connect(lambda: self.fps_box.stepDown())
        self.faster_action = QAction("Cine faster", window)
        self.faster_action.setShortcut(QKeySequence(FASTER_KEY))
        self.faster_action.triggered.connect(lambda: self.fps_box.stepUp())
        self.layout_box = QComboBox()
        self.layout_box.setObjectName("layoutBox")
        self.layout_box.setToolTip("Layout: 1×1 (Ctrl+1), 1×2 (Ctrl+2), 2×2 (Ctrl+4)")
        for name in LAYOUTS:
            self.layout_box.addItem(name.replace("x", "×"), name)
        self.layout_box.activated.connect(
            lambda i: self.choose_layout(str(self.layout_box.itemData(i)))
        )
        self.preset_actions: dict[str, QAction] = {}
        for number, name in enumerate(PRESET_NAMES, start=1):
            action = QAction(f"{number}  {preset_title(name)}", window)
            action.setObjectName(f"preset_{name.replace(' ', '_')}")
            action.setShortcut(QKeySequence(str(number)))
            action.triggered.connect(lambda _=False, n=name: layout.main.apply_preset(n))
            self.preset_actions[name] = action
        if preset_box.findText(CUSTOM) < 0:
            preset_box.addItem(CUSTOM)
        layout.measurement_refused.connect(self._on_refused)  # any plane, reformats built later
        layout.main.preset_changed.connect(self._on_preset_changed)
        layout.layout_changed.connect(self._on_layout_changed)
        self._on_layout_changed(layout.layout_name)
        self.set_reformat_measurements(_setting(settings_path, REFORMAT_SETTING))
        self._settings_path = settings_path
        remembered = _text_setting(settings_path, LAYOUT_SETTING)
        if remembered in LAYOUTS:  # the layout the reader chose last time, from the start
            self.reader_chose_layout = True
            layout.set_layout(remembered)

    # -- building ----------------------------------------------------------------------
    def add_menu(self, menus: Any) -> QMenu:
        """Add the View menu to the menu bar *menus*, after Edit when there is one."""
        menu = QMenu("&View", self.window)
        menu.setObjectName("viewMenu")
        layouts = menu.addMenu("Layout")
        for action in self.layout_actions.values():
            layouts.addAction(action)
        planes = menu.addMenu("Plane")
        for action in self.plane_actions.values():
            planes.addAction(action)
        presets = menu.addMenu("Window preset")
        for action in self.preset_actions.values():
            presets.addAction(action)
        menu.addSeparator()
        for action in (self.cine_action, self.slower_action, self.faster_action):
            menu.addAction(action)
        actions = menus.actions()
        titles = [a.text().replace("&", "") for a in actions]
        after_edit = titles.index("Edit") + 1 if "Edit" in titles else len(actions)
        if after_edit < len(actions):
            menus.insertMenu(actions[after_edit], menu)
        else:
            menus.addMenu(menu)
        return menu

    def add_to_toolbar(self, toolbar: QToolBar | None) -> None:
        """The layout box in *toolbar*; the cine button and its frame rate in the status bar.

        The main toolbar has little room left at 1600 px: what does not fit goes
        into its overflow menu, and "Sign timepoint" must stay in sight.
        """
        if toolbar is not None:  # beside the preset box: the edit buttons keep their places
            actions = toolbar.actions()
            after = [
                i for i, a in enumerate(actions) if toolbar.widgetForAction(a) is self.preset_box
            ]
            if after and after[0] + 1 < len(actions):
                toolbar.insertWidget(actions[after[0] + 1], self.layout_box)
            else:
                toolbar.addWidget(self.layout_box)
        cine = QToolButton()
        cine.setObjectName("cineButton")
        cine.setDefaultAction(self.cine_action)
        status = self.window.statusBar()
        status.addPermanentWidget(cine)
        status.addPermanentWidget(self.fps_box)

    # -- behaviour ---------------------------------------------------------------------
    def choose_layout(self, name: str) -> None:
        """The reader chose layout *name* (menu, key or toolbar)."""
        self.reader_chose_layout = True
        self.layout.set_layout(name)
        if self._settings_path:  # remembered for the next start
            QSettings(self._settings_path, QSettings.Format.IniFormat).setValue(
                LAYOUT_SETTING, name
            )

    def comparison_available(self, available: bool) -> None:
        """Until the reader chooses a layout: 1×2 at follow-up, 1×1 at baseline.

        In 2×2 at baseline the axial pane takes the comparison pane's room.
        """
        self.layout.set_comparison_available(available)
        if not self.reader_chose_layout and self.layout.layout_name != "2x2":
            self.layout.set_layout("1x2" if available else "1x1")

    def set_reformat_measurements(self, allowed: bool) -> None:
        """The protocol allows (or not) calipers drawn on coronal/sagittal reformats."""
        self.layout.set_reformat_calipers(allowed)

    def _on_layout_changed(self, name: str) -> None:
        self.layout_actions[name].setChecked(True)
        self.layout_box.setCurrentIndex(max(self.layout_box.findData(name), 0))

    def _on_preset_changed(self, name: str) -> None:
        if self.preset_box.findText(name) >= 0:
            self.preset_box.setCurrentText(name)

    def _on_refused(self, reason: str) -> None:
        self.window.statusBar().showMessage(reason, 15000)


def _text_setting(path: str | None, key: str) -> str:
    if not path:
        return ""
    return str(QSettings(path, QSettings.Format.IniFormat).value(key, "") or "")


def _setting(path: str | None, key: str) -> bool:
    if not path:
        return False
    value = QSettings(path, QSettings.Format.IniFormat).value(key, False)
    return str(value).strip().lower() in ("1", "true", "yes", "on")
