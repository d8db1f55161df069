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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.endpoints import (
    ConversionAssessment,
    ConversionRecord,
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
from storage.db.integrity import audit_head, record_signature_fields, signed_message
from storage.db.mappers import (
    conversion_from_row,
    conversion_to_row,
    record_signature_from_row,
    record_values,
    surgery_from_row,
    surgery_to_row,
    survival_from_row,
    survival_to_row,
)
from storage.db.models import (
    ConversionRecordRow,
    PatientRow,
    RecordSignatureRow,
    SurgeryRecordRow,
    SurvivalRecordRow,
)
from storage.db.passwords import sign as ed25519_sign
from storage.db.records import RecordSignature
from storage.db.signing import Unlock, record_refused_signature
from storage.db.transactions import Transactions

__all__ = ["EndpointRecords", "EndpointRecordRepository", "RecordSignature", "endpoint_values"]


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
    unlock
        ``unlock(username, password)``: the signer re-entering the password; gives
        their decrypted private signing key.
    """

    def __init__(self, transactions: Transactions, unlock: Unlock) -> None:
        self._tx = transactions
        self._unlock = unlock

    # -- reading ---------------------------------------------------------------------------

    def endpoint_records(self, patient_id: int) -> EndpointRecords:
        """The patient's conversion, surgery and survival records and their signatures."""
        with self._tx.read("read endpoint records") as session:
            found: dict[str, Any] = {}
            for entity, (model, from_row, _) in _KINDS.items():
                row = session.scalar(select(model).where(model.patient_id == patient_id))
                found[entity] = from_row(row) if row is not None else None
            signatures = tuple(
                record_signature_from_row(r)
                for r in session.scalars(
                    select(RecordSignatureRow)
                    .where(RecordSignatureRow.patient_id == patient_id)
                    .order_by(RecordSignatureRow.id)
                )
            )
        return EndpointRecords(
            found["conversion_record"],
            found["surgery_record"],
            found["survival_record"],
            signatures,
        )

    def endpoint_records_of(self, patient_ids: Sequence[int]) -> dict[int, EndpointRecords]:
        """The records of many patients in one read: one query per table, not per patient.

        Every id in ``patient_ids`` is a key (patients without records get empty ones).
        """
        wanted = set(patient_ids)
        found: dict[int, dict[str, Any]] = {pid: {} for pid in wanted}
        signatures: dict[int, list[Any]] = {pid: [] for pid in wanted}
        with self._tx.read("read endpoint records") as session:
            for entity, (model, from_row, _) in _KINDS.items():
                for row in session.scalars(select(model)):
                    if row.patient_id in wanted:
                        found[row.patient_id][entity] = from_row(row)
            for sig in session.scalars(select(RecordSignatureRow).order_by(RecordSignatureRow.id)):
                if sig.patient_id in wanted:
                    signatures[sig.patient_id].append(record_signature_from_row(sig))
        return {
            pid: EndpointRecords(
                records.get("conversion_record"),
                records.get("surgery_record"),
                records.get("survival_record"),
                tuple(signatures[pid]),
            )
            for pid, records in found.items()
        }

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

    def save_surgery_record(
        self, record: SurgeryRecord, reason: str | None = None
    ) -> SurgeryRecord:
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
                session,
                "void",
                "record_signature",
                sig.id,
                after={
                    "voided_at": sig.voided_at.isoformat(),
                    "void_reason": reason,
                    "voided_by_id": sig.voided_by_id,
                },
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
            unlocked = self._unlock(investigator.username, password)
            signer = unlocked.reader
        except AuthenticationError:
            record_refused_signature(
                self._tx, "conversion_record", patient_id, investigator.username
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
                audit_head=audit_head(session),  # under the write lock: before the sign event
            )
            session.add(sig)
            session.flush()
            sig.ed25519 = ed25519_sign(
                unlocked.private_key, signed_message("record", record_signature_fields(sig))
            )
            session.flush()
            signature = record_signature_from_row(sig)
            AuditLog.record(
                session,
                reader_id=signer.id,
                action="sign",
                entity="record_signature",
                entity_id=sig.id,
                after=endpoint_values(signature)
                | {"audit_head": sig.audit_head, "ed25519": sig.ed25519},
            )
        return signature

    def verify_record_signature(self, signature_id: int) -> bool:
        """True if the signed content still hashes to the signature's ``content_hash``."""

        with self._tx.read("verify record signature") as session:
            row = session.get(RecordSignatureRow, signature_id)
            if row is None:
                raise NotFoundError(f"no record signature with id {signature_id}")
            return content_hash(json.loads(row.content_json)) == row.content_hash
