"""The trial's endpoint records: conversion (signed by the investigator), surgery, survival.

:class:`EndpointRecordRepository` is a collaborator that
:class:`~storage.db.store.ClinicalStore` owns and delegates to.  One record of each kind
per patient; saving creates or updates it in one transaction with its audit
event (``create`` / ``update`` of ``conversion_record``, ``surgery_record``,
``survival_record``, old → new values).  The conversion record is signed by an
investigator like a timepoint (password re-entered, :func:`storage.db.canonical.content_hash`
of the signed content); changing a signed conversion record needs a reason and
voids the signature (audited, never deleted).  The signed content is the record's
values and the derived conversion result (each criterion with its reason) at the
moment of signing, recomputed here from the stored measurements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.endpoints import (
    ChildPughInputs,
    ConversionAssessment,
    ConversionRecord,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
)
from recist.model import Reader, Role
from storage.db.audit import AuditLog
from storage.db.base import utcnow
from storage.db.canonical import content_hash, to_json
from storage.db.errors import (
    AuthenticationError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ReasonRequiredError,
)
from storage.db.mappers import record_values
from storage.db.models import (
    ConversionRecordRow,
    PatientRow,
    RecordSignatureRow,
    SurgeryRecordRow,
    SurvivalRecordRow,
)
from storage.db.transactions import Authenticate, Transactions

__all__ = ["EndpointRecords", "EndpointRecordRepository", "RecordSignature", "endpoint_values"]


@dataclass(frozen=True, slots=True)
class RecordSignature:
    """A signature of a patient-level record (``entity`` e.g. ``"conversion_record"``)."""

    id: int
    entity: str
    entity_id: int
    patient_id: int
    reader_id: int
    printed_name: str
    meaning: str
    signed_at: datetime
    content_hash: str
    voided_at: datetime | None = None
    void_reason: str | None = None

    @property
    def valid(self) -> bool:
        """Not voided."""
        return self.voided_at is None


@dataclass(frozen=True, slots=True)
class EndpointRecords:
    """A patient's endpoint records in one read (None where not entered)."""

    conversion: ConversionRecord | None
    surgery: SurgeryRecord | None
    survival: SurvivalRecord | None
    signatures: tuple[RecordSignature, ...] = ()

    @property
    def conversion_signature(self) -> RecordSignature | None:
        """The valid signature of the conversion record, if any."""
        return next(
            (s for s in self.signatures if s.entity == "conversion_record" and s.valid), None
        )


def endpoint_values(record: object) -> dict[str, Any]:
    """A record's values as JSON-native data (Decimal as exact text), for audit and hashes."""
    loaded: dict[str, Any] = json.loads(to_json(record_values(record)) or "{}")
    return loaded


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
        mdt_outcome=row.mdt_outcome,  # type: ignore[arg-type]
        procedures=_procedures(row.procedures),  # type: ignore[arg-type]
        tumour_free_achievable=row.tumour_free_achievable,
        flr_pct=row.flr_pct,  # type: ignore[arg-type]
        flr_source=row.flr_source,  # type: ignore[arg-type]
        child_pugh=ChildPughInputs(
            bilirubin=row.bilirubin,  # type: ignore[arg-type]
            bilirubin_unit=row.bilirubin_unit,  # type: ignore[arg-type]
            albumin=row.albumin,  # type: ignore[arg-type]
            albumin_unit=row.albumin_unit,  # type: ignore[arg-type]
            inr=row.inr,  # type: ignore[arg-type]
            ascites=row.ascites,  # type: ignore[arg-type]
            encephalopathy=row.encephalopathy,  # type: ignore[arg-type]
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
        procedures=_procedures(row.procedures),  # type: ignore[arg-type]
        margin=row.margin,  # type: ignore[arg-type]
        metastases=metastases,
        note=row.note,
    )


