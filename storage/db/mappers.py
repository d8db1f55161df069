"""ORM row ↔ domain record mappers; the only place that knows both shapes."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from recist.endpoints import (
    ChildPughInputs,
    ConversionRecord,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
)
from recist.limits import text_problem
from recist.model import (
    Criteria,
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Method,
    Patient,
    Reader,
    Role,
    Segment,
    Timepoint,
)
from storage.db.errors import InvalidInputError
from storage.db.models import (
    AssessmentRow,
    ConversionRecordRow,
    LesionRow,
    MeasurementRow,
    PatientRow,
    ReaderRow,
    RecordSignatureRow,
    SignatureRow,
    SurgeryRecordRow,
    SurvivalRecordRow,
    TimepointRow,
)
from storage.db.records import RecordSignature, Signature, StoredAssessment


def record_values(record: object) -> dict[str, Any]:
    """The fields of a domain record as JSON-able values (for audit events and hashes)."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        found = fields(record)  # type: ignore[arg-type]  # every domain record is a dataclass
        names = _FIELD_NAMES[type(record)] = tuple(f.name for f in found)
    return {name: _jsonable(getattr(record, name)) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return record_values(value)
    return value


def changed_values(old: object, new: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ between two records, as (before, after) dicts."""
    before, after = record_values(old), record_values(new)
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before[k] for k in keys}, {k: after[k] for k in keys}


def reader_from_row(row: ReaderRow) -> Reader:
    """ReaderRow → Reader."""
    return Reader(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        active=row.active,
    )


def patient_from_row(row: PatientRow) -> Patient:
    """PatientRow → Patient."""
    return Patient(
        id=row.id,
        subject_id=row.subject_id,
        trial=row.trial,
        site=row.site,
        first_dose_date=row.first_dose_date,
        criteria=Criteria(row.criteria),
        confirmation_required=row.confirmation_required,
        min_sd_days=row.min_sd_days,
    )


def check_texts(what: str, *texts: tuple[str, str | None, str]) -> None:
    """Refuse a text that some site's database could not store (see :mod:`recist.limits`).

    Parameters
    ----------
    what : str
        The record, for the message (``"patient S-001"``).
    texts : tuple of (field, value, kind)
        Each text (None is skipped) with its kind of :data:`recist.limits.MAX_LENGTH`.

    Raises
    ------
    InvalidInputError
        Naming the record and the field.
    """
    for name, value, kind in texts:
        if value is None:
            continue
        problem = text_problem(value, kind, multiline=kind == "note")
        if problem is not None:
            raise InvalidInputError(f"{_shown(what)} {name}: {problem}")


def _shown(what: str) -> str:
    """A record name fit for a one-line message (the name itself may be the bad text)."""
    return what if what.isprintable() and len(what) <= 80 else ascii(what[:80])


def patient_to_row(patient: Patient, row: PatientRow) -> PatientRow:
    """Copy a Patient's values onto a row (the id is not copied)."""
    check_texts(
        f"patient {patient.subject_id}",
        ("subject_id", patient.subject_id, "subject_id"),
        ("trial", patient.trial, "trial"),
        ("site", patient.site, "site"),
    )
    row.subject_id, row.trial, row.site = patient.subject_id, patient.trial, patient.site
    row.first_dose_date, row.criteria = patient.first_dose_date, patient.criteria.value
    row.confirmation_required, row.min_sd_days = patient.confirmation_required, patient.min_sd_days
    return row


_TIMEPOINT_FIELDS = (
    "order",
    "label",
    "scan_date",
    "cycle",
    "study_instance_uid",
    "series_instance_uid",
    "modality",
    "slice_thickness_mm",
    "contrast_phase",
    "dicom_patient_id",
)


def timepoint_from_row(row: TimepointRow) -> Timepoint:
    """TimepointRow → Timepoint."""
    return Timepoint(
        id=row.id, patient_id=row.patient_id, **{k: getattr(row, k) for k in _TIMEPOINT_FIELDS}
    )


def timepoint_to_row(timepoint: Timepoint, row: TimepointRow) -> TimepointRow:
    """Copy a Timepoint's values onto a row (id and patient are not copied)."""
    check_texts(
        f"timepoint {timepoint.label}",
        ("label", timepoint.label, "label"),
        ("study_instance_uid", timepoint.study_instance_uid, "uid"),
        ("series_instance_uid", timepoint.series_instance_uid, "uid"),
        ("modality", timepoint.modality, "modality"),
        ("contrast_phase", timepoint.contrast_phase, "contrast_phase"),
        ("dicom_patient_id", timepoint.dicom_patient_id, "dicom_patient_id"),
    )
    for name in _TIMEPOINT_FIELDS:
        setattr(row, name, getattr(timepoint, name))
    return row


def lesion_from_row(row: LesionRow) -> Lesion:
    """LesionRow → Lesion."""
    return Lesion(
        id=row.id,
        patient_id=row.patient_id,
        code=row.code,
        kind=LesionKind(row.kind),
        organ=row.organ,
        tracking_uid=row.tracking_uid,
        location=row.location,
        nodal=row.nodal,
    )


def lesion_to_row(lesion: Lesion, row: LesionRow) -> LesionRow:
    """Copy a Lesion's values onto a row (id and patient are not copied)."""
    check_texts(
        f"lesion {lesion.code}",
        ("code", lesion.code, "lesion_id"),
        ("organ", lesion.organ, "organ"),
        ("location", lesion.location, "location"),
        ("tracking_uid", lesion.tracking_uid, "uid"),
    )
    row.code, row.kind, row.organ = lesion.code, lesion.kind.value, lesion.organ
    row.tracking_uid, row.location, row.nodal = lesion.tracking_uid, lesion.location, lesion.nodal
    return row


def _segment_to_dict(segment: Segment) -> dict[str, list[float]]:
    return {
        "start_px": list(segment.start_px),
        "end_px": list(segment.end_px),
        "start_lps_mm": list(segment.start_lps_mm),
        "end_lps_mm": list(segment.end_lps_mm),
    }


def _segment_from_dict(data: dict[str, list[float]]) -> Segment:
    return Segment(
        start_px=tuple(data["start_px"]),  # type: ignore[arg-type]  # 2 numbers, as stored
        end_px=tuple(data["end_px"]),  # type: ignore[arg-type]  # 2 numbers, as stored
        start_lps_mm=tuple(data["start_lps_mm"]),  # type: ignore[arg-type]  # 3 numbers, as stored
        end_lps_mm=tuple(data["end_lps_mm"]),  # type: ignore[arg-type]  # 3 numbers, as stored
    )


def geometry_to_json(geometry: DrawnGeometry | None) -> str | None:
    """DrawnGeometry → JSON text (None stays None)."""
    if geometry is None:
        return None
    return json.dumps(
        {
            "series_instance_uid": geometry.series_instance_uid,
            "sop_instance_uid": geometry.sop_instance_uid,
            "slice_index": geometry.slice_index,
            "long_axis": _segment_to_dict(geometry.long_axis),
            "short_axis": _segment_to_dict(geometry.short_axis) if geometry.short_axis else None,
            "frame_number": geometry.frame_number,
        }
    )


def geometry_from_json(text: str | None) -> DrawnGeometry | None:
    """JSON text → DrawnGeometry (None stays None)."""
    if not text:
        return None
    data = json.loads(text)
    short = data.get("short_axis")
    return DrawnGeometry(
        series_instance_uid=data["series_instance_uid"],
        sop_instance_uid=data["sop_instance_uid"],
        slice_index=int(data["slice_index"]),
        long_axis=_segment_from_dict(data["long_axis"]),
        short_axis=_segment_from_dict(short) if short else None,
        frame_number=data.get("frame_number"),  # absent in rows written before 0002
    )


def measurement_from_row(row: MeasurementRow) -> Measurement:
    """MeasurementRow → Measurement."""
    return Measurement(
        id=row.id,
        lesion_id=row.lesion_id,
        timepoint_id=row.timepoint_id,
        reader_id=row.reader_id,
        status=MeasurementStatus(row.status),
        long_axis_mm=row.long_axis_mm,
        short_axis_mm=row.short_axis_mm,
        geometry=geometry_from_json(row.geometry_json),
        method=Method(row.method),
        measured_at=row.measured_at,
        fragments_mm=tuple(json.loads(row.fragments_json or "[]")),
        coalesced_into=row.coalesced_into,
        equivocal=row.equivocal,
        note=row.note,
    )


def measurement_to_row(measurement: Measurement, row: MeasurementRow) -> MeasurementRow:
    """Copy a Measurement's values onto a row (not the id, lesion, timepoint, reader or time)."""
    geometry = measurement.geometry
    check_texts(
        "measurement",
        ("coalesced_into", measurement.coalesced_into, "lesion_id"),
        ("note", measurement.note, "note"),
        ("series_instance_uid", geometry.series_instance_uid if geometry else None, "uid"),
        ("sop_instance_uid", geometry.sop_instance_uid if geometry else None, "uid"),
    )
    row.status, row.method = measurement.status.value, measurement.method.value
    row.long_axis_mm, row.short_axis_mm = measurement.long_axis_mm, measurement.short_axis_mm
    row.geometry_json = geometry_to_json(measurement.geometry)
    geometry = measurement.geometry
    row.series_instance_uid = geometry.series_instance_uid if geometry else None
    row.sop_instance_uid = geometry.sop_instance_uid if geometry else None
    row.frame_number = geometry.frame_number if geometry else None
    row.fragments_json = json.dumps(list(measurement.fragments_mm))
    row.coalesced_into, row.equivocal, row.note = (
        measurement.coalesced_into,
        measurement.equivocal,
        measurement.note,
    )
    return row


def signature_from_row(row: SignatureRow) -> Signature:
    """SignatureRow → Signature."""
    return Signature(
        id=row.id,
        timepoint_id=row.timepoint_id,
        assessment_id=row.assessment_id,
        reader_id=row.reader_id,
        printed_name=row.printed_name,
        meaning=row.meaning,
        signed_at=row.signed_at,
        content_hash=row.content_hash,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
        voided_by_id=row.voided_by_id,
    )


def assessment_from_row(row: AssessmentRow) -> StoredAssessment:
    """AssessmentRow → StoredAssessment."""
    return StoredAssessment(
        id=row.id,
        timepoint_id=row.timepoint_id,
        overall=row.overall,
        engine_version=row.engine_version,
        computed_at=row.computed_at,
        frozen=row.frozen,
        result=json.loads(row.result_json),
    )


# -- the endpoint records (conversion, surgery, survival) and their signatures ----------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _procedures(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split("+") if p)


def conversion_from_row(row: ConversionRecordRow) -> ConversionRecord:
    """ConversionRecordRow → ConversionRecord."""
    return ConversionRecord(
        id=row.id,
        patient_id=row.patient_id,
        mdt_date=row.mdt_date,
        mdt_outcome=row.mdt_outcome,  # type: ignore[arg-type]  # __post_init__ converts
        procedures=_procedures(row.procedures),  # type: ignore[arg-type]  # __post_init__ converts
        tumour_free_achievable=row.tumour_free_achievable,
        flr_pct=row.flr_pct,  # type: ignore[arg-type]  # __post_init__ converts
        flr_source=row.flr_source,  # type: ignore[arg-type]  # __post_init__ converts
        child_pugh=ChildPughInputs(
            bilirubin=row.bilirubin,  # type: ignore[arg-type]  # __post_init__ converts
            bilirubin_unit=row.bilirubin_unit,  # type: ignore[arg-type]  # __post_init__ converts
            albumin=row.albumin,  # type: ignore[arg-type]  # __post_init__ converts
            albumin_unit=row.albumin_unit,  # type: ignore[arg-type]  # __post_init__ converts
            inr=row.inr,  # type: ignore[arg-type]  # __post_init__ converts
            ascites=row.ascites,  # type: ignore[arg-type]  # __post_init__ converts
            encephalopathy=row.encephalopathy,  # type: ignore[arg-type]  # __post_init__ converts
        ),
        other_labs_ok=row.other_labs_ok,
        other_labs_note=row.other_labs_note,
        note=row.note,
    )


def conversion_to_row(record: ConversionRecord, row: ConversionRecordRow) -> ConversionRecordRow:
    """Copy a ConversionRecord's values (not id / patient) onto a row."""
    cp = record.child_pugh
    row.mdt_date = record.mdt_date
    row.mdt_outcome = record.mdt_outcome.value if record.mdt_outcome else None
    row.procedures = "+".join(p.value for p in record.procedures)
    row.tumour_free_achievable = record.tumour_free_achievable
    row.flr_pct = _text(record.flr_pct)
    row.flr_source = record.flr_source.value
    row.bilirubin, row.bilirubin_unit = _text(cp.bilirubin), cp.bilirubin_unit.value
    row.albumin, row.albumin_unit = _text(cp.albumin), cp.albumin_unit.value
    row.inr = _text(cp.inr)
    row.ascites = cp.ascites.value if cp.ascites else None
    row.encephalopathy = cp.encephalopathy.value if cp.encephalopathy else None
    row.other_labs_ok = record.other_labs_ok
    row.other_labs_note = record.other_labs_note
    row.note = record.note
    return row


def surgery_from_row(row: SurgeryRecordRow) -> SurgeryRecord:
    """SurgeryRecordRow → SurgeryRecord."""
    metastases = tuple(
        ResectedMetastasis(
            label=m["label"],
            residual_tumour_pct=m.get("residual_tumour_pct"),
            trg=m.get("trg"),
            lesion_code=m.get("lesion_code", ""),
        )
        for m in json.loads(row.metastases_json or "[]")
    )
    return SurgeryRecord(
        id=row.id,
        patient_id=row.patient_id,
        surgery_date=row.surgery_date,
        procedures=_procedures(row.procedures),  # type: ignore[arg-type]  # __post_init__ converts
        margin=row.margin,  # type: ignore[arg-type]  # __post_init__ converts
        metastases=metastases,
        note=row.note,
    )


def surgery_to_row(record: SurgeryRecord, row: SurgeryRecordRow) -> SurgeryRecordRow:
    """Copy a SurgeryRecord's values onto a row."""
    row.surgery_date = record.surgery_date
    row.procedures = "+".join(p.value for p in record.procedures)
    row.margin = record.margin.value if record.margin else None
    row.metastases_json = json.dumps(
        [record_values(m) for m in record.metastases],
        sort_keys=True,
        separators=(",", ":"),
        default=str,  # Decimal as its exact text
    )
    row.note = record.note
    return row


_SURVIVAL_FIELDS = (
    "treatment_start",
    "death_date",
    "last_known_alive",
    "off_study_date",
    "off_study_reason",
    "new_therapy_date",
    "death_cause",
    "note",
)


def survival_from_row(row: SurvivalRecordRow) -> SurvivalRecord:
    """SurvivalRecordRow → SurvivalRecord."""
    return SurvivalRecord(
        id=row.id, patient_id=row.patient_id, **{f: getattr(row, f) for f in _SURVIVAL_FIELDS}
    )


def survival_to_row(record: SurvivalRecord, row: SurvivalRecordRow) -> SurvivalRecordRow:
    """Copy a SurvivalRecord's values onto a row."""
    for name in _SURVIVAL_FIELDS:
        setattr(row, name, getattr(record, name))
    return row


def record_signature_from_row(row: RecordSignatureRow) -> RecordSignature:
    """RecordSignatureRow → RecordSignature."""
    return RecordSignature(
        id=row.id,
        entity=row.entity,
        entity_id=row.entity_id,
        patient_id=row.patient_id,
        reader_id=row.reader_id,
        printed_name=row.printed_name,
        meaning=row.meaning,
        signed_at=row.signed_at,
        content_hash=row.content_hash,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
    )
