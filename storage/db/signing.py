"""Assessments (recomputed by :mod:`recist`) and electronic signatures of timepoints.

:class:`Signatures` is a collaborator that :class:`~storage.db.store.ClinicalStore`
owns and delegates to.  Signing (21 CFR Part 11 §11.50, §11.70, §11.200): only an investigator,
re-entering the password; the timepoint's assessment is recomputed and frozen
in a new ``assessment`` row together with the measurements it came from, and
the signature stores the SHA-256 of that frozen content and the investigator's
Ed25519 signature over it and the audit head (:mod:`storage.db.integrity`),
made with the private key the password decrypts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist.model import Measurement, Reader, Role, Timepoint
from storage.db.audit import AuditLog
from storage.db.base import utcnow
from storage.db.canonical import content_hash, to_json
from storage.db.charts import load_patient, patient_assessments, patient_signatures
from storage.db.errors import (
    AuthenticationError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    RepositoryError,
)
from storage.db.integrity import audit_head, signed_message, timepoint_signature_fields
from storage.db.mappers import (
    record_values,
    signature_from_row,
)
from storage.db.models import (
    AssessmentRow,
    SignatureRow,
    TimepointRow,
)
from storage.db.passwords import sign as ed25519_sign
from storage.db.readers import UnlockedReader
from storage.db.records import Signature, StoredAssessment
from storage.db.transactions import Transactions

#: ``unlock(username, password)``: the signer re-entering the password, and their private key.
Unlock = Callable[[str, str], UnlockedReader]


def _one_per_lesion(measurements: list[Measurement], reader_id: int | None) -> list[Measurement]:
    """One measurement per lesion × timepoint: the reader's own, else the newest (entry order)."""

    def rank(m: Measurement) -> tuple[bool, int]:
        return (m.reader_id == reader_id, m.id or 0)

    best: dict[tuple[int | None, int | None], Measurement] = {}
    for m in measurements:
        key = (m.lesion_id, m.timepoint_id)
        if key not in best or rank(m) > rank(best[key]):
            best[key] = m
    return [m for m in measurements if best[(m.lesion_id, m.timepoint_id)] is m]


