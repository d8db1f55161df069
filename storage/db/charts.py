"""The whole patient at once: the chart the viewer opens, and importing a timeline.

:class:`PatientCharts` is a collaborator that :class:`~storage.db.store.ClinicalStore`
owns and delegates to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recist.model import Lesion, Measurement, MeasurementStatus, Method, Patient, Timepoint
from storage.db.audit import PendingEvent, record_many
from storage.db.base import utcnow
from storage.db.errors import DuplicateError, NotFoundError
from storage.db.mappers import (
    assessment_from_row,
    geometry_from_json,
    lesion_from_row,
    lesion_to_row,
    measurement_from_row,
    measurement_to_row,
    patient_from_row,
    patient_to_row,
    record_values,
    signature_from_row,
    timepoint_from_row,
    timepoint_to_row,
)
from storage.db.models import (
    AssessmentRow,
    LesionRow,
    MeasurementRow,
    PatientRow,
    SignatureRow,
    TimepointRow,
)
from storage.db.records import PatientChart, Signature, StoredAssessment
from storage.db.timeline_checks import check_timeline
from storage.db.transactions import Transactions


def load_patient(
    session: Session, patient_id: int
) -> tuple[Patient, list[Timepoint], list[Lesion], list[Measurement]]:
    """A patient and all its timepoints, lesions and measurements (entry order), in ``session``."""
    row = session.get(PatientRow, patient_id)
    if row is None:
        raise NotFoundError(f"no patient with id {patient_id}")
    timepoints = [
        timepoint_from_row(r)
        for r in session.scalars(
            select(TimepointRow)
            .where(TimepointRow.patient_id == patient_id)
            .order_by(TimepointRow.order)
        )
    ]
    lesions = [
        lesion_from_row(r)
        for r in session.scalars(
            select(LesionRow).where(LesionRow.patient_id == patient_id).order_by(LesionRow.id)
        )
    ]
    measurements = [
        measurement_from_row(r)
        for r in session.scalars(
            select(MeasurementRow)
            .join(TimepointRow, MeasurementRow.timepoint_id == TimepointRow.id)
            .where(TimepointRow.patient_id == patient_id)
            .order_by(TimepointRow.order, MeasurementRow.id)
        )
    ]
    return patient_from_row(row), timepoints, lesions, measurements


def patient_assessments(session: Session, patient_id: int) -> list[StoredAssessment]:
    """Stored assessments of a patient, by timepoint order then age."""
    rows = session.scalars(
        select(AssessmentRow)
        .join(TimepointRow, AssessmentRow.timepoint_id == TimepointRow.id)
        .where(TimepointRow.patient_id == patient_id)
        .order_by(TimepointRow.order, AssessmentRow.id)
    )
    return [assessment_from_row(r) for r in rows]


def patient_signatures(session: Session, patient_id: int) -> list[Signature]:
    """Every signature of a patient's timepoints, voided ones included, oldest first."""
    rows = session.scalars(
        select(SignatureRow)
        .join(TimepointRow, SignatureRow.timepoint_id == TimepointRow.id)
        .where(TimepointRow.patient_id == patient_id)
        .order_by(SignatureRow.id)
    )
    return [signature_from_row(r) for r in rows]


#: The measurement columns :func:`_measurement_from_values` reads, in its order.
_MEASUREMENT_COLUMNS = (
    "id",
    "lesion_id",
    "timepoint_id",
    "reader_id",
    "status",
    "long_axis_mm",
    "short_axis_mm",
    "geometry_json",
    "method",
    "measured_at",
    "fragments_json",
    "coalesced_into",
    "equivocal",
    "note",
)
_STATUSES = {s.value: s for s in MeasurementStatus}
_METHODS = {m.value: m for m in Method}


def _measurement_from_values(row: Any) -> Measurement:
    """A Measurement from the :data:`_MEASUREMENT_COLUMNS` of a row, by position.

    The same record as :func:`~storage.db.mappers.measurement_from_row` (tested), without
    the name look-ups and JSON parses of empty values that dominate a bulk read.
    """
    (
        id_,
        lesion_id,
        timepoint_id,
        reader_id,
        status,
        long_axis,
        short_axis,
        geometry,
        method,
        measured_at,
        fragments,
        coalesced_into,
        equivocal,
        note,
    ) = row[:14]
    return Measurement(
        id=id_,
        lesion_id=lesion_id,
        timepoint_id=timepoint_id,
        reader_id=reader_id,
        status=_STATUSES.get(status) or MeasurementStatus(status),
        long_axis_mm=long_axis,
        short_axis_mm=short_axis,
        geometry=geometry_from_json(geometry) if geometry else None,
        method=_METHODS.get(method) or Method(method),
        measured_at=measured_at,
        fragments_mm=() if fragments in (None, "", "[]") else tuple(json.loads(fragments)),
        coalesced_into=coalesced_into,
        equivocal=equivocal,
        note=note,
    )


