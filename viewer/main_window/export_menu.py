"""The main window's Export menu: PDF report, DICOM SR, SDTM, timeline of the open patient.

:class:`ExportMenu` is a collaborator that :class:`viewer.main_window.window.MainWindow`
owns.  Each entry asks where to write (a file dialog), makes one call to the Qt-free
``app.exports.ExportController`` (duck-typed) and then says which files were written
(a message box naming them); a refusal is a readable message, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMenuBar, QMessageBox, QWidget

from viewer.errors import report_error
from viewer.main_window.actions import make_action

NO_EXPORTS_TIP = "Exports need the trial database (start Caliper with 'caliper')."
NO_PATIENT_TIP = "Open a patient first (the Patients list on the left)."


def _ask_save(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def _ask_folder(parent: QWidget, title: str, suggested: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, suggested)


class ExportMenu:
    """Export → PDF report…, DICOM SR…, SDTM…, Timeline….

    Parameters
    ----------
    window : QMainWindow
        Parent of the actions, dialogs and messages.
    session : app.session.ReadingSession
        Its open patient is exported.
    controller : app.exports.ExportController or None
        Writes the files; None disables the menu (the tool tip says why).
    images_folders : callable
        Returns the folders the patient's series were opened from (the SR's and the
        report's images), possibly empty.

    Attributes
    ----------
    ask_save, ask_folder : callable
        The file dialogs (``QFileDialog``); tests replace them.
    last_message : QMessageBox or None
        The last confirmation shown.
    """

    def __init__(
        self,
        window: Any,
        session: Any,
        controller: Any,
        images_folders: Callable[[], list[str]],
    ) -> None:
        self.window, self.session, self.controller = window, session, controller
        self._images_folders = images_folders
        self.ask_save: Callable[[QWidget, str, str, str], str] = _ask_save
        self.ask_folder: Callable[[QWidget, str, str], str] = _ask_folder
        self.last_message: QMessageBox | None = None
        self.report_action = make_action(
            window, "PDF report…", self.export_report, None, "exportReport"
        )
        self.sr_action = make_action(window, "DICOM SR…", self.export_sr, None, "exportSr")
        self.sdtm_action = make_action(
            window, "SDTM (all patients)…", self.export_sdtm, None, "exportSdtm"
        )
        self.timeline_action = make_action(
            window, "Timeline (JSON or CSV)…", self.export_timeline, None, "exportTimeline"
        )
        self.actions: list[QAction] = [
            self.report_action,
            self.sr_action,
            self.sdtm_action,
            self.timeline_action,
        ]
        self.menu: QMenu | None = None

    def add_menu(self, menus: QMenuBar) -> QMenu:
        """Add the Export menu to *menus*."""
        menu = menus.addMenu("E&xport")
        menu.setObjectName("exportMenu")
        menu.setToolTipsVisible(True)
        for action in self.actions:
            menu.addAction(action)
        menu.aboutToShow.connect(self.update_actions)
        self.menu = menu
        self.update_actions()
        return menu

    def update_actions(self) -> None:
        """Enable the entries when there is something to export; else say why."""
        patient = getattr(self.session, "patient", None)
        why = (
            NO_EXPORTS_TIP
            if self.controller is None
            else NO_PATIENT_TIP
            if patient is None
            else None
        )
        for action in self.actions:
            allowed = why is None or (action is self.sdtm_action and self.controller is not None)
            action.setEnabled(allowed)
            action.setToolTip("" if allowed else why or "")

    # -- the entries ----------------------------------------------------------------------
    def _subject(self) -> str | None:
        patient = getattr(self.session, "patient", None)
        return patient.subject_id if patient is not None else None

    def _start_folder(self) -> str:
        return str(Path.home())

    def export_report(self) -> Any:
        """Ask for the PDF file; write the open patient's report."""
        subject = self._subject()
        if subject is None or self.controller is None:
            return None
        path = self.ask_save(
            self.window,
            "Export the PDF report",
            str(Path(self._start_folder()) / f"{subject}_report.pdf"),
            "PDF (*.pdf)",
        )
        if not path:
            return None
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        return self._run(
            "PDF report", lambda: self.controller.pdf_report(subject, path, self._images_folders())
        )

    def export_sr(self) -> Any:
        """Ask for the output folder (and the images if not known); write one SR per timepoint."""
        subject = self._subject()
        if subject is None or self.controller is None:
            return None
        out = self.ask_folder(
            self.window, "Export DICOM SR: choose the output folder", self._start_folder()
        )
        if not out:
            return None
        images = self._images_folders() or [
            self.ask_folder(
                self.window,
                "Where are the measured images? (the SR references them)",
                self._start_folder(),
            )
        ]
        if not any(images):
            return None
        return self._run("DICOM SR", lambda: self.controller.dicom_sr(subject, out, images))

    def export_sdtm(self) -> Any:
        """Ask for the output folder; write SDTM TU, TR and RS of every patient."""
        if self.controller is None:
            return None
        out = self.ask_folder(
            self.window, "Export SDTM: choose the output folder", self._start_folder()
        )
        if not out:
            return None
        return self._run("SDTM", lambda: self.controller.sdtm(out))

    def export_timeline(self) -> Any:
        """Ask for the file (.json or .csv); write the open patient's response timeline."""
        subject = self._subject()
        if subject is None or self.controller is None:
            return None
        path = self.ask_save(
            self.window,
            "Export the response timeline",
            str(Path(self._start_folder()) / f"{subject}_timeline.json"),
            "JSON (*.json);;CSV (*.csv)",
        )
        if not path:
            return None
        if not path.lower().endswith((".json", ".csv")):
            path += ".json"
        return self._run("timeline", lambda: self.controller.timeline(subject, path))

    def _run(self, what: str, export: Callable[[], Any]) -> Any:
        """Run *export*; confirm the files written, or show why it failed."""
        self.window.setCursor(Qt.CursorShape.WaitCursor)
        try:
            result = export()
        except Exception as exc:  # the reader sees a message, not a traceback
            report_error(self.window, f"Could not export the {what}", exc)
            return None
        finally:
            self.window.unsetCursor()
        files = [Path(p) for p in result.files]
        folder = files[0].parent if files else None
        names = "\n".join(f"  {p.name}" for p in files)
        text = f"Wrote {len(files)} file{'' if len(files) == 1 else 's'} to {folder}:\n{names}"
        notes = list(getattr(result, "notes", []) or [])
        box = QMessageBox(
            QMessageBox.Icon.Information, f"Exported the {what}", text, parent=self.window
        )
        box.setObjectName("exportConfirmation")
        if notes:
            box.setInformativeText("\n".join(notes[:8]) + ("\n…" if len(notes) > 8 else ""))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box
        self.window.statusBar().showMessage(
            f"Exported the {what}: {', '.join(p.name for p in files)}", 10000
        )
        return result
