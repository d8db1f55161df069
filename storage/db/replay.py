"""Replaying the audit trail to check that the tables still hold what it says.

The hash chain proves the trail itself was not edited; this proves the data
was not edited *around* it (for instance a measurement changed with the
``sqlite3`` tool).  Every create / update / delete of a reader, patient,
timepoint, lesion, measurement or signature, of the endpoint records (conversion,
surgery, survival) and their signatures, and of the segmentations (contours, issue
16), is applied in sequence order to an in-memory copy, which must then equal the
tables field by field; and every signed (frozen) assessment must still hash to its
signature's ``content_hash``.

A segmentation's mask is not in the trail, its SHA-256 is: the replay compares the hash
of the stored mask bytes, so a mask changed in the table is found.  Deleting a
measurement sets its contours' ``measurement_id`` to NULL (``ON DELETE SET NULL``, no
event of their own): the replay applies a measurement's ``delete`` to them too.
"""

from __future__ import annotations

import hashlib
import json
import zlib
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
    SegmentationRow,
    SignatureRow,
    SurgeryRecordRow,
    SurvivalRecordRow,
    TimepointRow,
)


@dataclass(frozen=True, slots=True)
class SegmentationValues:
    """A segmentation row as its audit events record it (``StoredSegmentation.audit_values``)."""

    timepoint_id: int
    measurement_id: int | None
    kind: str
    series_instance_uid: str
    algorithm: str
    algorithm_version: str
    parameters: Any
    volume_ml: float
    mean_hu: float | None
    sd_hu: float | None
    values: Any
    mask_offset: Any
    mask_shape: Any
    mask_sha256: str


def _json_or_text(text: str | None) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def _ints(text: str) -> Any:
    try:
        return [int(v) for v in text.split(",")]
    except (AttributeError, ValueError):
        return text


def mask_sha256(offset: str, shape: str, data: bytes | None) -> str:
    """The SHA-256 of a stored mask as ``MaskBox.sha256`` makes it (without numpy)."""
    try:
        box = [[int(v) for v in offset.split(",")], [int(v) for v in shape.split(",")]]
        bits = zlib.decompress(data or b"")
    except (AttributeError, ValueError, zlib.error):
        return "unreadable mask"
    digest = hashlib.sha256(json.dumps(box).encode())
    digest.update(bits)
    return digest.hexdigest()


def segmentation_from_row(row: Any) -> SegmentationValues:
    """What the trail says of a segmentation row: its values, the hash of its mask bytes.

    A ``mask_sha256`` column that disagrees with the mask bytes shows as both hashes.
    """
    actual = mask_sha256(row.mask_offset, row.mask_shape, row.mask_zlib)
    stored = row.mask_sha256
    return SegmentationValues(
        timepoint_id=row.timepoint_id,
        measurement_id=row.measurement_id,
        kind=row.kind,
        series_instance_uid=row.series_instance_uid,
        algorithm=row.algorithm,
        algorithm_version=row.algorithm_version,
        parameters=_json_or_text(row.parameters_json),
        volume_ml=row.volume_ml,
        mean_hu=row.mean_hu,
        sd_hu=row.sd_hu,
        values=_json_or_text(row.values_json),
        mask_offset=_ints(row.mask_offset),
        mask_shape=_ints(row.mask_shape),
        mask_sha256=actual if stored == actual else f"{stored} (column) / {actual} (mask bytes)",
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
    "segmentation": (SegmentationRow, segmentation_from_row),
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
        #: measurement id -> segmentations that named it (for ``ON DELETE SET NULL``)
        self._contours: dict[str, set[str]] = {}

    def apply(self, row: Any) -> None:
        """Apply one verified event (an audit row: entity, entity_id, action, after_json)."""
        records = self.state.get(row.entity)
        if records is None:
            return
        if row.entity == "measurement" and row.action == "delete":
            self._unlink_contours(row.entity_id)
        elif row.entity == "segmentation" and row.after_json:
            linked = _json_or_text(row.after_json)
            if isinstance(linked, dict) and linked.get("measurement_id") is not None:
                key = str(linked["measurement_id"])
                self._contours.setdefault(key, set()).add(row.entity_id)
        if row.action in CREATING:
            records[row.entity_id] = row.after_json or "{}"
        elif row.action in UPDATING:
            current = records.get(row.entity_id, {})
            values = json.loads(current) if isinstance(current, str) else current
            values.update(json.loads(row.after_json) if row.after_json else {})
            records[row.entity_id] = values
        elif row.action == "delete":
            records.pop(row.entity_id, None)

    def _unlink_contours(self, measurement_id: str) -> None:
        """A measurement deleted: its segmentations' ``measurement_id`` became NULL."""
        records = self.state["segmentation"]
        for key in self._contours.pop(measurement_id, set()):
            current = records.get(key)
            if current is None:
                continue
            values = json.loads(current) if isinstance(current, str) else current
            if str(values.get("measurement_id")) == measurement_id:
                values["measurement_id"] = None
                records[key] = values

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
        for values in raw_table.stream(session):
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


#: What replaying an event reads of it (``Replay.apply``).
_REPLAY_COLUMNS = (
    AuditEventRow.id,
    AuditEventRow.entity,
    AuditEventRow.entity_id,
    AuditEventRow.action,
    AuditEventRow.after_json,
)


def _replay_records(
    session: Session, entity: str, keys: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """The replayed values of some records of ``entity``, from their own events only."""
    ordered = _by_id(set(keys))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        replay = Replay()
        rows = session.execute(
            select(*_REPLAY_COLUMNS)
            .where(AuditEventRow.entity == entity, AuditEventRow.entity_id.in_(chunk))
            .order_by(AuditEventRow.id)
        )
        events = list(rows)
        if entity == "segmentation":
            events = _with_measurement_deletes(session, events)
        for row in events:
            replay.apply(row)
        for key in chunk:
            yield key, replay.expected(entity, key)


def _with_measurement_deletes(session: Session, events: list[Any]) -> list[Any]:
    """Segmentation events and the deletes of the measurements they name, in trail order."""
    named = set()
    for row in events:
        after = _json_or_text(row.after_json)
        if isinstance(after, dict) and after.get("measurement_id") is not None:
            named.add(str(after["measurement_id"]))
    if not named:
        return events
    deletes = session.execute(
        select(*_REPLAY_COLUMNS)
        .where(
            AuditEventRow.entity == "measurement",
            AuditEventRow.entity_id.in_(sorted(named)),
            AuditEventRow.action == "delete",
        )
        .order_by(AuditEventRow.id)
    )
    return sorted([*events, *deletes], key=lambda row: int(row.id))


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
    if expected is None and actual is None:  # deleted through the trail
        return []
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
