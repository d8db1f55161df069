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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db.base import utcnow
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

    def __str__(self) -> str:
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


def to_json(value: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON (sorted keys, no spaces, ASCII) of a values dict; None stays None."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


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
    canonical = json.dumps(
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
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
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


def verify_chain(session: Session, expect_head: tuple[int, str] | None = None) -> AuditReport:
    """Walk the whole chain in sequence order, then compare the tables with the replayed trail.

    Checks, for each event: the sequence number follows the previous one (no
    deleted or inserted events), ``prev_hash`` equals the previous event's hash,
    and the stored hash equals the hash recomputed from the stored fields.
    Then every reader, patient, timepoint, lesion and measurement row must equal
    what the trail's events make of it (:mod:`storage.db.replay`).

    Parameters
    ----------
    session
        A read session.
    expect_head
        ``(seq, hash)`` of an event recorded earlier (e.g. printed by a previous
        verify); a trail cut before it, or with a different hash there, is broken.
    """
    from storage.db.replay import Replay

    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    replay = Replay()
    for item in _rows(session):
        if isinstance(item, tuple):
            return AuditReport(False, checked, item[0], item[1])
        problem = _link_problem(item, expected_seq, prev_hash)
        if problem:
            return AuditReport(False, checked, item.id, problem)
        if expect_head and item.id == expect_head[0] and item.hash != expect_head[1]:
            return AuditReport(False, checked, item.id, "hash differs from the recorded head")
        replay.apply(item)
        prev_hash, expected_seq, checked = item.hash, expected_seq + 1, checked + 1
    head_seq = checked or None
    head_hash = prev_hash if checked else None
    if expect_head and expect_head[0] > checked:
        return AuditReport(
            False,
            checked,
            None,
            f"the trail ends at event {checked} but event {expect_head[0]} was recorded earlier "
            "(events deleted from the end)",
            head_seq=head_seq,
            head_hash=head_hash,
        )
    data_problems = tuple(replay.differences(session))
    return AuditReport(
        not data_problems,
        checked,
        data_problems=data_problems,
        head_seq=head_seq,
        head_hash=head_hash,
    )


def _link_problem(row: AuditEventRow, expected_seq: int, prev_hash: str) -> str:
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
