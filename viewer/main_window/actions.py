"""Timepoint actions of the main window: new patient / timepoint, sign, amend, lock banner.

:class:`TimepointActions` is a collaborator that
:class:`viewer.main_window.window.MainWindow` owns: it builds the Timepoint
entries (and "New patient…"), handles their slots and keeps the amendment
state, with the session, image view, lesion model and lock banner it is given.
Dialogs open non-blocking (``open()``) on the window and call one session
method when accepted.  :func:`make_action` builds every action of the window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLabel, QWidget

from viewer.dialogs.new_patient import NewPatientDialog
from viewer.dialogs.new_timepoint import NewTimepointDialog
from viewer.dialogs.other_patient import confirm_other_patient
from viewer.dialogs.sign import SignDialog
from viewer.errors import report_error, shows_errors
from viewer.image.volume import volume_text
from viewer.style import RESOURCES_DIR


def make_action(
    parent: QWidget, text: str, slot: Any, shortcut: Any = None, name: str = ""
) -> QAction:
    """A window action: *text*, object name *name* (default *text*), *shortcut*(s), *slot*."""
    action = QAction(text, parent)
    action.setObjectName(name or text)
    if shortcut is not None:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    action.triggered.connect(slot)
    return action


def series_of(volume: Any) -> dict[str, Any]:
    """The timepoint fields that name *volume*'s series (for ``add_timepoint``)."""
    return {
        "study_instance_uid": getattr(volume, "study_instance_uid", None) or None,
        "series_instance_uid": volume.series_instance_uid,
        "modality": getattr(volume, "modality", None) or None,
        "slice_thickness_mm": getattr(volume, "slice_thickness_mm", None),
        "dicom_patient_id": getattr(volume, "patient_id", None) or None,
    }


class TimepointActions:
    """New patient, new timepoint, sign and amend; the lock banner and the amendment reason.

    Parameters
    ----------
    window : QWidget
        The main window: parent of the actions and of the dialogs.
    session : app.session.ReadingSession
        The controller each slot makes one call to.
    viewer : SeriesViewerWidget
        The image view (the displayed series of a new timepoint).
    lesion_model : LesionTableModel
        Told the amendment reason, as its edits carry it too.
    lock_banner : QLabel
        Says when the timepoint is signed or being amended.
    """

    def __init__(
        self, window: QWidget, session: Any, viewer: Any, lesion_model: Any, lock_banner: QLabel
    ) -> None:
        self.window, self.session, self.viewer = window, session, viewer
        self.lesion_model, self.lock_banner = lesion_model, lock_banner
        self.amendment_reason: str | None = None
        self.new_patient_action = make_action(
            window, "New patient…", self._on_new_patient, None, "newPatient"
        )
        self.new_timepoint_action = make_action(
            window, "New timepoint…", self._on_new_timepoint, "Ctrl+T", "newTimepoint"
        )
        self.sign_action = make_action(
            window, "Sign timepoint…", self._on_sign, "Ctrl+Shift+S", "sign"
        )
        self.amend_action = make_action(
            window, "Amend signed timepoint…", self._on_amend, None, "amend"
        )

    def set_amendment_reason(self, reason: str | None) -> None:
        """Start (a reason) or end (None) an amendment; the lesion table's edits carry it too."""
        self.amendment_reason = self.lesion_model.amendment_reason = reason

    def update_lock_banner(self) -> None:
        """Show whether the current timepoint is signed or being amended; enable Sign/Amend."""
        tp = self.session.current_timepoint
        locked = tp is not None and tp.id is not None and self.session.is_locked(tp.id)
        self.lock_banner.setVisible(locked or self.amendment_reason is not None)
        if self.amendment_reason is not None and tp is not None:
            self.lock_banner.setText(
                f"Amending {tp.label}: “{self.amendment_reason}”. "
                "Your next edit voids the signature."
            )
        elif locked and tp is not None:
            lock = (RESOURCES_DIR / "icons" / "lock.svg").as_uri()
            self.lock_banner.setText(
                f"<img src='{lock}' width='14' height='14'> <b>{tp.label} is signed "
                "and locked.</b> Timepoint → Amend signed timepoint… to change it, "
                "with a reason."
            )
        self.sign_action.setEnabled(tp is not None and not locked and not tp.is_baseline)
        self.amend_action.setEnabled(locked)

    def _on_new_patient(self) -> NewPatientDialog:
        trials = [p.trial for p in self.session.patients()]
        dialog = NewPatientDialog(trials, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.add_patient(**dialog.values()))
        dialog.open()
        return dialog

    @shows_errors("Could not add the patient")
    def add_patient(self, subject_id: str, **details: Any) -> None:
        """Store a new patient (trial, site, criteria, confirmation_required) and open it."""
        self.session.open_patient(self.session.add_patient(subject_id, **details).subject_id)

    def _on_new_timepoint(self) -> NewTimepointDialog:
        count = len(self.session.timepoints()) if self.session.patient else 0
        volume = self.viewer.volume
        series = (
            volume_text(volume, "series_description") or volume_text(volume, "modality")
            if volume
            else ""
        )
        dialog = NewTimepointDialog(
            "baseline" if count == 0 else f"C{3 * count}",
            3 * count,
            series,
            self.window,
            dicom_date=getattr(volume, "scan_date", None) if volume is not None else None,
            refusal=self.session.timepoint_refusal if self.session.patient else None,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_new_timepoint_accepted(dialog))
        dialog.open()
        return dialog

    @shows_errors("Could not add the timepoint")
    def _on_new_timepoint_accepted(self, dialog: NewTimepointDialog) -> None:
        label, scan_date, cycle = dialog.values()
        volume = self.viewer.volume if dialog.use_displayed_series() else None
        series = series_of(volume) if volume is not None else {}
        warning = self.session.other_patient_warning(series.get("dicom_patient_id"))
        if warning is not None and not confirm_other_patient(self.window, warning, label):
            return
        self.session.add_timepoint(
            label,
            scan_date,
            cycle,
            **series,
            dicom_scan_date=getattr(volume, "scan_date", None) if volume is not None else None,
            confirm_scan_date=dialog.date_confirmed,
            confirm_other_patient=warning is not None,
        )

    def _on_sign(self) -> SignDialog:
        tp = self.session.current_timepoint
        result = {r.label: r for r in getattr(self.session.assessment, "timepoints", ())}.get(
            tp.label
        )
        reader = self.session.reader
        username = reader.username if reader.role.value == "investigator" else ""
        dialog = SignDialog(
            tp.label,
            str(result.overall) if result and result.overall else None,
            username,
            self.window,
            sign=lambda u, p, m: self.session.sign(tp.id, u, p, m),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # it signs itself; a refusal stays in the dialog
        return dialog

    def _on_amend(self) -> None:
        tp = self.session.current_timepoint
        reason, ok = QInputDialog.getText(
            self.window, f"Amend {tp.label}", "Reason for the amendment:"
        )
        if ok:
            self.start_amendment(reason)

    def start_amendment(self, reason: str) -> None:
        """Allow edits of the signed current timepoint, each audited with *reason*."""
        if not reason.strip():
            report_error(
                self.window, "Could not start the amendment", ValueError("A reason is required.")
            )
            return
        self.set_amendment_reason(reason.strip())
        self.update_lock_banner()
