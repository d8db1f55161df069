"""The main window's Patient menu: the open patient's conversion, surgery and survival records.

A collaborator that :class:`viewer.main_window.window.MainWindow` owns.  Each
entry opens one record dialog (``viewer.dialogs.conversion``, ``.surgery``,
``.survival``) on the session's endpoint controller (``session.endpoints``);
the dialogs save and sign themselves.  The entries are enabled while a patient
is open.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMenuBar, QWidget

from viewer.dialogs.conversion import ConversionRecordDialog
from viewer.dialogs.surgery import SurgeryRecordDialog
from viewer.dialogs.survival import SurvivalDataDialog
from viewer.errors import shows_errors
from viewer.main_window.actions import make_action

NO_PATIENT_TIP = "Open a patient first."


class RecordActions:
    """Patient → Conversion record…, Surgery and pathology…, Survival data….

    Parameters
    ----------
    window : QWidget
        Parent of the actions and the dialogs.
    session : app.session.ReadingSession
        Its ``endpoints`` controller backs the dialogs; ``patient_opened`` enables the entries.
    """

    def __init__(self, window: QWidget, session: Any) -> None:
        self.window, self.session = window, session
        self.dialog: QDialog | None = None
        self.conversion_action = make_action(
            window, "Conversion record…", self.open_conversion, None, "conversionRecord"
        )
        self.surgery_action = make_action(
            window, "Surgery and pathology…", self.open_surgery, None, "surgeryRecord"
        )
        self.survival_action = make_action(
            window, "Survival data…", self.open_survival, None, "survivalData"
        )
        self.actions = (self.conversion_action, self.surgery_action, self.survival_action)
        opened = getattr(session, "patient_opened", None)
        if opened is not None:
            opened.connect(self._on_patient_opened)
        self._on_patient_opened()

    def add_menu(self, menus: QMenuBar) -> None:
        """Add the Patient menu to *menus*."""
        menu = menus.addMenu("&Patient")
        menu.setToolTipsVisible(True)
        for action in self.actions:
            menu.addAction(action)

    def _on_patient_opened(self, *_: object) -> None:
        has_patient = getattr(self.session, "patient", None) is not None
        has_endpoints = getattr(self.session, "endpoints", None) is not None
        for action in self.actions:
            action.setEnabled(has_patient and has_endpoints)
            action.setToolTip("" if has_patient else NO_PATIENT_TIP)

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog = dialog
        return dialog

    @shows_errors("Could not open the conversion record")
    def open_conversion(self) -> QDialog:
        """Open the conversion record of the open patient."""
        reader = self.session.reader
        username = reader.username if reader.role.value == "investigator" else ""
        return self._open(ConversionRecordDialog(self.session.endpoints, username, self.window))

    @shows_errors("Could not open the surgery and pathology record")
    def open_surgery(self) -> QDialog:
        """Open the surgery and pathology record of the open patient."""
        return self._open(SurgeryRecordDialog(self.session.endpoints, self.window))

    @shows_errors("Could not open the survival data")
    def open_survival(self) -> QDialog:
        """Open the survival data of the open patient."""
        return self._open(SurvivalDataDialog(self.session.endpoints, self.window))
