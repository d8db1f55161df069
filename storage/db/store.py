"""ClinicalStore: patients, timepoints, lesions and measurements, every write audited.

Each write method is one transaction that holds the write lock from its start
and contains the change *and* its audit event(s).  A change that can alter a
signed assessment needs a ``reason``; it voids those signatures (audited, never
deleted).  Which signatures a change touches: RECIST is cumulative (baseline,
nadir, confirmation), so a change at timepoint order *k* touches every signed
timepoint of that patient with order >= *k*; a lesion change touches those from
the lesion's first measured timepoint; a patient change (criteria) touches all.

A composite edit (a lesion with its first measurement, a lesion with its
measurements, an amendment of several records) runs its writes inside
:meth:`ClinicalStore.batch`: one transaction for all of them, so their data rows
and their audit events commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.endpoints import (
    ConversionAssessment,
    ConversionRecord,
    SurgeryRecord,
    SurvivalRecord,
)
from recist.model import Lesion, Measurement, Patient, Reader, Timepoint
from storage.db.audit import AuditEvent, AuditReport
from storage.db.base import utcnow
from storage.db.charts import PatientCharts
from storage.db.endpoints import EndpointRecordRepository, EndpointRecords, RecordSignature
from storage.db.errors import IntegrityViolationError, NotFoundError
from storage.db.locks import first_measured_order
from storage.db.mappers import (
    lesion_from_row,
    lesion_to_row,
    measurement_from_row,
    measurement_to_row,
    patient_from_row,
    patient_to_row,
    record_values,
    timepoint_from_row,
    timepoint_to_row,
)
from storage.db.models import LesionRow, MeasurementRow, PatientRow, TimepointRow
from storage.db.readers import UnlockedReader
from storage.db.records import PatientChart, Signature, StoredAssessment
from storage.db.segmentations import Segmentations
from storage.db.signing import Signatures
from storage.db.timeline_checks import check_timeline, other_patient_note, stored_timeline
from storage.db.transactions import SessionSource, Transactions


class ReaderAuthenticator(Protocol):
    """Checks a re-entered password (``Database.readers`` is one)."""

    def authenticate(self, username: str, password: str) -> Reader:
        """The reader, or AuthenticationError."""
        ...

    def unlock(self, username: str, password: str) -> UnlockedReader:
        """The reader and their decrypted private signing key, or AuthenticationError."""
        ...


class StoreDatabase(SessionSource, Protocol):
    """What a store needs of its database (:class:`storage.db.database.Database` is one)."""

    @property
    def readers(self) -> ReaderAuthenticator:
        """The database's readers."""
        ...

    def audit_events(
        self, *, entity: str | None = None, entity_id: object = None, limit: int | None = None
    ) -> list[AuditEvent]:
        """Audit events in sequence order."""
        ...

    def verify_audit(self, expect_head: tuple[int, str] | None = None) -> AuditReport:
        """Verify the audit trail."""
        ...

    def record_witness(self, why: str) -> tuple[int, str] | None:
        """Append the audit head to the witness."""
        ...


def _get(session: Session, model: type[Any], record_id: int | None, name: str) -> Any:
    row = session.get(model, record_id) if record_id is not None else None
    if row is None:
        raise NotFoundError(f"no {name} with id {record_id}")
    return row


