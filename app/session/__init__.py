"""ReadingSession: the Qt-free façade the viewer reads and edits a patient through.

The viewer never touches the database or the rules: it calls these methods and
listens to the psygnal signals.  Every edit is one command on the session's
single :class:`~app.session.undo.CommandStack` and one transaction of the
reader's ``ClinicalStore`` (``ClinicalStore.batch``): a composite edit (a new
lesion with its first measurement, a lesion deleted with its measurements, an
amendment) is stored with its audit events entirely or not at all.  After every
edit, undo and redo the responses are recomputed (:meth:`ReadingSession.assess`)
and ``assessment_updated`` fires.

A signed timepoint is locked: an edit that would change it (RECIST is
cumulative, so an edit at an earlier timepoint does too) raises
:class:`TimepointLockedError` unless a ``reason`` is given, in which case it is
an amendment that voids the signature (audited by storage).  The lock is
checked before anything is written, so a refused edit leaves no trace.

Errors the reader should see are :class:`SessionError` subclasses with
messages that say what to do.

Owns: ``ReadingSession`` (here), its edits (``edits``), command objects (``commands``), the
undo stack (``undo``), record helpers (``records``), the brush edit of a contour
(``contour_edits``), the tracked lesion a new caliper lies on (``proximity``) and errors
(``errors``).  May import:
``recist``, ``storage.db`` (through the ClinicalStore) and, when first needed,
``app.segmentation.follow_up`` (a lesion's earlier place).  Never Qt, never ``viewer``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from psygnal import Signal

from app.session.commands import SessionEditor, UpdateTimepoint
from app.session.contour_edits import PaintedResectionMixin
from app.session.edits import EditingMixin
from app.session.endpoints import EndpointController
from app.session.errors import (
    AuthenticationFailedError,
    ConfirmationNeededError,
    DuplicateRecordError,
    NoPatientOpenError,
    OtherPatientSeriesError,
    PermissionDeniedError,
    RecordNotFoundError,
    ScanDateMismatchError,
    SessionError,
    TimepointLockedError,
    translated,
)
from app.session.proximity import TrackedPlace, caliper_centre, nearest_tracked, tracked_places
from app.session.records import pick_measurement
from app.session.timeline import other_patient_warning, scan_date_note, timepoint_refusal
from app.session.undo import DEFAULT_MAX_DEPTH, CommandStack
from recist import CaseResult
from recist.model import (
    Criteria,
    Lesion,
    Measurement,
    Patient,
    Reader,
    Role,
    Timepoint,
)
from storage.db import Database, Signature

__all__ = [
    "AuthenticationFailedError",
    "ConfirmationNeededError",
    "DuplicateRecordError",
    "NoPatientOpenError",
    "OtherPatientSeriesError",
    "PermissionDeniedError",
    "ReadingSession",
    "RecordNotFoundError",
    "ScanDateMismatchError",
    "SessionError",
    "TimepointLockedError",
]

log = logging.getLogger(__name__)


class ReadingSession(EditingMixin, PaintedResectionMixin):
    """One reader reading one patient at a time.

    Parameters
    ----------
    database
        The open database.
    reader
        The authenticated reader; every write is audited as this reader.
    max_undo
        How many edits can be undone.

    Attributes
    ----------
    reader : Reader
    commands : CommandStack
        The one undo stack; Qt mirrors ``can_undo_redo()``/``undo_label`` from it.
        Call :meth:`undo`/:meth:`redo` on the session (they also reassess).
    patient : Patient or None
    current_timepoint : Timepoint or None
    assessment : CaseResult or None
        The latest computed responses of the open patient.
    """

    patient_opened = Signal(Patient)
    timepoint_selected = Signal(Timepoint)
    lesion_added = Signal(Lesion)
    lesion_changed = Signal(Lesion)
    lesion_removed = Signal(int)
    measurement_added = Signal(Measurement)
    measurement_changed = Signal(Measurement)
    measurement_removed = Signal(int)
    assessment_updated = Signal(CaseResult)
    assessment_failed = Signal(str)
    """The automatic reassessment after an edit failed (the message); the edit was saved."""
    timepoint_locked = Signal(int)
    timepoint_changed = Signal(Timepoint)
    """A timepoint's values changed (e.g. its series was attached)."""

    def __init__(
        self, database: Database, reader: Reader, *, max_undo: int = DEFAULT_MAX_DEPTH
    ) -> None:
        self.database = database
        self.reader = reader
        with translated(f"Could not start a session for {reader.username}"):
            self._store = database.store(reader)
        self._editor = SessionEditor(self._store, self)
        self.commands: CommandStack[SessionEditor] = CommandStack(
            self._editor, max_depth=max_undo, atomic=self._editor.transaction
        )
        self.patient: Patient | None = None
        self.current_timepoint: Timepoint | None = None
        self.assessment: CaseResult | None = None
        self.assessment_problem: str | None = None
        """Why the last automatic reassessment failed (None when it worked)."""
        self.timepoint_changed.connect(self._on_timepoint_changed)
        self.endpoints = EndpointController(self)
        """The open patient's conversion, surgery and survival records (``endpoints``)."""

    # -- patients ---------------------------------------------------------------------------

    def patients(self) -> list[Patient]:
        """Every patient in the database, by subject id."""
        with translated("Could not list the patients"):
            return list(self._store.patients())

    def add_patient(
        self,
        subject_id: str,
        trial: str = "",
        *,
        site: str = "",
        first_dose_date: date | None = None,
        criteria: Criteria = Criteria.RECIST11,
        confirmation_required: bool = True,
        min_sd_days: int = 42,
    ) -> Patient:
        """Store a new trial subject (not undoable; audited). Open it with :meth:`open_patient`.

        Raises
        ------
        DuplicateRecordError
            The subject id exists.
        SessionError
            A value is not allowed (the message names it).
        """
        with translated(f"Could not add patient {subject_id}"):
            record = Patient(
                id=None,
                subject_id=subject_id.strip(),
                trial=trial,
                site=site,
                first_dose_date=first_dose_date,
                criteria=criteria,
                confirmation_required=confirmation_required,
                min_sd_days=min_sd_days,
            )
            stored: Patient = self._store.add_patient(record)
        return stored

    def open_patient(self, subject_id: str) -> Patient:
        """Make ``subject_id`` the current patient, select its latest timepoint and assess it.

        The undo history of the previous patient is discarded.

        Raises
        ------
        RecordNotFoundError
            No such subject.
        """
        with translated(f"Could not open patient {subject_id}"):
            chart = self._store.chart(subject_id)
        self.patient = chart.patient
        self.current_timepoint = chart.timepoints[-1] if chart.timepoints else None
        self.assessment = None
        self._editor.reset()
        self.commands.clear()
        self.patient_opened.emit(chart.patient)
        if self.current_timepoint is not None:
            self.timepoint_selected.emit(self.current_timepoint)
            self._reassess()
        patient: Patient = chart.patient
        return patient

    def _patient_id(self) -> int:
        if self.patient is None or self.patient.id is None:
            raise NoPatientOpenError("Open a patient first.")
        return self.patient.id

    # -- timepoints -------------------------------------------------------------------------

    def timepoints(self) -> list[Timepoint]:
        """The open patient's timepoints, baseline first."""
        patient_id = self._patient_id()
        with translated("Could not list the timepoints"):
            return list(self._store.timepoints(patient_id))

    def add_timepoint(
        self,
        label: str,
        scan_date: date | None,
        cycle: int | None = None,
        *,
        study_instance_uid: str | None = None,
        series_instance_uid: str | None = None,
        modality: str | None = None,
        slice_thickness_mm: float | None = None,
        dicom_patient_id: str | None = None,
        dicom_scan_date: date | None = None,
        confirm_scan_date: bool = False,
        confirm_other_patient: bool = False,
        reason: str | None = None,
    ) -> Timepoint:
        """Add the next timepoint (order = last + 1; the first one is the baseline) and select it.

        The lesion list is per patient, so the baseline lesions carry forward
        without copying; record their measurements at the new timepoint.
        ``dicom_patient_id`` and ``dicom_scan_date`` come from the series it is
        read on (``Volume.patient_id``, ``Volume.scan_date``); a ``scan_date``
        that differs from the DICOM date, or a series of another DICOM patient,
        is stored only when confirmed, and the confirmation is audited.

        Raises
        ------
        SessionError
            The label is already used for this patient, or the date is before
            the baseline (nothing is stored; the message says what to do).
        ScanDateMismatchError
            ``scan_date`` differs from ``dicom_scan_date`` and ``confirm_scan_date`` is False.
        OtherPatientSeriesError
            The series is of another DICOM patient and ``confirm_other_patient`` is False.
        """
        patient_id = self._patient_id()
        existing = self.timepoints()
        order = existing[-1].order + 1 if existing else 0
        what = f"Could not add timepoint {label.strip()}"
        refusal = timepoint_refusal(existing, label, scan_date, self._subject())
        if refusal is not None:
            raise SessionError(f"{what}: {refusal}")
        date_question = scan_date_note(scan_date, dicom_scan_date)
        if date_question is not None and not confirm_scan_date:
            raise ScanDateMismatchError(date_question)
        warning = other_patient_warning(existing, dicom_patient_id, self._subject())
        if warning is not None and not confirm_other_patient:
            raise OtherPatientSeriesError(warning)
        confirmed = (
            []
            if date_question is None
            else [
                f"scan date {scan_date} typed by the reader, not the DICOM date {dicom_scan_date}"
            ]
        )
        with translated(what):
            record = Timepoint(
                id=None,
                patient_id=patient_id,
                order=order,
                label=label.strip(),
                scan_date=scan_date,
                cycle=cycle,
                study_instance_uid=study_instance_uid,
                series_instance_uid=series_instance_uid,
                modality=modality,
                slice_thickness_mm=slice_thickness_mm,
                dicom_patient_id=dicom_patient_id or None,
            )
            stored: Timepoint = self._store.add_timepoint(
                record,
                reason=reason,
                confirm_other_patient=confirm_other_patient,
                confirmed=confirmed,
            )
        self.current_timepoint = stored
        self.timepoint_selected.emit(stored)
        self._reassess()
        return stored

    def attach_series(
        self,
        timepoint_id: int,
        *,
        series_instance_uid: str,
        study_instance_uid: str | None = None,
        modality: str | None = None,
        slice_thickness_mm: float | None = None,
        dicom_patient_id: str | None = None,
        dicom_scan_date: date | None = None,
        confirm_other_patient: bool = False,
        reason: str | None = None,
    ) -> Timepoint:
        """Record which series a timepoint is read on (one undoable, audited edit).

        Values given as None keep what the timepoint has; a timepoint without
        a scan date takes ``dicom_scan_date`` (``Volume.scan_date``).  A series whose
        ``dicom_patient_id`` differs from that of the patient's other series
        is attached only with ``confirm_other_patient``; storage audits it as
        "attach series of other patient ID X to subject Y".

        Raises
        ------
        TimepointLockedError
            The timepoint is signed and no ``reason`` was given.
        OtherPatientSeriesError
            The series is of another DICOM patient and ``confirm_other_patient`` is False.
        """
        old = self._timepoint(timepoint_id)
        warning = self.other_patient_warning(dicom_patient_id, timepoint_id)
        if warning is not None and not confirm_other_patient:
            raise OtherPatientSeriesError(warning)
        given: dict[str, Any] = {
            "series_instance_uid": series_instance_uid,
            "study_instance_uid": study_instance_uid,
            "modality": modality,
            "slice_thickness_mm": slice_thickness_mm,
            "dicom_patient_id": dicom_patient_id or None,
            "scan_date": dicom_scan_date if old.scan_date is None else None,
        }
        with translated(f"Could not attach the series to {old.label}"):
            new = replace(old, **{k: v for k, v in given.items() if v is not None})
        if new != old:
            self._refuse_if_signed(old.order, reason, f"Could not attach the series to {old.label}")
        stored: Timepoint | None = self._push(
            UpdateTimepoint(
                old,
                new,
                reason,
                f"Attach series to {old.label}",
                confirm_other_patient=warning is not None,
            ),
            f"Could not attach the series to {old.label}",
        )
        return stored or old

    def other_patient_warning(
        self, dicom_patient_id: str | None, timepoint_id: int | None = None
    ) -> str | None:
        """The warning for a series of DICOM patient ``dicom_patient_id``, or None when it fits.

        It names both Patient IDs: the series' and that of the open patient's
        series at its other timepoints (than ``timepoint_id``).
        """
        if self.patient is None or not dicom_patient_id:
            return None
        return other_patient_warning(
            self.timepoints(), dicom_patient_id, self._subject(), timepoint_id
        )

    def timepoint_refusal(self, label: str, scan_date: date | None) -> str | None:
        """Why a new timepoint ``label`` dated ``scan_date`` would be refused, or None.

        A label the patient already has, or a date before the baseline (what
        :meth:`add_timepoint` refuses), for the dialog to say before closing.
        """
        return timepoint_refusal(self.timepoints(), label, scan_date, self._subject())

    def _subject(self) -> str:
        return self.patient.subject_id if self.patient is not None else "this patient"

    def _on_timepoint_changed(self, timepoint: Timepoint) -> None:
        if self.current_timepoint is not None and self.current_timepoint.id == timepoint.id:
            self.current_timepoint = timepoint

    def select_timepoint(self, timepoint_id: int) -> Timepoint:
        """Make ``timepoint_id`` the current timepoint (measurements are recorded there)."""
        timepoint = self._timepoint(timepoint_id)
        self.current_timepoint = timepoint
        self.timepoint_selected.emit(timepoint)
        return timepoint

    def _timepoint(self, timepoint_id: int | None) -> Timepoint:
        if timepoint_id is None:
            if self.current_timepoint is None:
                raise NoPatientOpenError("Select a timepoint first (or add the baseline).")
            return self.current_timepoint
        for timepoint in self.timepoints():
            if timepoint.id == timepoint_id:
                return timepoint
        raise RecordNotFoundError(f"Timepoint {timepoint_id} is not a timepoint of this patient.")

    # -- lesions and measurements (reading) -------------------------------------------------

    def lesions(self) -> list[Lesion]:
        """The open patient's lesions (all timepoints share them), by code."""
        patient_id = self._patient_id()
        with translated("Could not list the lesions"):
            return list(self._store.lesions(patient_id))

    def _lesion(self, lesion_id: int) -> Lesion:
        for lesion in self.lesions():
            if lesion.id == lesion_id:
                return lesion
        raise RecordNotFoundError(f"Lesion {lesion_id} is not a lesion of this patient.")

    def measurements(self, timepoint_id: int | None = None) -> list[Measurement]:
        """Measurements at a timepoint (default: the current one), by lesion code."""
        timepoint = self._timepoint(timepoint_id)
        with translated("Could not list the measurements"):
            return list(self._store.measurements(timepoint_id=timepoint.id))

    def find_measurement(self, measurement_id: int) -> Measurement | None:
        """The open patient's measurement *measurement_id*, at any timepoint, else None."""
        with translated("Could not find the measurement"):
            found: list[Measurement] = list(self._store.measurements(patient_id=self._patient_id()))
        return next((m for m in found if m.id == measurement_id), None)

    def _measurement(self, measurement_id: int) -> Measurement:
        found = self.find_measurement(measurement_id)
        if found is None:
            raise RecordNotFoundError(
                f"Measurement {measurement_id} is not a measurement of this patient."
            )
        return found

    def measurement_for(
        self, lesion_id: int, timepoint_id: int | None = None
    ) -> Measurement | None:
        """The measurement of a lesion at a timepoint: this reader's own, else another reader's."""
        return pick_measurement(self.measurements(timepoint_id), lesion_id, self.reader.id)

    def previous_measurement(self, lesion_id: int) -> tuple[Timepoint, Measurement] | None:
        """The lesion's latest measurement before the current timepoint, for its key slice."""
        current = self._timepoint(None)
        earlier = [tp for tp in self.timepoints() if tp.order < current.order]
        for timepoint in reversed(earlier):
            measurement = self.measurement_for(lesion_id, timepoint.id)
            if measurement is not None:
                return timepoint, measurement
        return None

    def tracked_lesion_near(self, geometry: Any) -> TrackedPlace | None:
        """The tracked lesion a caliper drawn at this follow-up lies on, else None.

        The viewer asks before recording such a caliper as a new lesion (a PD); the rule is
        :func:`app.session.proximity.nearest_tracked`.  None at the baseline.
        """
        current = self._timepoint(None)
        centre = caliper_centre(geometry)
        if current.is_baseline or centre is None:
            return None
        places = tracked_places(
            self.timepoints(), current, self.lesions(), self.measurements, self.reader.id
        )
        return nearest_tracked(centre, places)

    # -- assessment and signing -------------------------------------------------------------

    def assess(self) -> CaseResult:
        """Recompute (and store) the open patient's responses; emits ``assessment_updated``.

        Raises
        ------
        SessionError
            The patient has no timepoint yet, or the engine refused the data.
        """
        patient_id = self._patient_id()
        with translated("Could not compute the response"):
            result: CaseResult = self._store.assess(patient_id)
        self.assessment = result
        self.assessment_problem = None
        self.assessment_updated.emit(result)
        return result

    def _reassess(self) -> None:
        """Assess after an edit; on failure the edit stands and ``assessment_failed`` says why.

        Inside a transaction (e.g. a Smart caliper measurement stored with its contour) the
        assessment runs once after the commit, when every reader of the store sees the edit.
        """
        self._editor.after_commit(self._assess_after_edit)

    def _assess_after_edit(self) -> None:
        try:
            self.assess()
        except Exception as exc:  # noqa: BLE001 - an engine failure must not undo a saved edit
            self.assessment = None
            self.assessment_problem = str(exc)
            log.exception("assessment failed after an edit")
            self.assessment_failed.emit(self.assessment_problem)

    def is_locked(self, timepoint_id: int) -> bool:
        """True while the timepoint carries a valid signature."""
        with translated("Could not check the signature"):
            return bool(self._store.is_locked(timepoint_id))

    def signatures(self) -> list[Signature]:
        """Every signature of the open patient, voided ones included."""
        patient_id = self._patient_id()
        with translated("Could not list the signatures"):
            return list(self._store.signatures(patient_id))

    def sign(
        self, timepoint_id: int, username: str, password: str, meaning: str | None = None
    ) -> Signature:
        """Sign the confirmation of a timepoint's response (investigators only, password again).

        The timepoint is then locked: further edits need a reason.  The undo
        history is cleared so that an undo cannot silently amend signed data.

        Raises
        ------
        AuthenticationFailedError
            Wrong username or password.
        PermissionDeniedError
            The signer is not an investigator.
        SessionError
            Already signed, or nothing to confirm (e.g. the baseline).
        """
        timepoint = self._timepoint(timepoint_id)
        with translated(f"Could not sign {timepoint.label}"):
            signer = self.database.readers.authenticate(username, password)
            if signer.role is not Role.INVESTIGATOR:
                raise PermissionDeniedError(
                    f"Could not sign {timepoint.label}: {signer.full_name} is a "
                    f"{signer.role.value}; only an investigator can sign."
                )
            signature: Signature = self._store.sign(timepoint_id, signer, password, meaning)
        self.commands.clear()
        self.timepoint_locked.emit(timepoint_id)
        return signature
