"""The append-only, hash-chained audit trail (21 CFR Part 11 §11.10(e)).

Each event records who (reader), when (UTC, made by the application), what
(action, entity, id, the changed fields before → after as JSON) and why
(reason).  Its ``hash`` is SHA-256 over a canonical JSON serialisation of all
those fields *including the previous event's hash* and its own sequence number,
so editing, deleting or inserting an event breaks the chain from there on.
Database triggers refuse UPDATE and DELETE on the table (migration 0001); the
chain catches whoever drops them first.

Appends are serialised by the write transaction: SQLite starts it with
``BEGIN IMMEDIATE`` and PostgreSQL takes an advisory transaction lock
(``storage/db/database.py``), so two writers can never append after the same
event (and the primary key on the sequence number would refuse it anyway).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.db.base import utcnow
from storage.db.canonical import to_json
from storage.db.checkpoint import Checkpoint, CheckpointStore, EventsDigest, RawTable
from storage.db.models import AuditEventRow, ReaderRow

#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit event as an inspector reads it."""

    seq: int
    at_utc: datetime
    reader_id: int | None
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of verifying the trail.

    ``ok`` only if the chain is unbroken *and* the tables equal the replayed
    trail.  ``first_broken_seq``/``problem`` name the first broken link;
    ``data_problems`` list records changed outside the trail; ``head_seq`` and
    ``head_hash`` identify the last event (record them elsewhere to detect a
    later truncation of the trail's tail).
    """

    ok: bool
    events_checked: int
    first_broken_seq: int | None = None
    problem: str = ""
    data_problems: tuple[str, ...] = ()
    head_seq: int | None = None
    head_hash: str | None = None
    #: Events before this one were fingerprint-checked against the last verified
    #: checkpoint (:mod:`storage.db.checkpoint`); None when every event was verified.
    verified_from: int | None = None
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = self._verdict()
        if self.verified_from is not None and self.ok:
            text += (
                f"\n(events 1-{self.verified_from - 1} unchanged since the last verified "
                "checkpoint, events after it verified in full; --full verifies everything)"
            )
        return "\n".join([text, *self.notes])

    def _verdict(self) -> str:
        if self.first_broken_seq is not None:
            return f"audit trail BROKEN at event {self.first_broken_seq}: {self.problem}"
        head = f"head event {self.head_seq} {self.head_hash}" if self.head_seq else "empty"
        if self.problem:
            return f"audit trail BROKEN: {self.problem} ({head})"
        if self.data_problems:
            lines = "\n  ".join(self.data_problems)
            return (
                f"audit chain intact ({self.events_checked} events) but the data was changed "
                f"outside the audit trail:\n  {lines}"
            )
        return (
            f"audit trail intact: {self.events_checked} events, chain verified, "
            f"data matches the trail; {head}"
        )


#: The canonical encoder of an event, built once (``json.dumps`` with options builds one per call).
_EVENT_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def format_instant(at: datetime) -> str:
    """The canonical text of an instant: UTC, microseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    at_utc: datetime,
    reader_id: int | None,
    action: str,
    entity: str,
    entity_id: str,
    before_json: str | None,
    after_json: str | None,
    reason: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical serialisation of one event, previous hash included."""
    canonical = _EVENT_JSON.encode(
        {
            "seq": seq,
            "at_utc": format_instant(at_utc),
            "reader_id": reader_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before_json,
            "after": after_json,
            "reason": reason,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class AuditLog:
    """Appends events inside the caller's write transaction and reads the chain back."""

    @staticmethod
    def record(
        session: Session,
        *,
        reader_id: int | None,
        action: str,
        entity: str,
        entity_id: object,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> AuditEventRow:
        """Append one event in ``session``'s transaction (which must be a write transaction).

        Parameters
        ----------
        session
            The open write session; the event commits or rolls back with the change.
        reader_id
            Who made the change (None only while the first reader is created).
        action
            ``create``, ``update``, ``delete``, ``sign``, ``void``, ``assess``...
        entity, entity_id
            The table-level name of the record and its id.
        before, after
            The changed fields' old and new values (None for create / delete).
        reason
            Why; required by the callers for changes to signed data.

        Returns
        -------
        AuditEventRow
            The flushed row.
        """
        last = session.execute(
            select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
        ).first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        fields: dict[str, Any] = {
            "seq": seq,
            "at_utc": utcnow(),
            "reader_id": reader_id,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "before_json": to_json(before),
            "after_json": to_json(after),
            "reason": reason,
            "prev_hash": prev_hash,
        }
        digest = event_hash(**fields)
        seq_value = fields.pop("seq")
        row = AuditEventRow(id=seq_value, hash=digest, **fields)
        session.add(row)
        session.flush()
        return row


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """One event of :meth:`AuditLog.record_many` (the fields of :meth:`AuditLog.record`)."""

    action: str
    entity: str
    entity_id: object
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None


def record_many(session: Session, reader_id: int | None, events: list[PendingEvent]) -> None:
    """Append ``events`` in order in ``session``'s write transaction, in one statement.

    The same chain as one :meth:`AuditLog.record` per event (each event's own
    time, sequence number and previous hash), for bulk writes such as an import.
    """
    if not events:
        return
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    rows = []
    for event in events:
        fields: dict[str, Any] = {
            "seq": seq,
            "at_utc": utcnow(),
            "reader_id": reader_id,
            "action": event.action,
            "entity": event.entity,
            "entity_id": str(event.entity_id),
            "before_json": to_json(event.before),
            "after_json": to_json(event.after),
            "reason": event.reason,
            "prev_hash": prev_hash,
        }
        prev_hash = event_hash(**fields)
        fields["id"] = fields.pop("seq")
        fields["hash"] = prev_hash
        rows.append(fields)
        seq += 1
    session.execute(insert(AuditEventRow), rows)


def row_to_event(row: AuditEventRow) -> AuditEvent:
    """Map an audit row to :class:`AuditEvent` (JSON decoded)."""
    return AuditEvent(
        seq=row.id,
        at_utc=row.at_utc,
        reader_id=row.reader_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before=json.loads(row.before_json) if row.before_json else None,
        after=json.loads(row.after_json) if row.after_json else None,
        reason=row.reason,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _rows(session: Session, batch: int = 1000) -> Iterator[AuditEventRow | tuple[int, str]]:
    """Yield audit rows in order; a row that cannot be read yields ``(seq, error)`` instead."""
    last = 0
    while True:
        ids = list(
            session.scalars(
                select(AuditEventRow.id)
                .where(AuditEventRow.id > last)
                .order_by(AuditEventRow.id)
                .limit(batch)
            )
        )
        if not ids:
            return
        try:
            rows = list(
                session.scalars(
                    select(AuditEventRow)
                    .where(AuditEventRow.id >= ids[0], AuditEventRow.id <= ids[-1])
                    .order_by(AuditEventRow.id)
                )
            )
        except (ValueError, TypeError):
            rows = []
            for seq in ids:
                try:
                    rows.append(session.get_one(AuditEventRow, seq))
                except (ValueError, TypeError) as exc:
                    yield (seq, f"unreadable row ({exc})")
                    return
        yield from rows
        session.expunge_all()
        last = ids[-1]


def verify_chain(
    session: Session,
    expect_head: tuple[int, str] | None = None,
    *,
    checkpoints: CheckpointStore | None = None,
    full: bool = False,
) -> AuditReport:
    """Walk the chain in sequence order, then compare the tables with the replayed trail.

    Checks, for each event: the sequence number follows the previous one (no
    deleted or inserted events), ``prev_hash`` equals the previous event's hash,
    and the stored hash equals the hash recomputed from the stored fields.
    Then every reader, patient, timepoint, lesion and measurement row must equal
    what the trail's events make of it (:mod:`storage.db.replay`), and every
    signed assessment must still hash to its signature's content hash.

    Events and rows are streamed (a server-side cursor where the driver has one), so
    memory does not grow with the trail.  With ``checkpoints``, what the last verified
    checkpoint covers is only fingerprint-checked and the checkpoint is moved to the
    head when everything is intact (what that proves: :mod:`storage.db.checkpoint`).

    Parameters
    ----------
    session
        A read session.
    expect_head
        ``(seq, hash)`` of an event recorded earlier (e.g. printed by a previous
        verify); a trail cut before it, or with a different hash there, is broken.
    checkpoints
        Where this database's checkpoint is kept; None verifies everything and keeps none.
    full
        Verify every event and row even where a checkpoint covers them (its head is
        still compared, as an ``expect_head``).
    """
    from storage.db.replay import verify_data

    checkpoint = checkpoints.load() if checkpoints is not None else None
    notes: list[str] = []
    if checkpoint is not None and checkpoint.genesis != _first_hash(session):
        notes.append(
            f"the checkpoint verified on {checkpoint.verified_at} belongs to another trail "
            "(its first event differs: the database was re-created?); verified in full"
        )
        checkpoint = None
    heads = [(expect_head, "hash differs from the recorded head", "was recorded earlier")]
    if checkpoint is not None:
        heads.append(
            (
                (checkpoint.seq, checkpoint.hash),
                f"hash differs from the checkpoint verified on {checkpoint.verified_at} "
                "(the trail was rewritten from an earlier event)",
                f"was verified in the checkpoint of {checkpoint.verified_at}",
            )
        )
    walk = None
    if checkpoint is not None and not full:
        walk = _walk(session, heads, checkpoint)
        if walk.restart:
            notes.append(
                f"events up to {checkpoint.seq} changed since the checkpoint of "
                f"{checkpoint.verified_at}; verified in full"
            )
            walk = None
    if walk is None:
        walk = _walk(session, heads, None)
    if walk.report is not None:
        return replace(walk.report, notes=tuple(notes))
    head_seq = walk.checked or None
    head_hash = walk.prev_hash if walk.checked else None
    data = verify_data(session, walk.replay, walk.touched, checkpoint if walk.incremental else None)
    report = AuditReport(
        not data.problems,
        walk.checked,
        data_problems=tuple(data.problems),
        head_seq=head_seq,
        head_hash=head_hash,
        verified_from=checkpoint.seq + 1 if walk.incremental and checkpoint else None,
        notes=tuple(notes),
    )
    if report.ok and checkpoints is not None and head_seq is not None and head_hash is not None:
        new = Checkpoint(
            url=checkpoints.url,
            seq=head_seq,
            hash=head_hash,
            genesis=walk.genesis,
            events_digest=walk.digest.hexdigest(),
            rows=data.fingerprints,
        )
        if checkpoint is None or (new.seq, new.rows) != (checkpoint.seq, checkpoint.rows):
            try:
                checkpoints.save(new)
            except OSError as exc:  # the verify itself stands; the next one is a full one
                report = replace(report, notes=(*report.notes, f"checkpoint not saved: {exc}"))
    return report


#: The audit table's columns, in the order fingerprinted and read by the walk.
_EVENT_TABLE = AuditEventRow.__table__
_STREAM = {"yield_per": 2000}


def _first_hash(session: Session) -> str | None:
    return session.scalar(select(AuditEventRow.hash).order_by(AuditEventRow.id).limit(1))


@dataclass
class _Walk:
    """What one pass over the events found."""

    checked: int = 0
    prev_hash: str = GENESIS_HASH
    genesis: str = ""
    report: AuditReport | None = None
    restart: bool = False  # an event the checkpoint covers changed: walk again in full
    incremental: bool = False
    replay: Any = None  # storage.db.replay.Replay of every event (full walk)
    touched: dict[str, set[str]] = field(default_factory=dict)  # records of events after it
    digest: EventsDigest = field(default_factory=EventsDigest)


def _walk(
    session: Session,
    heads: list[tuple[tuple[int, str] | None, str, str]],
    checkpoint: Checkpoint | None,
) -> _Walk:
    """One streamed pass over the events in sequence order (see :func:`verify_chain`)."""
    from storage.db.replay import REPLAYED, Replay

    walk = _Walk(incremental=checkpoint is not None)
    if checkpoint is None:
        walk.replay = Replay()
    old_until = checkpoint.seq if checkpoint is not None else 0
    table = RawTable(_EVENT_TABLE, session.get_bind().dialect)
    id_at, hash_at = table.index["id"], table.index["hash"]
    result = session.execute(
        table.select().order_by(_EVENT_TABLE.c.id).execution_options(**_STREAM)
    )
    expected_seq = 1
    try:
        for raw in result:
            values = tuple(raw)
            walk.digest.add(values)
            seq, digest = values[id_at], values[hash_at]
            if seq == 1:
                walk.genesis = digest
            if seq <= old_until:
                problem = _head_problem(seq, digest, heads)
                if problem:
                    walk.report = AuditReport(False, walk.checked, seq, problem)
                    return walk
                if seq != expected_seq or (
                    seq == old_until
                    and (
                        digest != checkpoint.hash  # type: ignore[union-attr]  # only reached with a checkpoint
                        or walk.digest.hexdigest() != checkpoint.events_digest  # type: ignore[union-attr]  # as above
                    )
                ):
                    walk.restart = True
                    return walk
                walk.prev_hash, expected_seq, walk.checked = (
                    digest,
                    expected_seq + 1,
                    walk.checked + 1,
                )
                continue
            row = table.convert(values)
            problem = _link_problem(row, expected_seq, walk.prev_hash) or _head_problem(
                seq, digest, heads
            )
            if problem:
                walk.report = AuditReport(False, walk.checked, seq, problem)
                return walk
            if walk.replay is not None:
                walk.replay.apply(row)
            elif row.entity in REPLAYED:
                walk.touched.setdefault(row.entity, set()).add(row.entity_id)
            walk.prev_hash, expected_seq, walk.checked = digest, expected_seq + 1, walk.checked + 1
    except (ValueError, TypeError) as exc:
        walk.report = AuditReport(False, walk.checked, expected_seq, f"unreadable row ({exc})")
        return walk
    finally:
        result.close()
    if walk.checked < old_until:  # events the checkpoint covers are gone
        walk.restart = True
        return walk
    for head, _problem, recorded in heads:
        if head and head[0] > walk.checked:
            walk.report = AuditReport(
                False,
                walk.checked,
                None,
                f"the trail ends at event {walk.checked} but event {head[0]} {recorded} "
                "(events deleted from the end)",
                head_seq=walk.checked or None,
                head_hash=walk.prev_hash if walk.checked else None,
            )
            return walk
    return walk


def _head_problem(
    seq: int, digest: str, heads: list[tuple[tuple[int, str] | None, str, str]]
) -> str:
    for head, problem, _recorded in heads:
        if head and seq == head[0] and digest != head[1]:
            return problem
    return ""


def _link_problem(row: Any, expected_seq: int, prev_hash: str) -> str:
    """Why ``row`` does not continue the chain, or "" if it does."""
    if row.id != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {row.id} (events deleted)"
    if row.prev_hash != prev_hash:
        return "prev_hash does not match the previous event's hash"
    recomputed = event_hash(
        seq=row.id,
        at_utc=row.at_utc,
        reader_id=row.reader_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before_json=row.before_json,
        after_json=row.after_json,
        reason=row.reason,
        prev_hash=row.prev_hash,
    )
    if recomputed != row.hash:
        return "content does not match its hash (event was edited)"
    return ""


CSV_COLUMNS = (
    "seq",
    "at_utc",
    "reader_id",
    "reader_username",
    "reader_name",
    "action",
    "entity",
    "entity_id",
    "before_json",
    "after_json",
    "reason",
    "prev_hash",
    "hash",
)


def export_csv(session: Session, path: Path) -> int:
    """Write the whole trail to ``path`` as UTF-8 CSV for an inspector; return the event count."""
    names = {r.id: (r.username, r.full_name) for r in session.scalars(select(ReaderRow))}
    count = 0
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for item in _rows(session):
            if isinstance(item, tuple):
                writer.writerow(
                    [item[0], "", "", "", "", "UNREADABLE", "", "", "", "", item[1], "", ""]
                )
                break
            username, full_name = (
                names.get(item.reader_id, ("", "")) if item.reader_id else ("", "")
            )
            writer.writerow(
                [
                    item.id,
                    format_instant(item.at_utc),
                    item.reader_id or "",
                    username,
                    full_name,
                    item.action,
                    item.entity,
                    item.entity_id,
                    item.before_json or "",
                    item.after_json or "",
                    item.reason or "",
                    item.prev_hash,
                    item.hash,
                ]
            )
            count += 1
    tmp.replace(path)
    return count