def surgery_to_row(record: SurgeryRecord, row: SurgeryRecordRow) -> SurgeryRecordRow:
    """Copy a SurgeryRecord's values onto a row."""
    row.surgery_date = record.surgery_date
    row.procedures = "+".join(p.value for p in record.procedures)
    row.margin = record.margin.value if record.margin else None
    row.metastases_json = json.dumps(
        [endpoint_values(m) for m in record.metastases], sort_keys=True, separators=(",", ":")
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


def signature_from_row(row: RecordSignatureRow) -> RecordSignature:
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


_KINDS: dict[str, tuple[type[Any], Any, Any]] = {
    "conversion_record": (ConversionRecordRow, conversion_from_row, conversion_to_row),
    "surgery_record": (SurgeryRecordRow, surgery_from_row, surgery_to_row),
    "survival_record": (SurvivalRecordRow, survival_from_row, survival_to_row),
}


def conversion_assessment_values(assessment: ConversionAssessment) -> dict[str, Any]:
    """The derived conversion result as JSON-native data (signed with the record)."""
    return {
        "met": assessment.met,
        "criteria": [
            {"code": c.code, "status": c.status.value, "reason": c.reason}
            for c in assessment.criteria
        ],
        "missing": list(assessment.missing),
        "child_pugh": None
        if assessment.child_pugh is None
        else {
            "score": assessment.child_pugh.score,
            "class": assessment.child_pugh.child_class,
        },
        "notes": list(assessment.notes),
    }


class EndpointRecordRepository:
    """Conversion, surgery and survival records; a :class:`~storage.db.store.ClinicalStore` owns it.

    Parameters
    ----------
    transactions
        The store's transactions (its reader, batch and audit).
    authenticate
        ``authenticate(username, password)``: the signer re-entering the password.
    """

    def __init__(self, transactions: Transactions, authenticate: Authenticate) -> None:
        self._tx = transactions
        self._authenticate = authenticate

    # -- reading ---------------------------------------------------------------------------

    def endpoint_records(self, patient_id: int) -> EndpointRecords:
        """The patient's conversion, surgery and survival records and their signatures."""
        with self._tx.read("read endpoint records") as session:
            found: dict[str, Any] = {}
            for entity, (model, from_row, _) in _KINDS.items():
                row = session.scalar(select(model).where(model.patient_id == patient_id))
                found[entity] = from_row(row) if row is not None else None
            signatures = tuple(
                signature_from_row(r)
                for r in session.scalars(
                    select(RecordSignatureRow)
                    .where(RecordSignatureRow.patient_id == patient_id)
                    .order_by(RecordSignatureRow.id)
                )
            )
        return EndpointRecords(
            found["conversion_record"], found["surgery_record"], found["survival_record"],
            signatures,
        )

    def conversion_record(self, patient_id: int) -> ConversionRecord | None:
        """The patient's conversion record, or None."""
        return self.endpoint_records(patient_id).conversion

    def surgery_record(self, patient_id: int) -> SurgeryRecord | None:
        """The patient's surgery and pathology record, or None."""
        return self.endpoint_records(patient_id).surgery

    def survival_record(self, patient_id: int) -> SurvivalRecord | None:
        """The patient's survival data, or None."""
        return self.endpoint_records(patient_id).survival

    # -- writing ---------------------------------------------------------------------------

    def save_conversion_record(
        self, record: ConversionRecord, reason: str | None = None
    ) -> ConversionRecord:
        """Create or update the patient's conversion record (a signed one needs ``reason``)."""
        saved: ConversionRecord = self._save("conversion_record", record, reason)
        return saved

    def save_surgery_record(self, record: SurgeryRecord, reason: str | None = None) -> SurgeryRecord:
        """Create or update the patient's surgery and pathology record."""
        saved: SurgeryRecord = self._save("surgery_record", record, reason)
        return saved

    def save_survival_record(
        self, record: SurvivalRecord, reason: str | None = None
    ) -> SurvivalRecord:
        """Create or update the patient's survival data."""
        saved: SurvivalRecord = self._save("survival_record", record, reason)
        return saved

    def _save(self, entity: str, record: Any, reason: str | None) -> Any:
        model, from_row, to_row = _KINDS[entity]
        with self._tx.write(f"save {entity.replace('_', ' ')}") as session:
            patient = session.get(PatientRow, record.patient_id) if record.patient_id else None
            if patient is None:
                raise NotFoundError(f"no patient with id {record.patient_id}")
            row = session.scalar(select(model).where(model.patient_id == record.patient_id))
            if row is None:
                row = to_row(record, model(patient_id=record.patient_id))
                session.add(row)
                session.flush()
                stored = from_row(row)
                self._tx.audit(
                    session, "create", entity, row.id, after=endpoint_values(stored), reason=reason
                )
                return stored
            old = from_row(row)
            if replace(old, id=None) == replace(record, id=None, patient_id=old.patient_id):
                return old
            self._void_record_signatures(session, entity, row.id, reason, patient.subject_id)
            to_row(record, row)
            session.flush()
            new = from_row(row)
            old_values, new_values = endpoint_values(old), endpoint_values(new)
            keys = [k for k in new_values if old_values.get(k) != new_values[k]]
            before = {k: old_values[k] for k in keys}
            after = {k: new_values[k] for k in keys}
            self._tx.audit(
                session, "update", entity, row.id, before=before, after=after, reason=reason
            )
            return new

    def _void_record_signatures(
        self, session: Session, entity: str, entity_id: int, reason: str | None, subject: str
    ) -> None:
        active = list(
            session.scalars(
                select(RecordSignatureRow).where(
                    RecordSignatureRow.entity == entity,
                    RecordSignatureRow.entity_id == entity_id,
                    RecordSignatureRow.voided_at.is_(None),
                )
            )
        )
        if not active:
            return
        if not reason or not reason.strip():
            raise ReasonRequiredError(
                f"the {entity.replace('_', ' ')} of {subject} is signed by "
                f"{active[0].printed_name}: give a reason to change it (the signature is voided)"
            )
        for sig in active:
            sig.voided_at = utcnow()
            sig.void_reason = reason
            sig.voided_by_id = self._tx.writer_id()
            session.flush()
            self._tx.audit(
                session, "void", "record_signature", sig.id,
                after={"voided_at": sig.voided_at.isoformat(), "void_reason": reason,
                       "voided_by_id": sig.voided_by_id},
                reason=reason,
            )

    # -- signing ---------------------------------------------------------------------------

    def sign_conversion_record(
        self,
        patient_id: int,
        investigator: Reader,
        password: str,
        assessment: ConversionAssessment,
        meaning: str | None = None,
    ) -> RecordSignature:
        """The investigator signs the patient's conversion record and its derived result.

        Parameters
        ----------
        patient_id
            Whose record.
        investigator, password
            The signer (an active investigator) and the password re-entered now.
        assessment
            The derived result shown to the signer (recomputed by the caller from
            the stored record and measurements: :func:`recist.endpoints.assess_conversion`).
        meaning
            Default ``"I confirm the conversion record of SUBJECT: criteria met"``.

        Raises
        ------
        NotFoundError
            No conversion record.
        PermissionDeniedError, AuthenticationError
            Not an investigator; wrong password (the refusal is audited).
        DuplicateError
            Already carries a valid signature.
        """

        try:
            signer = self._authenticate(investigator.username, password)
        except AuthenticationError:
            with self._tx.write("record refused signature") as session:
                self._tx.audit(
                    session, "sign_refused", "conversion_record", patient_id,
                    after={"username": investigator.username, "why": "authentication failed"},
                )
            raise
        if signer.role is not Role.INVESTIGATOR:
            raise PermissionDeniedError(
                f"{signer.full_name} is {signer.role.value}; only an investigator can sign"
            )
        with self._tx.write("sign conversion record") as session:
            patient = session.get(PatientRow, patient_id)
            row = session.scalar(
                select(ConversionRecordRow).where(ConversionRecordRow.patient_id == patient_id)
            )
            if patient is None or row is None:
                raise NotFoundError(f"patient {patient_id} has no conversion record to sign")
            active = session.scalar(
                select(RecordSignatureRow).where(
                    RecordSignatureRow.entity == "conversion_record",
                    RecordSignatureRow.entity_id == row.id,
                    RecordSignatureRow.voided_at.is_(None),
                )
            )
            if active is not None:
                raise DuplicateError(
                    f"the conversion record of {patient.subject_id} is already signed by "
                    f"{active.printed_name}"
                )
            content = {
                "subject_id": patient.subject_id,
                "record": endpoint_values(conversion_from_row(row)),
                "assessment": conversion_assessment_values(assessment),
            }
            verdict = {True: "criteria met", False: "criteria not met", None: "undetermined"}
            sig = RecordSignatureRow(
                entity="conversion_record",
                entity_id=row.id,
                patient_id=patient_id,
                reader_id=signer.id,
                printed_name=signer.full_name,
                meaning=meaning
                or f"I confirm the conversion record of {patient.subject_id}: "
                f"{verdict[assessment.met]}",
                signed_at=utcnow(),
                content_json=to_json(content) or "{}",
                content_hash=content_hash(content),
            )
            session.add(sig)
            session.flush()
            signature = signature_from_row(sig)
            AuditLog.record(
                session,
                reader_id=signer.id,
                action="sign",
                entity="record_signature",
                entity_id=sig.id,
                after=endpoint_values(signature),
            )
        return signature

    def verify_record_signature(self, signature_id: int) -> bool:
        """True if the signed content still hashes to the signature's ``content_hash``."""

        with self._tx.read("verify record signature") as session:
            row = session.get(RecordSignatureRow, signature_id)
            if row is None:
                raise NotFoundError(f"no record signature with id {signature_id}")
            return content_hash(json.loads(row.content_json)) == row.content_hash
