"""Replaying the audit trail to check that the tables still hold what it says.

The hash chain proves the trail itself was not edited; this proves the data
was not edited *around* it (for instance a measurement changed with the
``sqlite3`` tool).  Every create / update / delete of a reader, patient,
timepoint, lesion, measurement or signature is applied in sequence order to an in-memory
copy, which must then equal the tables field by field; and every signed
(frozen) assessment must still hash to its signature's ``content_hash``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db.base import Base
from storage.db.mappers import (
    lesion_from_row,
    measurement_from_row,
    patient_from_row,
    reader_from_row,
    record_values,
    signature_from_row,
    timepoint_from_row,
)
from storage.db.models import (
    AssessmentRow,
    AuditEventRow,
    LesionRow,
    MeasurementRow,
    PatientRow,
    ReaderRow,
    SignatureRow,
    TimepointRow,
)

#: Entities whose current rows must equal the replayed trail.
REPLAYED: dict[str, tuple[type[Base], Callable[[Any], object]]] = {
    "reader": (ReaderRow, reader_from_row),
    "patient": (PatientRow, patient_from_row),
    "timepoint": (TimepointRow, timepoint_from_row),
    "lesion": (LesionRow, lesion_from_row),
    "measurement": (MeasurementRow, measurement_from_row),
    "signature": (SignatureRow, signature_from_row),
}
MAX_PROBLEMS = 20
#: Actions that create a record, and those that change some of its fields.
CREATING = frozenset({"create", "sign"})
UPDATING = frozenset({"update", "void"})


class Replay:
    """The state of each replayed entity as the audit trail describes it."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in REPLAYED}

    def apply(self, row: AuditEventRow) -> None:
        """Apply one (already verified) event."""
        records = self.state.get(row.entity)
        if records is None:
            return
        after = json.loads(row.after_json) if row.after_json else {}
        if row.action in CREATING:
            records[row.entity_id] = dict(after)
        elif row.action in UPDATING:
            records.setdefault(row.entity_id, {}).update(after)
        elif row.action == "delete":
            records.pop(row.entity_id, None)

    def differences(self, session: Session) -> list[str]:
        """Where the tables differ from the replayed trail (at most :data:`MAX_PROBLEMS`)."""
        problems: list[str] = []
        for entity, (model, to_record) in REPLAYED.items():
            rows = {
                str(row.id): record_values(to_record(row))  # type: ignore[attr-defined]
                for row in session.scalars(select(model))
            }
            expected = self.state[entity]
            for key in sorted(set(rows) | set(expected), key=lambda k: (len(k), k)):
                problems.extend(_compare(entity, key, rows.get(key), expected.get(key)))
                if len(problems) >= MAX_PROBLEMS:
                    return problems[:MAX_PROBLEMS]
        problems.extend(_frozen_content_problems(session))
        return problems[:MAX_PROBLEMS]


def _frozen_content_problems(session: Session) -> list[str]:
    """Signatures whose frozen assessment no longer hashes to the signed ``content_hash``."""
    from storage.db.signing import content_hash

    problems = []
    for signature in session.scalars(select(SignatureRow).order_by(SignatureRow.id)):
        frozen = session.get(AssessmentRow, signature.assessment_id)
        try:
            intact = frozen is not None and (
                content_hash(json.loads(frozen.result_json)) == signature.content_hash
            )
        except ValueError:
            intact = False
        if not intact:
            problems.append(
                f"signature {signature.id}: the signed assessment {signature.assessment_id} "
                "no longer matches the signed content hash"
            )
    return problems


def _compare(
    entity: str, key: str, actual: dict[str, Any] | None, expected: dict[str, Any] | None
) -> list[str]:
    if expected is None:
        return [f"{entity} {key} is in the table but was never created through the audit trail"]
    if actual is None:
        return [f"{entity} {key} was deleted from the table without an audit event"]
    return [
        f"{entity} {key}: {field} is {actual[field]!r} in the table "
        f"but {expected[field]!r} in the audit trail"
        for field in actual
        if field in expected and not _same(expected[field], actual[field])
    ]


def _same(expected: Any, actual: Any) -> bool:
    """Equal, where a key that older events lack (e.g. ``frame_number``) counts as None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(_same(expected.get(k), actual.get(k)) for k in set(expected) | set(actual))
    return bool(expected == actual)
