"""What ``caliper audit verify`` checks beyond the chain and the replay: keys, signatures, triggers.

Signatures (21 CFR Part 11 §11.70, §11.200)
-------------------------------------------
A signature (of a timepoint, or of a patient-level record such as the conversion
record) is an Ed25519 signature by the signer's private key over
:func:`signed_message`: what the signature row says (who, what it means, when, the
SHA-256 of the signed content) **and the audit head at that moment** (``seq:hash``
of the last event before the signature's own ``sign`` event).  Verifying needs only
public keys, and only the public keys the audit trail recorded: every event that
gives a reader a key (creation, password reset, password change after a reset)
carries ``public_key`` in its ``after`` values.  So:

* a signature row inserted or edited in the database does not verify (no one but the
  signer can make one, and the private key is encrypted under the signer's password);
* a public key swapped in the ``reader`` table differs from the trail's;
* an old signature copied to a later place in the trail names a head that is not the
  event before its ``sign`` event;
* a signature under a key that the trail had replaced (an admin's reset) is refused.

Signatures made before signing keys existed (their signer had no key in the trail at
that moment) are reported as notes, not problems.

Triggers
--------
The audit table's append-only triggers must exist (and on PostgreSQL be enabled):
whoever dropped them could edit the trail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.db.audit import key_at, key_history
from storage.db.canonical import content_hash, to_json
from storage.db.models import AuditEventRow, ReaderRow, RecordSignatureRow, SignatureRow
from storage.db.passwords import signature_valid

if TYPE_CHECKING:
    from storage.db.audit import AuditReport
    from storage.db.witness import WitnessCheck

#: Format tag of what a signature signs.
SIGNATURE_FORMAT = "caliper-signature/1"
#: The append-only triggers each backend must have on ``audit_event`` (migration 0001).
TRIGGERS = {
    "sqlite": ("audit_event_no_update", "audit_event_no_delete"),
    "postgresql": ("audit_event_no_update_delete", "audit_event_no_truncate"),
}


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_message(kind: str, fields: Mapping[str, Any]) -> bytes:
    """The exact bytes an Ed25519 signature signs: canonical JSON of ``fields`` and the format."""
    values = {k: (_instant(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    return (to_json({"format": SIGNATURE_FORMAT, "kind": kind, **values}) or "").encode("ascii")


def timepoint_signature_fields(row: SignatureRow) -> dict[str, Any]:
    """What a timepoint signature signs (the row's fields as written when it was signed)."""
    return {
        "signature_id": row.id,
        "timepoint_id": row.timepoint_id,
        "assessment_id": row.assessment_id,
        "reader_id": row.reader_id,
        "printed_name": row.printed_name,
        "meaning": row.meaning,
        "signed_at": row.signed_at,
        "content_hash": row.content_hash,
        "audit_head": row.audit_head,
    }


def record_signature_fields(row: RecordSignatureRow) -> dict[str, Any]:
    """What a record signature (conversion record...) signs."""
    return {
        "signature_id": row.id,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "patient_id": row.patient_id,
        "reader_id": row.reader_id,
        "printed_name": row.printed_name,
        "meaning": row.meaning,
        "signed_at": row.signed_at,
        "content_hash": row.content_hash,
        "audit_head": row.audit_head,
    }


def audit_head(session: Session) -> str:
    """``seq:hash`` of the last event (``0:000…`` before the first): what a signature signs."""
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    return f"{last[0]}:{last[1]}" if last else "0:" + "0" * 64


@dataclass
class IntegrityCheck:
    """Problems (verify fails) and notes (said, verify still intact)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_integrity(session: Session) -> IntegrityCheck:
    """Triggers, readers' public keys and every signature (see the module docstring)."""
    check = IntegrityCheck()
    check.problems.extend(trigger_problems(session))
    keys = key_history(session)
    check.problems.extend(_public_key_problems(session, keys))
    _signature_problems(session, keys, check)
    return check


def trigger_problems(session: Session) -> list[str]:
    """The append-only triggers of ``audit_event`` that are missing (or disabled)."""
    dialect = session.get_bind().dialect.name
    wanted = TRIGGERS.get(dialect)
    if wanted is None:
        return []
    if dialect == "sqlite":
        rows = session.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
            )
        )
        present = {r[0]: True for r in rows}
    else:
        rows = session.execute(
            text(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
            )
        )
        present = {r[0]: str(r[1]) != "D" for r in rows}
    problems = []
    for name in wanted:
        if name not in present:
            problems.append(
                f"the append-only trigger {name} of audit_event is missing (dropped): "
                "the trail could have been edited"
            )
        elif not present[name]:
            problems.append(f"the append-only trigger {name} of audit_event is disabled")
    return problems


