"""The main window's trial menu (cohort view) and the settings it remembers.

Two collaborators that :class:`viewer.main_window.window.MainWindow` owns:
:class:`TrialActions` (the menu) and :class:`WindowSettings`.  The cohort view
is handed a Qt-free ``app.cohort.controller.CohortController`` (duck-typed; the
viewer never imports storage).  Window geometry, the tool, the window/level
preset and the last patient are kept in an INI file whose path ``app/main.py``
passes in (the user's config folder); without a path nothing is remembered,
which is what tests that build windows want.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QMainWindow, QMenuBar, QWidget

from viewer.errors import shows_errors
from viewer.main_window.actions import make_action

NO_COHORT_TIP = "The cohort view needs the trial database (start Caliper with 'caliper')."


class TrialActions:
    """Trial → Cohort… of the main window.

    Parameters
    ----------
    window : QWidget
        Parent of the action and of the cohort view.
    cohort_controller : app.cohort.controller.CohortController or None
        None disables the action (and the tool tip says why).
    """

    def __init__(self, window: QWidget, cohort_controller: Any) -> None:
        self.window, self.cohort_controller = window, cohort_controller
        self.cohort_dialog: Any = None
        self.cohort_action = make_action(
            window, "Cohort…", self.open_cohort, "Ctrl+Shift+C", "cohort"
        )
        self.cohort_action.setEnabled(cohort_controller is not None)
        if cohort_controller is None:
            self.cohort_action.setToolTip(NO_COHORT_TIP)

    def add_menu(self, menus: QMenuBar) -> None:
        """Add the Trial menu to *menus*."""
        trial_menu = menus.addMenu("T&rial")
        trial_menu.setToolTipsVisible(True)
        trial_menu.addAction(self.cohort_action)

    @shows_errors("Could not open the cohort view")
    def open_cohort(self) -> Any:
        """Open the cohort view on the same database; return it."""
        from viewer.cohort.window import CohortWidget

        self.cohort_dialog = CohortWidget.open_dialog(self.cohort_controller, self.window)
        return self.cohort_dialog


class WindowSettings:
    """Window geometry, the tool, the window/level preset and the last patient, in an INI file.

    Parameters
    ----------
    window : QMainWindow
        Whose geometry and dock state are kept.
    path : str or None
        The INI file; None remembers nothing.
    session : app.session.ReadingSession
        Its open patient is remembered.
    tool_actions : dict of str to QAction
        The checkable tool actions (the checked one is remembered).
    preset_box : QComboBox
        The window/level preset.
    set_tool : callable
        ``set_tool(name)`` makes a remembered tool active.
    """

    def __init__(
        self,
        window: QMainWindow,
        path: str | None,
        session: Any,
        tool_actions: dict[str, QAction],
        preset_box: QComboBox,
        set_tool: Callable[[str], None],
    ) -> None:
        self.window, self.path, self.session = window, path, session
        self.tool_actions, self.preset_box, self._set_tool = tool_actions, preset_box, set_tool

    def _settings(self) -> QSettings | None:
        if not self.path:
            return None
        return QSettings(self.path, QSettings.Format.IniFormat)

    def restore(self) -> str | None:
        """Apply the remembered geometry, tool and preset; return the last patient's subject id.

        With nothing remembered yet (the first start) the window opens maximised.
        """
        settings = self._settings()
        if settings is None:
            return None
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.window.restoreGeometry(geometry)  # as it was left (maximised or not)
        else:  # first start: the whole screen
            self.window.setWindowState(self.window.windowState() | Qt.WindowState.WindowMaximized)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.window.restoreState(state)
        tool = str(settings.value("view/tool", "") or "")
        if tool in self.tool_actions:
            self._set_tool(tool)
        preset = str(settings.value("view/preset", "") or "")
        if preset and self.preset_box.findText(preset) >= 0:
            self.preset_box.setCurrentText(preset)
        return str(settings.value("session/patient", "") or "") or None

    def save(self) -> None:
        """Remember geometry, tool, preset and the open patient (called when the window closes)."""
        settings = self._settings()
        if settings is None:
            return
        settings.setValue("window/geometry", self.window.saveGeometry())
        settings.setValue("window/state", self.window.saveState())
        checked = [name for name, action in self.tool_actions.items() if action.isChecked()]
        if checked:
            settings.setValue("view/tool", checked[0])
        settings.setValue("view/preset", self.preset_box.currentText())
        patient = getattr(self.session, "patient", None)
        if patient is not None:
            settings.setValue("session/patient", patient.subject_id)
        settings.sync()