def _chunks(items: list[str] | None, size: int = 900) -> list[list[str] | None]:
    """``items`` in chunks of at most ``size`` (bound parameters per statement); None: [None]."""
    if items is None:
        return [None]
    return [items[i : i + size] for i in range(0, len(items), size)]


def _number(session: Session, model: type[Any], rows: list[Any]) -> None:
    """Give new rows their ids up front on SQLite, so that they are inserted in one batch.

    SQLite cannot return the ids of a multi-row INSERT in order, so SQLAlchemy would
    insert them one by one.  The write transaction holds the database's write lock,
    and SQLite numbers a table's rows max(id) + 1 anyway.  PostgreSQL keeps its
    sequences (its multi-row INSERT ... RETURNING is ordered).
    """
    if not rows or session.get_bind().dialect.name != "sqlite":
        return
    first = (session.scalar(select(func.max(model.id))) or 0) + 1
    for offset, row in enumerate(rows):
        row.id = first + offset


class PatientCharts:
    """Whole patients read and imported at once; a :class:`~storage.db.store.ClinicalStore` owns it.

    Parameters
    ----------
    transactions
        The store's transactions (its reader, batch and audit).
    """

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    # -- whole patient -------------------------------------------------------------------

    def chart(self, subject_id: str) -> PatientChart:
        """Everything the viewer needs for one patient, read in one transaction."""
        with self._tx.read(f"open patient {subject_id}") as session:
            patient_id = session.scalar(
                select(PatientRow.id).where(PatientRow.subject_id == subject_id)
            )
            if patient_id is None:
                raise NotFoundError(f"no patient {subject_id!r}")
            patient, timepoints, lesions, measurements = load_patient(session, patient_id)
            return PatientChart(
                patient,
                timepoints,
                lesions,
                measurements,
                patient_assessments(session, patient_id),
                patient_signatures(session, patient_id),
            )

    def charts(
        self, subject_ids: Sequence[str] | None = None, *, assessments: bool = True
    ) -> list[PatientChart]:
        """The charts of many patients (all, by subject id, by default) in one read.

        One query per table for all of them, not one per patient or record, so a
        cohort of thousands opens in one go.  Patients named in ``subject_ids`` that do
        not exist are left out (compare the subject ids); ``assessments=False`` leaves
        the stored assessments out (their results are the largest part of a chart).
        """
        with self._tx.read("open patients") as session:
            query = select(PatientRow.__table__).order_by(PatientRow.subject_id)
            wanted = None if subject_ids is None else list(dict.fromkeys(subject_ids))
            rows: list[Any] = []  # Core rows, read by patient_from_row as it reads a PatientRow
            for chunk in _chunks(wanted):
                chunked = query if chunk is None else query.where(PatientRow.subject_id.in_(chunk))
                rows.extend(session.execute(chunked))
            patients = {r.id: patient_from_row(r) for r in rows}
            parts: dict[int, tuple[list[Any], ...]] = {
                pid: ([], [], [], [], []) for pid in patients
            }

            tp = TimepointRow.__table__
            few = wanted is not None and len(patients) <= 900

            def collect(index: int, stmt: Any, to_record: Any, patient_of: Any) -> None:
                if few:  # a few named patients: read only theirs
                    column = tp.c.patient_id if index >= 2 else stmt.selected_columns.patient_id
                    stmt = stmt.where(column.in_(list(patients)))
                for row in session.execute(stmt):
                    part = parts.get(patient_of(row))
                    if part is not None:
                        part[index].append(to_record(row))

            collect(
                0,
                select(tp).order_by(tp.c.patient_id, tp.c.order),
                timepoint_from_row,
                lambda r: r.patient_id,
            )
            lesion = LesionRow.__table__
            collect(
                1,
                select(lesion).order_by(lesion.c.patient_id, lesion.c.id),
                lesion_from_row,
                lambda r: r.patient_id,
            )
            # measurements are most of a cohort: only the columns a Measurement needs, read
            # by position (a tenth of the time of whole ORM-like rows read by name)
            mt = MeasurementRow.__table__
            collect(
                2,
                select(*(mt.c[name] for name in _MEASUREMENT_COLUMNS), tp.c.patient_id)
                .join(tp, mt.c.timepoint_id == tp.c.id)
                .order_by(tp.c.patient_id, tp.c.order, mt.c.id),
                _measurement_from_values,
                lambda r: r[-1],
            )
            for index, model, to_record, order in (
                (3, AssessmentRow, assessment_from_row, AssessmentRow.id),
                (4, SignatureRow, signature_from_row, SignatureRow.id),
            ):
                if index == 3 and not assessments:
                    continue
                table = model.__table__
                stmt = (
                    select(table, tp.c.patient_id.label("of_patient"))
                    .join(tp, table.c.timepoint_id == tp.c.id)
                    .order_by(tp.c.patient_id, *((tp.c.order,) if index != 4 else ()), order)
                )
                collect(index, stmt, to_record, lambda r: r.of_patient)
            charts = {
                patients[pid].subject_id: PatientChart(patients[pid], *(list(p) for p in part))
                for pid, part in parts.items()
            }
        if wanted is None:
            return [charts[k] for k in sorted(charts)]
        return [charts[k] for k in wanted if k in charts]

    def import_records(
        self,
        patient: Patient,
        timepoints: Sequence[Timepoint],
        lesions: Sequence[Lesion],
        measurements: Sequence[Measurement],
    ) -> Patient:
        """Store a whole timeline in one transaction (all or nothing), every row audited.

        Records are unsaved and linked as :func:`recist.case_to_records` links
        them: a measurement's ``lesion_id`` is the index of its lesion in
        ``lesions`` and its ``timepoint_id`` the timepoint's ``order``.  The
        patient is created, or updated if ``patient.subject_id`` exists and has
        no timepoints yet.

        Raises
        ------
        DuplicateError
            The patient already has timepoints, or two timepoints share a label.
        IntegrityViolationError
            A timepoint is dated before the baseline.
        """
        with self._tx.write(f"import timeline of {patient.subject_id}") as session:
            row = session.scalar(
                select(PatientRow).where(PatientRow.subject_id == patient.subject_id)
            )
            if row is None:
                row = patient_to_row(patient, PatientRow())
                session.add(row)
                session.flush()
                self._tx.audit(
                    session, "create", "patient", row.id, after=record_values(patient_from_row(row))
                )
            else:
                if session.scalar(
                    select(TimepointRow.id).where(TimepointRow.patient_id == row.id).limit(1)
                ):
                    raise DuplicateError(
                        f"patient {patient.subject_id} already has timepoints; "
                        "import into a new patient"
                    )
                old = patient_from_row(row)
                new = replace(
                    patient,
                    id=row.id,
                    trial=patient.trial or old.trial,
                    site=patient.site or old.site,
                )
                if new != old:
                    patient_to_row(new, row)
                    session.flush()
                    self._tx.audit(
                        session,
                        "update",
                        "patient",
                        row.id,
                        before=record_values(old),
                        after=record_values(new),
                    )
            check_timeline(patient.subject_id, timepoints)
            # Bulk: one INSERT per table and one for the audit events (issue 17); the
            # events are those of one add_* call per record, in the same order.
            tp_rows = [timepoint_to_row(tp, TimepointRow(patient_id=row.id)) for tp in timepoints]
            l_rows = [lesion_to_row(lesion, LesionRow(patient_id=row.id)) for lesion in lesions]
            _number(session, TimepointRow, tp_rows)
            _number(session, LesionRow, l_rows)
            session.add_all(tp_rows)
            session.add_all(l_rows)
            session.flush()
            tp_ids = {tp.order: r.id for tp, r in zip(timepoints, tp_rows, strict=True)}
            now, writer = utcnow(), self._tx.writer_id()
            m_rows = [
                measurement_to_row(
                    m,
                    MeasurementRow(
                        lesion_id=l_rows[m.lesion_id or 0].id,
                        timepoint_id=tp_ids[m.timepoint_id or 0],
                        reader_id=writer,
                        measured_at=m.measured_at or now,
                    ),
                )
                for m in measurements
            ]
            _number(session, MeasurementRow, m_rows)
            session.add_all(m_rows)
            session.flush()
            record_many(
                session,
                writer,
                [
                    *(
                        PendingEvent(
                            "create", "timepoint", r.id, after=record_values(timepoint_from_row(r))
                        )
                        for r in tp_rows
                    ),
                    *(
                        PendingEvent(
                            "create", "lesion", r.id, after=record_values(lesion_from_row(r))
                        )
                        for r in l_rows
                    ),
                    *(
                        PendingEvent(
                            "create",
                            "measurement",
                            r.id,
                            after=record_values(measurement_from_row(r)),
                        )
                        for r in m_rows
                    ),
                ],
            )
            return patient_from_row(row)
