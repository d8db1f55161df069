"""The patient / timepoint browser on the left of the main window.

A tree of the trial's patients; the open patient lists its timepoints
(label, scan date, attached series, a lock when signed).  Clicking a patient
opens it, clicking a timepoint selects it; each is one session call.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from viewer.errors import shows_errors
from viewer.style import icon

_PATIENT, _TIMEPOINT = 1, 2
_KIND_ROLE = Qt.ItemDataRole.UserRole
_KEY_ROLE = Qt.ItemDataRole.UserRole + 1


class PatientBrowserWidget(QWidget):
    """Tree of patients and the open patient's timepoints.

    Parameters
    ----------
    session : app.session.ReadingSession
        Lists patients and timepoints, opens and selects them.
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.tree = QTreeWidget()
        self.tree.setObjectName("patientTree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Subject", "Date", "Series"])
        self.tree.setColumnHidden(2, True)  # shown as a tool tip; the dock stays narrow
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.itemClicked.connect(self._on_item_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self._lock_icon = icon("lock")
        for name in (
            "patient_opened",
            "timepoint_selected",
            "timepoint_locked",
            "timepoint_changed",
            "assessment_updated",
        ):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(self._on_session_changed)
        self.refresh()

    def _on_session_changed(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the tree from the session."""
        session = self._session
        open_patient = getattr(session, "patient", None)
        current = getattr(session, "current_timepoint", None)
        self.tree.clear()
        for patient in session.patients():
            item = QTreeWidgetItem([patient.subject_id, "", patient.trial])
            item.setData(0, _KIND_ROLE, _PATIENT)
            item.setData(0, _KEY_ROLE, patient.subject_id)
            self.tree.addTopLevelItem(item)
            if open_patient is None or patient.id != open_patient.id:
                continue
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            for tp in session.timepoints():
                self._add_timepoint(item, tp, current)
            item.setExpanded(True)
        self.tree.resizeColumnToContents(0)

    def _add_timepoint(self, parent: QTreeWidgetItem, tp: Any, current: Any) -> None:
        series = tp.modality or ("series" if tp.series_instance_uid else "no series")
        child = QTreeWidgetItem(
            [tp.label, tp.scan_date.isoformat() if tp.scan_date else "", series]
        )
        child.setData(0, _KIND_ROLE, _TIMEPOINT)
        child.setData(0, _KEY_ROLE, tp.id)
        child.setToolTip(0, f"{tp.label}: {series} {tp.series_instance_uid or ''}".strip())
        if tp.id is not None and self._session.is_locked(tp.id):
            child.setIcon(0, self._lock_icon)
            child.setToolTip(0, f"{tp.label} is signed and locked")
        parent.addChild(child)
        if current is not None and current.id == tp.id:
            self.tree.setCurrentItem(child)

    def item_for_timepoint(self, timepoint_id: int) -> QTreeWidgetItem | None:
        """The tree item of *timepoint_id* (for tests and keyboard navigation)."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            children = [top.child(j) for j in range(top.childCount())] if top else []
            for child in children:
                if child is not None and child.data(0, _KEY_ROLE) == timepoint_id:
                    return child
        return None

    @shows_errors("Could not open the patient or timepoint")
    def _on_item_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        key = item.data(0, _KEY_ROLE)
        if item.data(0, _KIND_ROLE) == _PATIENT:
            self._session.open_patient(key)
        else:
            self._session.select_timepoint(key)
