"""Issue 13 point 8: one set of input limits for SQLite and PostgreSQL.

SQLite stores a 10 MB organ name, NUL characters and a 1000-character subject
id; PostgreSQL refuses them.  The store refuses them first, on both, with the
same InvalidInputError naming the record and field, so what one site accepts
every site accepts.  The limits are the column lengths (checked here).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import String

from recist.limits import MAX_LENGTH
from recist.model import Lesion, LesionKind, Measurement, MeasurementStatus, Patient, Timepoint
from storage.db import ClinicalStore, InvalidInputError
from storage.db.models import LesionRow, MeasurementRow, PatientRow, ReaderRow, TimepointRow

#: (model column, kind of recist.limits.MAX_LENGTH)
COLUMNS = [
    (PatientRow.subject_id, "subject_id"),
    (PatientRow.trial, "trial"),
    (PatientRow.site, "site"),
    (TimepointRow.label, "label"),
    (TimepointRow.modality, "modality"),
    (TimepointRow.contrast_phase, "contrast_phase"),
    (TimepointRow.study_instance_uid, "uid"),
    (TimepointRow.series_instance_uid, "uid"),
    (TimepointRow.dicom_patient_id, "dicom_patient_id"),
    (LesionRow.code, "lesion_id"),
    (LesionRow.organ, "organ"),
    (LesionRow.location, "location"),
    (LesionRow.tracking_uid, "uid"),
    (MeasurementRow.coalesced_into, "lesion_id"),
    (MeasurementRow.series_instance_uid, "uid"),
    (MeasurementRow.sop_instance_uid, "uid"),
    (ReaderRow.username, "username"),
    (ReaderRow.full_name, "full_name"),
]


@pytest.mark.parametrize(("column", "kind"), COLUMNS, ids=lambda c: str(getattr(c, "key", c)))
def test_limits_are_the_column_lengths(column: object, kind: str) -> None:
    sql_type = column.property.columns[0].type  # type: ignore[attr-defined]
    assert isinstance(sql_type, String)
    assert sql_type.length == MAX_LENGTH[kind]


def _lesion(patient_id: int | None, **values: object) -> Lesion:
    fields = {"code": "T1", "organ": "liver", "tracking_uid": "2.25.1"} | values
    return Lesion(id=None, patient_id=patient_id, kind=LesionKind.TARGET, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("subject", "message"),
    [("S" * 65, "at most 64"), ("S-\x00-1", r"U\+0000"), ("S-\ud800", "lone surrogate")],
)
def test_patient_texts_are_refused_alike(store: ClinicalStore, subject: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"subject_id: .*{message}"):
        store.add_patient(Patient(id=None, subject_id=subject))
    assert store.patients() == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"organ": "x" * 10 * 1024 * 1024}, "organ: is 10485760 characters long; at most 100"),
        ({"organ": "liver\x00"}, r"organ: contains the character U\+0000"),
        ({"location": "seg\nment"}, r"location: contains the character U\+000A"),
        ({"code": "T" * 40}, "code: is 40 characters long; at most 32"),
    ],
)
def test_lesion_texts_are_refused_alike(
    store: ClinicalStore, values: dict[str, object], message: str
) -> None:
    patient = store.add_patient(Patient(id=None, subject_id="S-1"))
    with pytest.raises(InvalidInputError, match=message) as info:
        store.add_lesion(_lesion(patient.id, **values))
    assert len(str(info.value)) < 300
    assert "\n" not in str(info.value)
    assert store.lesions(patient.id) == []  # type: ignore[arg-type]


def test_import_records_refuses_before_writing(store: ClinicalStore) -> None:
    patient = Patient(id=None, subject_id="S-2")
    timepoints = [
        Timepoint(id=None, patient_id=None, order=0, label="baseline", scan_date=date(2026, 1, 5))
    ]
    lesions = [_lesion(None, organ="lung\x00")]
    measurements = [
        Measurement(
            id=None,
            lesion_id=0,
            timepoint_id=0,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=12.0,
        )
    ]
    with pytest.raises(InvalidInputError, match="organ"):
        store.import_records(patient, timepoints, lesions, measurements)
    assert [p.subject_id for p in store.patients()] == []


def test_measurement_note_may_span_lines(store: ClinicalStore) -> None:
    patient = store.add_patient(Patient(id=None, subject_id="S-3"))
    tp = store.add_timepoint(Timepoint(id=None, patient_id=patient.id, order=0, label="B"))
    lesion = store.add_lesion(_lesion(patient.id))
    stored = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=lesion.id,
            timepoint_id=tp.id,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=12.0,
            note="first\nsecond",
        )
    )
    assert stored.note == "first\nsecond"
    with pytest.raises(InvalidInputError, match="note"):
        store.add_measurement(
            Measurement(
                id=None,
                lesion_id=lesion.id,
                timepoint_id=tp.id,
                reader_id=None,
                status=MeasurementStatus.MEASURED,
                long_axis_mm=12.0,
                note="nul\x00",
            )
        )