def _public_key_problems(
    session: Session, history: dict[int, list[tuple[int, str | None]]]
) -> Iterator[str]:
    for reader_id, username, public in session.execute(
        select(ReaderRow.id, ReaderRow.username, ReaderRow.public_key).order_by(ReaderRow.id)
    ):
        recorded = history.get(reader_id, [])
        expected = recorded[-1][1] if recorded else None
        if public != expected:
            yield (
                f"reader {username}: the public key in the table is not the one the audit "
                "trail recorded (a key swapped outside Caliper)"
            )


def _sign_events(session: Session) -> dict[tuple[str, str], tuple[int, str, dict[str, Any]]]:
    """(entity, id) -> (seq, prev_hash, after) of every ``sign`` event."""
    events: dict[tuple[str, str], tuple[int, str, dict[str, Any]]] = {}
    for seq, entity, entity_id, prev_hash, after_json in session.execute(
        select(
            AuditEventRow.id,
            AuditEventRow.entity,
            AuditEventRow.entity_id,
            AuditEventRow.prev_hash,
            AuditEventRow.after_json,
        ).where(AuditEventRow.action == "sign")
    ):
        try:
            after = json.loads(after_json) if after_json else {}
        except ValueError:
            after = {}
        events.setdefault((entity, entity_id), (seq, prev_hash, after))
    return events


def _signature_problems(
    session: Session, history: dict[int, list[tuple[int, str | None]]], check: IntegrityCheck
) -> None:
    events = _sign_events(session)
    for row in session.scalars(select(SignatureRow).order_by(SignatureRow.id)):
        _check_one(
            check,
            f"signature {row.id}",
            row,
            signed_message("timepoint", timepoint_signature_fields(row)),
            events.get(("signature", str(row.id))),
            history,
        )
    for rec in session.scalars(select(RecordSignatureRow).order_by(RecordSignatureRow.id)):
        name = f"{rec.entity.replace('_', ' ')} signature {rec.id}"
        try:
            intact = content_hash(json.loads(rec.content_json)) == rec.content_hash
        except ValueError:
            intact = False
        if not intact:
            check.problems.append(f"{name}: the signed content no longer matches its hash")
        _check_one(
            check,
            name,
            rec,
            signed_message("record", record_signature_fields(rec)),
            events.get(("record_signature", str(rec.id))),
            history,
        )


def _check_one(
    check: IntegrityCheck,
    name: str,
    row: Any,
    message: bytes,
    event: tuple[int, str, dict[str, Any]] | None,
    history: dict[int, list[tuple[int, str | None]]],
) -> None:
    if event is None:
        check.problems.append(f"{name} has no sign event in the audit trail")
        return
    seq, prev_hash, after = event
    key = key_at(history, row.reader_id, seq)
    if key is None:
        if row.ed25519 is None and row.audit_head is None:
            check.notes.append(
                f"{name} was made before signing keys (no cryptographic signature to verify)"
            )
        else:
            check.problems.append(
                f"{name}: its signer had no signing key at event {seq} in the audit trail"
            )
        return
    if row.ed25519 is None:
        check.problems.append(
            f"{name} carries no Ed25519 signature although its signer had a key (forged?)"
        )
        return
    if row.audit_head != f"{seq - 1}:{prev_hash}":
        check.problems.append(
            f"{name} signs the audit head {row.audit_head} but its sign event {seq} follows "
            f"{seq - 1}:{prev_hash[:12]}… (an old signature replayed?)"
        )
        return
    if (after.get("ed25519"), after.get("audit_head")) != (row.ed25519, row.audit_head):
        check.problems.append(f"{name}: its Ed25519 signature differs from its sign event's")
        return
    if not signature_valid(key, row.ed25519, message):
        check.problems.append(
            f"{name} does not verify under the public key the audit trail recorded for "
            f"reader {row.reader_id} (forged or edited)"
        )


def with_integrity(
    report: AuditReport, integrity: IntegrityCheck, witness: WitnessCheck
) -> AuditReport:
    """``report`` (an :class:`~storage.db.audit.AuditReport`) with what these checks found.

    Missing triggers and a chain that disagrees with the witness break the trail
    (``problem``); forged signatures and swapped keys are data problems; notes are kept.
    """
    from dataclasses import replace

    trigger = [p for p in integrity.problems if "trigger" in p]
    data = [p for p in integrity.problems if "trigger" not in p]
    broken = [*witness.problems, *trigger]
    notes = (*report.notes, *witness.notes, *integrity.notes)
    if not broken and not data:
        return replace(report, notes=notes)
    problem = "; ".join(p for p in (report.problem, *broken) if p)
    data_problems = (*report.data_problems, *data)
    if problem and data_problems:  # the verdict of a broken trail does not list them
        notes = (*notes, *(f"also: {p}" for p in data_problems))
    return replace(report, ok=False, problem=problem, data_problems=data_problems, notes=notes)