def _by_label(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The engine's per-timepoint results keyed by timepoint label (unique per patient)."""
    return {str(tp.get("label")): tp for tp in data.get("timepoints", [])}


def record_refused_signature(tx: Transactions, entity: str, entity_id: int, username: str) -> None:
    """Audit a signature attempt with a wrong password (§11.300(d): attempted misuse).

    The one rule for timepoints and endpoint records: the event is written in the name of
    the reader whose store the attempt went through when that reader's key is unlocked
    (who was at the keyboard), else under no reader -- the claimed signer proved nothing,
    so nothing is written in their name.  The claimed username is in the event.
    """
    after = {"username": username, "why": "authentication failed"}
    try:
        with tx.write("record refused signature") as session:
            tx.audit(session, "sign_refused", entity, entity_id, after=after)
        return
    except (AuthenticationError, PermissionDeniedError):
        pass  # the store's reader cannot write now: recorded under no reader
    with tx.write("record refused signature") as session:
        AuditLog.record(
            session,
            reader_id=None,
            action="sign_refused",
            entity=entity,
            entity_id=entity_id,
            after=after,
        )


class Signatures:
    """Assessments and timepoint signatures, owned by a :class:`~storage.db.store.ClinicalStore`.

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

    # -- assessments ---------------------------------------------------------------------

    def _evaluate(
        self, session: Session, patient_id: int
    ) -> tuple[Any, dict[str, Any], list[Timepoint], list[Measurement]]:
        import recist

        patient, timepoints, lesions, measurements = load_patient(session, patient_id)
        if not timepoints:
            raise RepositoryError(f"patient {patient.subject_id} has no timepoint to assess")
        chosen = _one_per_lesion(measurements, self._tx.reader.id if self._tx.reader else None)
        result = recist.evaluate(recist.case_from_records(patient, timepoints, lesions, chosen))
        return result, recist.result_to_dict(result), timepoints, chosen

    def assess(self, patient_id: int) -> Any:
        """Recompute the patient's responses with :mod:`recist` and store them per timepoint.

        Frozen (signed) assessments are never touched; a stored assessment that
        changed is updated and audited.

        Returns
        -------
        recist.CaseResult

        Raises
        ------
        recist.RecistError
            The stored measurements do not make a case the engine accepts.
        """
        with self._tx.write(f"assess patient {patient_id}") as session:
            result, data, timepoints, _ = self._evaluate(session, patient_id)
            version = str(getattr(result, "engine_version", ""))
            current = {
                r.timepoint_id: r
                for r in session.scalars(
                    select(AssessmentRow)
                    .join(TimepointRow, AssessmentRow.timepoint_id == TimepointRow.id)
                    .where(TimepointRow.patient_id == patient_id, AssessmentRow.frozen.is_(False))
                )
            }
            results = _by_label(data)
            for tp in timepoints:
                tp_data = results.get(tp.label)
                if tp_data is None:
                    continue
                text = to_json(tp_data) or "{}"
                overall = tp_data.get("overall")
                row = current.get(tp.id) if tp.id is not None else None
                if row is not None and row.result_json == text and row.engine_version == version:
                    continue
                if row is None:
                    row = AssessmentRow(
                        timepoint_id=tp.id, frozen=False, result_json="{}", engine_version=version
                    )
                    session.add(row)
                    before = None
                else:
                    before = {
                        "overall": row.overall,
                        "engine_version": row.engine_version,
                        "result": json.loads(row.result_json),
                    }
                row.overall, row.engine_version, row.result_json, row.computed_at = (
                    overall,
                    version,
                    text,
                    utcnow(),
                )
                session.flush()
                self._tx.audit(
                    session,
                    "update" if before else "create",
                    "assessment",
                    row.id,
                    before=before,
                    after={
                        "timepoint_id": tp.id,
                        "overall": overall,
                        "engine_version": version,
                        "result": tp_data,
                    },
                )
        return result

    def assessments(self, patient_id: int) -> list[StoredAssessment]:
        """Stored assessments of the patient (current and frozen), by timepoint order."""
        with self._tx.read("list assessments") as session:
            return patient_assessments(session, patient_id)

    # -- signatures ----------------------------------------------------------------------

    def sign(
        self, timepoint_id: int, investigator: Reader, password: str, meaning: str | None = None
    ) -> Signature:
        """Sign the confirmation of a timepoint's response.

        Parameters
        ----------
        timepoint_id
            The timepoint whose (recomputed, then frozen) assessment is signed.
        investigator
            The signer; must be an active investigator.
        password
            The signer's password, re-entered for this signature.
        meaning
            What the signature means; default ``"I confirm the response PR at C6"``.

        Returns
        -------
        Signature

        Raises
        ------
        PermissionDeniedError
            The signer is not an investigator.
        AuthenticationError
            Wrong password or inactive reader.
        DuplicateError
            The timepoint already carries a valid signature.
        RepositoryError
            The timepoint has no response to confirm (e.g. the baseline).
        """
        try:
            unlocked = self._unlock(investigator.username, password)
            signer = unlocked.reader
        except AuthenticationError:
            record_refused_signature(self._tx, "timepoint", timepoint_id, investigator.username)
            raise
        if signer.role is not Role.INVESTIGATOR:
            raise PermissionDeniedError(
                f"{signer.full_name} is {signer.role.value}; only an investigator can sign"
            )
        if investigator.id is not None and investigator.id != signer.id:
            raise AuthenticationError("the signer does not match the authenticated reader")
        with self._tx.write(f"sign timepoint {timepoint_id}") as session:
            tp_row = session.get(TimepointRow, timepoint_id)
            if tp_row is None:
                raise NotFoundError(f"no timepoint with id {timepoint_id}")
            active = session.scalar(
                select(SignatureRow).where(
                    SignatureRow.timepoint_id == timepoint_id, SignatureRow.voided_at.is_(None)
                )
            )
            if active is not None:
                raise DuplicateError(
                    f"timepoint {tp_row.label} is already signed by {active.printed_name}"
                )
            result, data, timepoints, chosen = self._evaluate(session, tp_row.patient_id)
            index = next(i for i, tp in enumerate(timepoints) if tp.id == timepoint_id)
            tp_data = _by_label(data).get(tp_row.label, {})
            overall = tp_data.get("overall")
            if not overall:
                raise RepositoryError(f"timepoint {tp_row.label} has no response to confirm")
            version = str(getattr(result, "engine_version", ""))
            covered = {tp.id for tp in timepoints[: index + 1]}
            content = {
                "timepoint": record_values(timepoints[index]),
                "engine_version": version,
                "result": tp_data,
                "measurements": [record_values(m) for m in chosen if m.timepoint_id in covered],
            }
            digest = content_hash(content)
            frozen = AssessmentRow(
                timepoint_id=timepoint_id,
                frozen=True,
                overall=overall,
                engine_version=version,
                result_json=to_json(content) or "{}",
            )
            session.add(frozen)
            session.flush()
            head = audit_head(session)  # under the write lock: the event before the sign event
            now = utcnow()
            row = SignatureRow(
                timepoint_id=timepoint_id,
                assessment_id=frozen.id,
                reader_id=signer.id,
                printed_name=signer.full_name,
                signed_at=now,
                content_hash=digest,
                meaning=meaning or f"I confirm the response {overall} at {tp_row.label}",
                audit_head=head,
            )
            session.add(row)
            session.flush()
            row.ed25519 = ed25519_sign(
                unlocked.private_key,
                signed_message("timepoint", timepoint_signature_fields(row)),
            )
            session.flush()
            signature = signature_from_row(row)
            after = record_values(signature) | {"audit_head": head, "ed25519": row.ed25519}
            from storage.db.audit import AuditLog

            AuditLog.record(
                session,
                reader_id=signer.id,
                action="sign",
                entity="signature",
                entity_id=row.id,
                after=after,
            )
        return signature

    def verify_signature(self, signature_id: int) -> bool:
        """True if the frozen content still hashes to the signature's ``content_hash``."""
        with self._tx.read("verify signature") as session:
            sig = session.get(SignatureRow, signature_id)
            if sig is None:
                raise NotFoundError(f"no signature with id {signature_id}")
            frozen = session.get_one(AssessmentRow, sig.assessment_id)
            return content_hash(json.loads(frozen.result_json)) == sig.content_hash

    def signatures(self, patient_id: int) -> list[Signature]:
        """Every signature of the patient's timepoints, voided ones included, oldest first."""
        with self._tx.read("list signatures") as session:
            return patient_signatures(session, patient_id)

    def is_locked(self, timepoint_id: int) -> bool:
        """True while the timepoint carries a valid (not voided) signature."""
        with self._tx.read("check lock") as session:
            return (
                session.scalar(
                    select(SignatureRow.id)
                    .where(
                        SignatureRow.timepoint_id == timepoint_id, SignatureRow.voided_at.is_(None)
                    )
                    .limit(1)
                )
                is not None
            )
