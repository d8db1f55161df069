"""The main window's trial menu (cohort view) and the settings it remembers.

A behaviour class (STYLE §8) mixed into :class:`viewer.main_window.window.MainWindow`.
The cohort view is handed a Qt-free ``app.cohort.controller.CohortController``
(duck-typed; the viewer never imports storage).  Window geometry, the tool,
the window/level preset and the last patient are kept in an INI file whose
path ``app/main.py`` passes in (the user's config folder); without a path
nothing is remembered, which is what tests that build windows want.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QMenuBar, QWidget

from viewer.errors import shows_errors

if TYPE_CHECKING:
    from PySide6.QtWidgets import QComboBox

NO_COHORT_TIP = "The cohort view needs the trial database (start Caliper with 'caliper')."


class TrialActions:
    """Trial → Cohort… and remembered settings for :class:`~viewer.main_window.window.MainWindow`."""

    cohort_controller: Any
    settings_path: str | None
    session: Any
    viewer: Any
    preset_box: QComboBox
    tool_actions: dict[str, QAction]

    if TYPE_CHECKING:
        def _action(self, text: str, slot: Any, shortcut: Any = None, name: str = "") -> QAction: ...
        def set_tool(self, name: str) -> None: ...
        def saveGeometry(self) -> QByteArray: ...  # noqa: N802  (QMainWindow's)
        def saveState(self) -> QByteArray: ...  # noqa: N802
        def restoreGeometry(self, geometry: QByteArray) -> bool: ...  # noqa: N802
        def restoreState(self, state: QByteArray) -> bool: ...  # noqa: N802

    # -- Trial → Cohort… ----------------------------------------------------------------
    def _build_trial_menu(self, menus: QMenuBar) -> None:
        self.cohort_action = self._action("Cohort…", self._on_cohort, "Ctrl+Shift+C", "cohort")
        self.cohort_action.setEnabled(self.cohort_controller is not None)
        if self.cohort_controller is None:
            self.cohort_action.setToolTip(NO_COHORT_TIP)
        trial_menu = menus.addMenu("T&rial")
        trial_menu.setToolTipsVisible(True)
        trial_menu.addAction(self.cohort_action)

    @shows_errors("Could not open the cohort view")
    def _on_cohort(self) -> Any:
        from viewer.cohort.window import CohortWidget

        self.cohort_dialog = CohortWidget.open_dialog(
            self.cohort_controller, self if isinstance(self, QWidget) else None
        )
        return self.cohort_dialog

    # -- remembered settings ------------------------------------------------------------
    def _settings(self) -> QSettings | None:
        if not self.settings_path:
            return None
        return QSettings(self.settings_path, QSettings.Format.IniFormat)

    def restore_settings(self) -> str | None:
        """Apply the remembered geometry, tool and preset; return the last patient's subject id."""
        settings = self._settings()
        if settings is None:
            return None
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        tool = str(settings.value("view/tool", "") or "")
        if tool in self.tool_actions:
            self.set_tool(tool)
        preset = str(settings.value("view/preset", "") or "")
        if preset and self.preset_box.findText(preset) >= 0:
            self.preset_box.setCurrentText(preset)
        return str(settings.value("session/patient", "") or "") or None

    def save_settings(self) -> None:
        """Remember geometry, tool, preset and the open patient (called when the window closes)."""
        settings = self._settings()
        if settings is None:
            return
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        checked = [name for name, action in self.tool_actions.items() if action.isChecked()]
        if checked:
            settings.setValue("view/tool", checked[0])
        settings.setValue("view/preset", self.preset_box.currentText())
        patient = getattr(self.session, "patient", None)
        if patient is not None:
            settings.setValue("session/patient", patient.subject_id)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802  (Qt's name)
        """Remember the settings, then close as usual."""
        self.save_settings()
        super().closeEvent(event)  # type: ignore[misc]