class ClinicalStore:
    """The clinical data of a database as seen and changed by one reader.

    Get one with ``Database.store(reader)``.  The store writes patients,
    timepoints, lesions and measurements itself and owns one collaborator per
    further responsibility, sharing its :class:`~storage.db.transactions.Transactions`
    (reader, batch, audit): :class:`~storage.db.charts.PatientCharts` (whole
    patients, imports), :class:`~storage.db.signing.Signatures` (assessments and
    signatures) and :class:`~storage.db.endpoints.EndpointRecordRepository`
    (conversion, surgery and survival records).  Their public methods are the
    store's, delegated.
    """

    def __init__(self, database: StoreDatabase, reader: Reader | None) -> None:
        self._db = database
        self._tx = Transactions(database, reader)
        self._charts = PatientCharts(self._tx)
        self._signatures = Signatures(self._tx, self._unlock)
        self._endpoints = EndpointRecordRepository(self._tx, self._unlock)
        #: Contours measured semi-automatically (lesion masks, liver volumetry), issue 16.
        self.segmentations = Segmentations(self._tx)

    @property
    def reader(self) -> Reader | None:
        """The reader who writes through this store; None for a read-only store."""
        return self._tx.reader

    def _unlock(self, username: str, password: str) -> UnlockedReader:
        return self._db.readers.unlock(username, password)

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def batch(self, what: str = "composite edit") -> Iterator[None]:
        """Run the store's writes in the block as one transaction: all of them or none.

        Data rows and audit events written in the block commit together when it
        ends normally, and are all rolled back when an exception leaves it (the
        exception propagates).  Reads of this store in the block see the block's
        own writes; other connections see none of them until the commit.  The
        write lock is held from the first statement to the end of the block, so
        keep the block short and free of user interaction.

        A nested ``batch()`` (or any single write) in the block joins the outer
        transaction through a savepoint: it commits only with the outer batch,
        and an exception leaving it undoes just its own writes.

        Parameters
        ----------
        what
            What the batch does, for error messages ("measure new lesion T3").

        Examples
        --------
        >>> with store.batch("measure new lesion T3"):  # doctest: +SKIP
        ...     lesion = store.add_lesion(lesion)
        ...     store.add_measurement(replace(measurement, lesion_id=lesion.id))
        """
        with self._tx.batch(what):
            yield

    @property
    def in_batch(self) -> bool:
        """True inside :meth:`batch` (on this thread)."""
        return self._tx.in_batch

    # -- audit trail ---------------------------------------------------------------------

    def audit_events(
        self, *, entity: str | None = None, entity_id: object = None, limit: int | None = None
    ) -> list[AuditEvent]:
        """Audit events in sequence order (see :meth:`Database.audit_events`)."""
        return self._db.audit_events(entity=entity, entity_id=entity_id, limit=limit)

    def verify_audit(self, expect_head: tuple[int, str] | None = None) -> AuditReport:
        """Verify the audit trail (see :meth:`Database.verify_audit`)."""
        return self._db.verify_audit(expect_head)

    # -- patients ------------------------------------------------------------------------

    def patients(self) -> list[Patient]:
        """Every patient, by subject id."""
        with self._tx.read("list patients") as session:
            return [
                patient_from_row(r)
                for r in session.scalars(select(PatientRow).order_by(PatientRow.subject_id))
            ]

    def patient(self, subject_id: str) -> Patient:
        """The patient with this subject id (raises NotFoundError)."""
        with self._tx.read(f"find patient {subject_id}") as session:
            row = session.scalar(select(PatientRow).where(PatientRow.subject_id == subject_id))
            if row is None:
                raise NotFoundError(f"no patient {subject_id!r}")
            return patient_from_row(row)

    def patient_by_id(self, patient_id: int) -> Patient:
        """The patient with this id (raises NotFoundError)."""
        with self._tx.read(f"find patient {patient_id}") as session:
            return patient_from_row(_get(session, PatientRow, patient_id, "patient"))

    def add_patient(self, patient: Patient) -> Patient:
        """Store a new patient (``id`` ignored) and return it with its id.

        DuplicateError if the subject exists.
        """
        with self._tx.write(f"add patient {patient.subject_id}") as session:
            row = patient_to_row(patient, PatientRow())
            session.add(row)
            session.flush()
            stored = patient_from_row(row)
            self._tx.audit(session, "create", "patient", row.id, after=record_values(stored))
        return stored

    def update_patient(self, patient: Patient, reason: str | None = None) -> Patient:
        """Change a patient's values; touches every signed timepoint of the patient."""
        with self._tx.write(f"update patient {patient.subject_id}") as session:
            row = _get(session, PatientRow, patient.id, "patient")
            old = patient_from_row(row)
            if old == patient:
                return old
            self._tx.guard(session, row.id, 0, reason, f"changing patient {old.subject_id}")
            patient_to_row(patient, row)
            return self._tx.audit_update(session, "patient", row, old, patient_from_row, reason)

    # -- timepoints ----------------------------------------------------------------------

    def timepoints(self, patient_id: int) -> list[Timepoint]:
        """The patient's timepoints in order (baseline first)."""
        with self._tx.read("list timepoints") as session:
            rows = session.scalars(
                select(TimepointRow)
                .where(TimepointRow.patient_id == patient_id)
                .order_by(TimepointRow.order)
            )
            return [timepoint_from_row(r) for r in rows]

    def add_timepoint(
        self,
        timepoint: Timepoint,
        reason: str | None = None,
        *,
        confirm_other_patient: bool = False,
        confirmed: Sequence[str] = (),
    ) -> Timepoint:
        """Store a new timepoint of ``timepoint.patient_id``.

        A label the patient already has, or a date before the baseline, is
        refused (DuplicateError / IntegrityViolationError).  A
        ``dicom_patient_id`` that differs from that of the patient's other
        series needs ``confirm_other_patient``; the confirmation is audited, as
        is every text in ``confirmed`` (what else the reader confirmed, e.g. a
        scan date that differs from the DICOM date).
        """
        with self._tx.write(f"add timepoint {timepoint.label}") as session:
            patient_row: PatientRow = _get(session, PatientRow, timepoint.patient_id, "patient")
            self._tx.guard(
                session,
                patient_row.id,
                timepoint.order,
                reason,
                f"adding timepoint {timepoint.label}",
            )
            notes = self._check_timepoint(
                session, patient_row, timepoint, None, confirm_other_patient
            )
            row = timepoint_to_row(timepoint, TimepointRow(patient_id=timepoint.patient_id))
            session.add(row)
            session.flush()
            stored = timepoint_from_row(row)
            self._tx.audit(
                session, "create", "timepoint", row.id, after=record_values(stored), reason=reason
            )
            self._audit_confirmed(session, stored, [*notes, *confirmed])
        return stored

    def _check_timepoint(
        self,
        session: Session,
        patient_row: PatientRow,
        timepoint: Timepoint,
        old: Timepoint | None,
        confirm_other_patient: bool,
    ) -> list[str]:
        """Refuse what a timeline cannot hold; the audit notes of what the reader confirmed."""
        others = [t for t in stored_timeline(session, patient_row.id) if t.id != timepoint.id]
        timeline = [*others, timepoint]
        check_timeline(patient_row.subject_id, timeline, timepoint)
        note = other_patient_note(
            patient_row.subject_id,
            timeline,
            timepoint,
            old.dicom_patient_id if old else None,
            confirm_other_patient,
        )
        return [note] if note else []

    def _audit_confirmed(
        self, session: Session, timepoint: Timepoint, notes: Sequence[str]
    ) -> None:
        """One ``confirm`` event per thing the reader confirmed for this timepoint."""
        for note in notes:
            self._tx.audit(
                session,
                "confirm",
                "timepoint",
                timepoint.id,
                reason=note,
                after={
                    "label": timepoint.label,
                    "series_instance_uid": timepoint.series_instance_uid,
                    "dicom_patient_id": timepoint.dicom_patient_id,
                    "scan_date": timepoint.scan_date.isoformat() if timepoint.scan_date else None,
                },
            )

    def record_confirmation(self, timepoint_id: int, note: str) -> None:
        """Audit something the reader confirmed about a timepoint (e.g. another patient's SR)."""
        with self._tx.write("record confirmation") as session:
            row = _get(session, TimepointRow, timepoint_id, "timepoint")
            self._audit_confirmed(session, timepoint_from_row(row), [note])

    def update_timepoint(
        self,
        timepoint: Timepoint,
        reason: str | None = None,
        *,
        confirm_other_patient: bool = False,
    ) -> Timepoint:
        """Change a timepoint's values (not its patient); checked as :meth:`add_timepoint`."""
        with self._tx.write(f"update timepoint {timepoint.label}") as session:
            row = _get(session, TimepointRow, timepoint.id, "timepoint")
            old = timepoint_from_row(row)
            new_values = replace(timepoint, patient_id=row.patient_id)
            if old == new_values:
                return old
            self._tx.guard(
                session,
                row.patient_id,
                min(old.order, timepoint.order),
                reason,
                f"changing timepoint {old.label}",
            )
            notes = self._check_timepoint(
                session, row.patient, new_values, old, confirm_other_patient
            )
            timepoint_to_row(new_values, row)
            new = self._tx.audit_update(session, "timepoint", row, old, timepoint_from_row, reason)
            self._audit_confirmed(session, new, notes)
        return new

    # -- lesions -------------------------------------------------------------------------

    def lesions(self, patient_id: int) -> list[Lesion]:
        """The patient's lesions, by code."""
        with self._tx.read("list lesions") as session:
            rows = session.scalars(
                select(LesionRow).where(LesionRow.patient_id == patient_id).order_by(LesionRow.code)
            )
            return [lesion_from_row(r) for r in rows]

    def add_lesion(self, lesion: Lesion) -> Lesion:
        """Store a new lesion of ``lesion.patient_id``.

        DuplicateError for a taken code or tracking UID.
        """
        with self._tx.write(f"add lesion {lesion.code}") as session:
            _get(session, PatientRow, lesion.patient_id, "patient")
            row = lesion_to_row(lesion, LesionRow(patient_id=lesion.patient_id))
            session.add(row)
            session.flush()
            stored = lesion_from_row(row)
            self._tx.audit(session, "create", "lesion", row.id, after=record_values(stored))
        return stored

    def update_lesion(self, lesion: Lesion, reason: str | None = None) -> Lesion:
        """Change a lesion's code, kind, organ, location, nodal flag or tracking UID."""
        with self._tx.write(f"update lesion {lesion.code}") as session:
            row = _get(session, LesionRow, lesion.id, "lesion")
            old = lesion_from_row(row)
            new_values = replace(lesion, patient_id=row.patient_id)
            if old == new_values:
                return old
            self._tx.guard(
                session,
                row.patient_id,
                first_measured_order(session, row.id),
                reason,
                f"changing lesion {old.code}",
            )
            lesion_to_row(new_values, row)
            return self._tx.audit_update(session, "lesion", row, old, lesion_from_row, reason)

    def delete_lesion(self, lesion_id: int, reason: str | None = None) -> None:
        """Delete a lesion and its measurements (each deletion audited with its old values)."""
        with self._tx.write(f"delete lesion {lesion_id}") as session:
            row = _get(session, LesionRow, lesion_id, "lesion")
            old = lesion_from_row(row)
            self._tx.guard(
                session,
                row.patient_id,
                first_measured_order(session, row.id),
                reason,
                f"deleting lesion {old.code}",
            )
            for m_row in session.scalars(
                select(MeasurementRow).where(MeasurementRow.lesion_id == lesion_id)
            ).all():
                self._tx.audit(
                    session,
                    "delete",
                    "measurement",
                    m_row.id,
                    before=record_values(measurement_from_row(m_row)),
                    reason=reason,
                )
                session.delete(m_row)
            session.flush()
            self._tx.audit(
                session, "delete", "lesion", lesion_id, before=record_values(old), reason=reason
            )
            session.delete(row)

    # -- measurements --------------------------------------------------------------------

    def measurements(
        self, patient_id: int | None = None, timepoint_id: int | None = None
    ) -> list[Measurement]:
        """Measurements of a patient and/or a timepoint, by timepoint order then entry order."""
        query = (
            select(MeasurementRow)
            .join(TimepointRow, MeasurementRow.timepoint_id == TimepointRow.id)
            .join(LesionRow, MeasurementRow.lesion_id == LesionRow.id)
            .order_by(TimepointRow.order, MeasurementRow.id)
        )
        if patient_id is not None:
            query = query.where(TimepointRow.patient_id == patient_id)
        if timepoint_id is not None:
            query = query.where(MeasurementRow.timepoint_id == timepoint_id)
        with self._tx.read("list measurements") as session:
            return [measurement_from_row(r) for r in session.scalars(query)]

    def _measurement_context(
        self, session: Session, lesion_id: int | None, timepoint_id: int | None
    ) -> TimepointRow:
        lesion = _get(session, LesionRow, lesion_id, "lesion")
        timepoint: TimepointRow = _get(session, TimepointRow, timepoint_id, "timepoint")
        if lesion.patient_id != timepoint.patient_id:
            raise IntegrityViolationError(
                f"lesion {lesion.code} and timepoint {timepoint.label} belong to different patients"
            )
        return timepoint

    def add_measurement(self, measurement: Measurement, reason: str | None = None) -> Measurement:
        """Store a new measurement (reader defaults to this store's reader, time to now)."""
        with self._tx.write("add measurement") as session:
            tp = self._measurement_context(session, measurement.lesion_id, measurement.timepoint_id)
            self._tx.guard(session, tp.patient_id, tp.order, reason, f"measuring at {tp.label}")
            row = measurement_to_row(
                measurement,
                MeasurementRow(
                    lesion_id=measurement.lesion_id,
                    timepoint_id=measurement.timepoint_id,
                    reader_id=measurement.reader_id or self._tx.writer_id(),
                    measured_at=measurement.measured_at or utcnow(),
                ),
            )
            session.add(row)
            session.flush()
            stored = measurement_from_row(row)
            self._tx.audit(
                session, "create", "measurement", row.id, after=record_values(stored), reason=reason
            )
        return stored

    def update_measurement(
        self, measurement: Measurement, reason: str | None = None
    ) -> Measurement:
        """Change a measurement's values (not lesion, timepoint, reader); ``measured_at`` is now."""
        with self._tx.write(f"update measurement {measurement.id}") as session:
            row = _get(session, MeasurementRow, measurement.id, "measurement")
            old = measurement_from_row(row)
            if replace(old, measured_at=None) == replace(
                measurement,
                lesion_id=old.lesion_id,
                timepoint_id=old.timepoint_id,
                reader_id=old.reader_id,
                measured_at=None,
            ):
                return old
            tp = session.get_one(TimepointRow, row.timepoint_id)
            self._tx.guard(
                session, tp.patient_id, tp.order, reason, f"changing a measurement at {tp.label}"
            )
            measurement_to_row(measurement, row)
            row.measured_at = utcnow()
            return self._tx.audit_update(
                session, "measurement", row, old, measurement_from_row, reason
            )

    def delete_measurement(self, measurement_id: int, reason: str | None = None) -> None:
        """Delete a measurement; its values stay in the audit trail."""
        with self._tx.write(f"delete measurement {measurement_id}") as session:
            row = _get(session, MeasurementRow, measurement_id, "measurement")
            tp = session.get_one(TimepointRow, row.timepoint_id)
            self._tx.guard(
                session, tp.patient_id, tp.order, reason, f"deleting a measurement at {tp.label}"
            )
            self._tx.audit(
                session,
                "delete",
                "measurement",
                row.id,
                before=record_values(measurement_from_row(row)),
                reason=reason,
            )
            session.delete(row)

    # -- whole patients (PatientCharts) --------------------------------------------------

    def chart(self, subject_id: str) -> PatientChart:
        """Everything the viewer needs for one patient, read in one transaction."""
        return self._charts.chart(subject_id)

    def charts(
        self, subject_ids: Sequence[str] | None = None, *, assessments: bool = True
    ) -> list[PatientChart]:
        """The charts of many patients in one read (see :meth:`PatientCharts.charts`)."""
        return self._charts.charts(subject_ids, assessments=assessments)

    def import_records(
        self,
        patient: Patient,
        timepoints: Sequence[Timepoint],
        lesions: Sequence[Lesion],
        measurements: Sequence[Measurement],
    ) -> Patient:
        """Store a whole timeline in one transaction (see :meth:`PatientCharts.import_records`)."""
        return self._charts.import_records(patient, timepoints, lesions, measurements)

    # -- assessments and signatures (Signatures) -----------------------------------------

    def assess(self, patient_id: int) -> Any:
        """Recompute and store the patient's responses (see :meth:`Signatures.assess`)."""
        return self._signatures.assess(patient_id)

    def assessments(self, patient_id: int) -> list[StoredAssessment]:
        """Stored assessments of the patient (current and frozen), by timepoint order."""
        return self._signatures.assessments(patient_id)

    def sign(
        self, timepoint_id: int, investigator: Reader, password: str, meaning: str | None = None
    ) -> Signature:
        """Sign the confirmation of a timepoint's response (see :meth:`Signatures.sign`).

        The audit head after the signature is then recorded in the witness
        (:mod:`storage.db.witness`).
        """
        signature = self._signatures.sign(timepoint_id, investigator, password, meaning)
        self._db.record_witness(f"signature {signature.id}")
        return signature

    def verify_signature(self, signature_id: int) -> bool:
        """True if the frozen content still hashes to the signature's ``content_hash``."""
        return self._signatures.verify_signature(signature_id)

    def signatures(self, patient_id: int) -> list[Signature]:
        """Every signature of the patient's timepoints, voided ones included, oldest first."""
        return self._signatures.signatures(patient_id)

    def is_locked(self, timepoint_id: int) -> bool:
        """True while the timepoint carries a valid (not voided) signature."""
        return self._signatures.is_locked(timepoint_id)

    # -- endpoint records (EndpointRecordRepository) -------------------------------------

    def endpoint_records(self, patient_id: int) -> EndpointRecords:
        """The patient's conversion, surgery and survival records and their signatures."""
        return self._endpoints.endpoint_records(patient_id)

    def endpoint_records_of(self, patient_ids: Sequence[int]) -> dict[int, EndpointRecords]:
        """The records of many patients in one read (one query per table), by patient id."""
        return self._endpoints.endpoint_records_of(patient_ids)

    def conversion_record(self, patient_id: int) -> ConversionRecord | None:
        """The patient's conversion record, or None."""
        return self._endpoints.conversion_record(patient_id)

    def surgery_record(self, patient_id: int) -> SurgeryRecord | None:
        """The patient's surgery and pathology record, or None."""
        return self._endpoints.surgery_record(patient_id)

    def survival_record(self, patient_id: int) -> SurvivalRecord | None:
        """The patient's survival data, or None."""
        return self._endpoints.survival_record(patient_id)

    def save_conversion_record(
        self, record: ConversionRecord, reason: str | None = None
    ) -> ConversionRecord:
        """Create or update the patient's conversion record (a signed one needs ``reason``)."""
        return self._endpoints.save_conversion_record(record, reason)

    def save_surgery_record(
        self, record: SurgeryRecord, reason: str | None = None
    ) -> SurgeryRecord:
        """Create or update the patient's surgery and pathology record."""
        return self._endpoints.save_surgery_record(record, reason)

    def save_survival_record(
        self, record: SurvivalRecord, reason: str | None = None
    ) -> SurvivalRecord:
        """Create or update the patient's survival data."""
        return self._endpoints.save_survival_record(record, reason)

    def sign_conversion_record(
        self,
        patient_id: int,
        investigator: Reader,
        password: str,
        assessment: ConversionAssessment,
        meaning: str | None = None,
    ) -> RecordSignature:
        """The investigator signs the patient's conversion record and its derived result.

        See :meth:`EndpointRecordRepository.sign_conversion_record`.
        """
        signature = self._endpoints.sign_conversion_record(
            patient_id, investigator, password, assessment, meaning
        )
        self._db.record_witness(f"record signature {signature.id}")
        return signature

    def verify_record_signature(self, signature_id: int) -> bool:
        """True if the signed content still hashes to the signature's ``content_hash``."""
        return self._endpoints.verify_record_signature(signature_id)
