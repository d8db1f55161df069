"""Replaying the audit trail to check that the tables still hold what it says.

The hash chain proves the trail itself was not edited; this proves the data
was not edited *around* it (for instance a measurement changed with the
``sqlite3`` tool).  Every create / update / delete of a reader, patient,
timepoint, lesion, measurement or signature, and of the endpoint records (conversion,
surgery, survival) and their signatures, is applied in sequence order to an in-memory
copy, which must then equal the tables field by field; and every signed
(frozen) assessment must still hash to its signature's ``content_hash``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db.base import Base
from storage.db.canonical import content_hash, to_json
from storage.db.checkpoint import Checkpoint, RawTable, fingerprint
from storage.db.mappers import (
    conversion_from_row,
    lesion_from_row,
    measurement_from_row,
    patient_from_row,
    reader_from_row,
    record_signature_from_row,
    record_values,
    signature_from_row,
    surgery_from_row,
    survival_from_row,
    timepoint_from_row,
)
from storage.db.models import (
    AssessmentRow,
    AuditEventRow,
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

#: Entities whose current rows must equal the replayed trail.
REPLAYED: dict[str, tuple[type[Base], Callable[[Any], object]]] = {
    "reader": (ReaderRow, reader_from_row),
    "patient": (PatientRow, patient_from_row),
    "timepoint": (TimepointRow, timepoint_from_row),
    "lesion": (LesionRow, lesion_from_row),
    "measurement": (MeasurementRow, measurement_from_row),
    "signature": (SignatureRow, signature_from_row),
    "conversion_record": (ConversionRecordRow, conversion_from_row),
    "surgery_record": (SurgeryRecordRow, surgery_from_row),
    "survival_record": (SurvivalRecordRow, survival_from_row),
    "record_signature": (RecordSignatureRow, record_signature_from_row),
}
MAX_PROBLEMS = 20
#: Actions that create a record, and those that change some of its fields.
CREATING = frozenset({"create", "sign"})
UPDATING = frozenset({"update", "void"})


class Replay:
    """The state of each replayed entity as the audit trail describes it.

    A record created and never updated keeps its event's ``after_json`` text (parsed
    only if it differs from the table), so that replaying a long trail costs little
    time and memory.
    """

    def __init__(self) -> None:
        self.state: dict[str, dict[str, str | dict[str, Any]]] = {name: {} for name in REPLAYED}

    def apply(self, row: Any) -> None:
        """Apply one verified event (an audit row: entity, entity_id, action, after_json)."""
        records = self.state.get(row.entity)
        if records is None:
            return
        if row.action in CREATING:
            records[row.entity_id] = row.after_json or "{}"
        elif row.action in UPDATING:
            current = records.get(row.entity_id, {})
            values = json.loads(current) if isinstance(current, str) else current
            values.update(json.loads(row.after_json) if row.after_json else {})
            records[row.entity_id] = values
        elif row.action == "delete":
            records.pop(row.entity_id, None)

    def expected(self, entity: str, key: str) -> dict[str, Any] | None:
        """The replayed values of one record (None: never created, or deleted)."""
        value = self.state[entity].get(key)
        return json.loads(value) if isinstance(value, str) else value

    def matches(self, entity: str, key: str, actual_json: str) -> bool:
        """Whether a row's canonical values JSON is exactly its replayed create event's."""
        return self.state[entity].get(key) == actual_json


@dataclass
class DataCheck:
    """What :func:`verify_data` found: problems, and every row's fingerprint for a checkpoint."""

    problems: list[str] = field(default_factory=list)
    fingerprints: dict[str, dict[str, str]] = field(default_factory=dict)


def verify_data(
    session: Session,
    replay: Replay | None,
    touched: dict[str, set[str]],
    checkpoint: Checkpoint | None,
) -> DataCheck:
    """Compare the tables with the trail, streaming each table once.

    With a full ``replay`` every row is compared with it.  Otherwise (a verify
    from ``checkpoint``) a row is compared, with the replay of its own events,
    only when its fingerprint differs from the checkpoint's, the checkpoint does
    not know it, it is gone, or an event after the checkpoint (``touched``) names it.
    """
    check = DataCheck()
    for entity, (model, to_record) in REPLAYED.items():
        table = model.__table__
        prints = check.fingerprints.setdefault(entity, {})
        known = checkpoint.rows.get(entity, {}) if checkpoint is not None else {}
        suspects: dict[str, dict[str, Any] | None] = {}
        raw_table = RawTable(table, session.get_bind().dialect)
        id_at = raw_table.index["id"]
        changed = touched.get(entity, set())
        result = session.execute(
            raw_table.select().order_by(table.c.id).execution_options(yield_per=2000)
        )
        for raw in result:
            values = tuple(raw)
            key = str(values[id_at])
            digest = fingerprint(values)
            prints[key] = digest
            if replay is not None:
                actual = record_values(to_record(raw_table.convert(values)))
                if not replay.matches(entity, key, to_json(actual) or ""):
                    check.problems.extend(
                        _compare(entity, key, _plain(actual), replay.expected(entity, key))
                    )
            elif known.get(key) != digest or key in changed:
                suspects[key] = _plain(record_values(to_record(raw_table.convert(values))))
        if replay is not None:
            for key in _by_id(set(replay.state[entity]) - set(prints)):
                check.problems.extend(_compare(entity, key, None, replay.expected(entity, key)))
        else:
            gone = (set(known) | touched.get(entity, set())) - set(prints)
            suspects.update(dict.fromkeys(gone))
            for key, expected in _replay_records(session, entity, suspects):
                check.problems.extend(_compare(entity, key, suspects[key], expected))
        if len(check.problems) >= MAX_PROBLEMS:
            break
    check.problems = [p for p in _flatten(check.problems)][:MAX_PROBLEMS]
    if len(check.problems) < MAX_PROBLEMS:
        check.problems.extend(_frozen_content_problems(session))
    check.problems = check.problems[:MAX_PROBLEMS]
    return check


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the trail holds them: JSON-native (a Decimal of an endpoint record as its text)."""
    plain: dict[str, Any] = json.loads(to_json(values) or "{}")
    return plain


def _flatten(items: list[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, list):
            yield from item
        else:
            yield item


def _by_id(keys: set[str]) -> list[str]:
    return sorted(keys, key=lambda k: (len(k), k))


def _replay_records(
    session: Session, entity: str, keys: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """The replayed values of some records of ``entity``, from their own events only."""
    ordered = _by_id(set(keys))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        replay = Replay()
        rows = session.execute(
            select(
                AuditEventRow.entity,
                AuditEventRow.entity_id,
                AuditEventRow.action,
                AuditEventRow.after_json,
            )
            .where(AuditEventRow.entity == entity, AuditEventRow.entity_id.in_(chunk))
            .order_by(AuditEventRow.id)
        )
        for row in rows:
            replay.apply(row)
        for key in chunk:
            yield key, replay.expected(entity, key)


def _frozen_content_problems(session: Session) -> list[str]:
    """Signatures whose frozen assessment no longer hashes to the signed ``content_hash``."""
    problems = []
    rows = session.execute(
        select(
            SignatureRow.id,
            SignatureRow.assessment_id,
            SignatureRow.content_hash,
            AssessmentRow.result_json,
        )
        .outerjoin(AssessmentRow, AssessmentRow.id == SignatureRow.assessment_id)
        .order_by(SignatureRow.id)
        .execution_options(yield_per=500)
    )
    for signature in rows:
        try:
            intact = signature.result_json is not None and (
                content_hash(json.loads(signature.result_json)) == signature.content_hash
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
