"""The append-only, hash-chained audit trail (21 CFR Part 11 §11.10(e)).

Each event records who (reader), when (UTC, made by the application), what
(action, entity, id, the changed fields before → after as JSON) and why
(reason).  Its ``hash`` is SHA-256 over a canonical JSON serialisation of all
those fields *including the previous event's hash* and its own sequence number,
so editing, deleting or inserting an event breaks the chain from there on.
Database triggers refuse UPDATE and DELETE on the table (migration 0001); the
chain catches whoever drops them first.

Each event written in the name of a reader who has a signing key also carries that
reader's Ed25519 signature over its chain hash (``signature``; not part of the hash).
The private keys are those the readers unlocked with their passwords in this
process (:class:`Keyring`, held by the ``Database`` for the session, never stored),
so an event appended into the database in a reader's name, even with a correct
chain hash, fails the verify: only the reader could have signed it.  Which key was a
reader's at each event is what the trail's own reader events recorded (creation,
password reset, password change); a reader's own key change is signed with the key
they had before it, and a first key (a new account, a legacy password upgraded) with
itself.  Events of ``system`` and of readers without a key, and those written before
migration 0007 (which appends a ``signing_start`` event where signing starts), carry
none and are counted as unsigned.

Appends are serialised by the write transaction: SQLite starts it with
``BEGIN IMMEDIATE`` and PostgreSQL takes an advisory transaction lock
(``storage/db/database.py``), so two writers can never append after the same
event (and the primary key on the sequence number would refuse it anyway).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import json
import os
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.db.base import utcnow
from storage.db.canonical import to_json
from storage.db.checkpoint import Checkpoint, CheckpointStore, EventsDigest, RawTable
from storage.db.errors import AuthenticationError
from storage.db.models import AuditEventRow, ReaderRow
from storage.db.passwords import sign

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64
#: Action of the event migration 0007 appends where per-event signatures start.
SIGNING_START = "signing_start"
#: Key of the :class:`Keyring` in a write session's ``info``.
KEYRING_INFO = "caliper_keyring"
_EVENT_SIGNATURE_FORMAT = b"caliper-audit-event/1|"


def event_message(digest: str) -> bytes:
    """The bytes a reader's event signature signs: a format tag and the event's chain hash."""
    return _EVENT_SIGNATURE_FORMAT + digest.encode("ascii")


class Keyring:
    """The private signing keys readers unlocked with their passwords in this process.

    Held in memory only, for the life of the ``Database`` (one window session, one
    command); never written anywhere.  A key is used only while its public key is the
    one the reader table names, so a key replaced meanwhile (a password reset on another
    workstation) is never used: writing then asks the reader to log in again.
    """

    def __init__(self) -> None:
        self._keys: dict[int, tuple[str, Ed25519PrivateKey]] = {}

    def hold(self, reader_id: int, public_key: str, key: Ed25519PrivateKey) -> None:
        """Keep ``key`` (whose public key is ``public_key``) for ``reader_id``'s events."""
        self._keys[reader_id] = (public_key, key)

    def drop(self, reader_id: int) -> None:
        """Forget the reader's key (their key pair was replaced)."""
        self._keys.pop(reader_id, None)

    def get(self, reader_id: int) -> tuple[str, Ed25519PrivateKey] | None:
        """``(public key, private key)`` held for the reader, or None."""
        return self._keys.get(reader_id)

    def clear(self) -> None:
        """Forget every key (the session ends)."""
        self._keys.clear()


def _own_key_change(
    reader_id: int, entity: str, entity_id: object, after: Mapping[str, Any] | None
) -> bool:
    """Whether an event of ``reader_id`` sets that reader's own key (creation, password change)."""
    return (
        entity == "reader"
        and str(entity_id) == str(reader_id)
        and bool(after)
        and ("public_key" in (after or {}))
    )


def _event_signer(
    session: Session,
    reader_id: int | None,
    own_key: tuple[str | None, str | None] | None,
) -> Ed25519PrivateKey | None:
    """The key that must sign an event of ``reader_id`` now; None if the reader has none.

    ``own_key`` is ``(key before, key after)`` for an event that sets the reader's own
    key: it is signed with the key before it, or (a first key) with the new one.

    Raises
    ------
    AuthenticationError
        The reader has a key but it was not unlocked in this session (or was replaced).
    """
    if reader_id is None:
        return None
    keyring: Keyring | None = session.info.get(KEYRING_INFO)
    held = keyring.get(reader_id) if keyring is not None else None
    if own_key is not None:
        required, fallback = own_key
    else:
        required = session.scalar(select(ReaderRow.public_key).where(ReaderRow.id == reader_id))
        fallback = None
    if required:
        if held is None or held[0] != required:
            username = session.scalar(select(ReaderRow.username).where(ReaderRow.id == reader_id))
            raise AuthenticationError(
                f"the signing key of {username or reader_id!r} is not unlocked in this session "
                "(or was replaced by a password reset): log in again with the password; "
                "nothing was changed"
            )
        return held[1]
    if fallback and held is not None and held[0] == fallback:
        return held[1]
    return None


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
    #: Events that carry no reader signature: of ``system`` or a reader without a key,
    #: or written before migration 0007 (see the module docstring).
    unsigned_events: int = 0

    def __str__(self) -> str:
        text = self._verdict()
        if self.verified_from is not None and self.ok:
            text += (
                f"\n(events 1-{self.verified_from - 1} unchanged since the last verified "
                "checkpoint, events after it verified in full; --full verifies everything)"
            )
        lines = [text]
        if self.unsigned_events and self.first_broken_seq is None:
            lines.append(
                f"{self.unsigned_events} events carry no reader signature (system imports, "
                "readers without a signing key, events written before migration 0007): they "
                "rest on the chain and the witness alone"
            )
        return "\n".join([*lines, *self.notes])

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
        own = (
            ((before or {}).get("public_key"), (after or {}).get("public_key"))
            if reader_id is not None and _own_key_change(reader_id, entity, entity_id, after)
            else None
        )
        signer = _event_signer(session, reader_id, own)
        seq_value = fields.pop("seq")
        row = AuditEventRow(
            id=seq_value,
            hash=digest,
            signature=sign(signer, event_message(digest)) if signer is not None else None,
            **fields,
        )
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
    if reader_id is not None and any(
        _own_key_change(reader_id, e.entity, e.entity_id, e.after) for e in events
    ):
        raise ValueError("record_many does not write a reader's own key change")
    signer = _event_signer(session, reader_id, None)
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
        fields["signature"] = sign(signer, event_message(prev_hash)) if signer is not None else None
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


KeyHistory = dict[int, list[tuple[int, str | None]]]


def key_history(session: Session) -> KeyHistory:
    """reader id -> [(seq, public key)] of every event that set a reader's key, in trail order."""
    history: KeyHistory = {}
    rows = session.execute(
        select(AuditEventRow.id, AuditEventRow.entity_id, AuditEventRow.after_json)
        .where(AuditEventRow.entity == "reader")
        .order_by(AuditEventRow.id)
    )
    for seq, entity_id, after_json in rows:
        try:
            after = json.loads(after_json) if after_json else {}
            reader_id = int(entity_id)
        except ValueError:
            continue
        if isinstance(after, dict) and "public_key" in after:
            history.setdefault(reader_id, []).append((seq, after["public_key"]))
    return history


def key_at(history: KeyHistory, reader_id: int, seq: int) -> str | None:
    """The public key the trail gave ``reader_id`` by the events before ``seq``."""
    key = None
    for at, public in history.get(reader_id, []):
        if at >= seq:
            break
        key = public
    return key


#: Events whose signatures are verified together, in a thread (Ed25519 releases the GIL).
_SIGNATURE_BATCH = 512


def _verify_batch(batch: list[tuple[int, str, Any, bytes, bytes]]) -> tuple[int, str] | None:
    """The first event of ``batch`` whose signature does not verify, or None."""
    for seq, problem, key, signature, message in batch:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return seq, problem
    return None


class _EventSignatures:
    """Checks each event's reader signature during the walk (see the module docstring).

    The Ed25519 verifications, the costly part, run in batches on a few threads while the
    walk goes on; :meth:`finish` waits for them and names the first event that failed.
    """

    def __init__(
        self, session: Session, unsigned: int = 0, first_signed: int | None = None
    ) -> None:
        self.history = key_history(session)
        self.names = {r[0]: r[1] for r in session.execute(select(ReaderRow.id, ReaderRow.username))}
        self.marker = session.scalar(
            select(func.min(AuditEventRow.id)).where(
                AuditEventRow.entity == "audit",
                AuditEventRow.action == SIGNING_START,
                AuditEventRow.reader_id.is_(None),
            )
        )
        self.unsigned = unsigned
        self.first_signed = first_signed
        self._public: dict[str, Any] = {}
        self._batch: list[tuple[int, str, Any, bytes, bytes]] = []
        self._pending: deque[Future[tuple[int, str] | None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._failed: tuple[int, str] | None = None

    def _key(self, public_key: str) -> Any:
        if public_key not in self._public:
            try:
                self._public[public_key] = Ed25519PublicKey.from_public_bytes(
                    base64.b64decode(public_key, validate=True)
                )
            except (ValueError, binascii.Error):
                self._public[public_key] = None
        return self._public[public_key]

    def _defer(self, seq: int, problem: str, public_key: str, signature: str, digest: str) -> str:
        """Queue one verification; returns ``problem`` at once if it cannot even be parsed."""
        key = self._key(public_key)
        try:
            raw = base64.b64decode(signature, validate=True)
        except (ValueError, binascii.Error):
            return problem
        if key is None or len(raw) != 64:
            return problem
        self._batch.append((seq, problem, key, raw, event_message(digest)))
        if len(self._batch) >= _SIGNATURE_BATCH:
            self._submit()
        return ""

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
        self._pending.append(self._pool.submit(_verify_batch, self._batch))
        self._batch = []
        while len(self._pending) > 8:  # bounded: memory stays flat
            self._note(self._pending.popleft().result())

    def _note(self, failed: tuple[int, str] | None) -> None:
        if failed is not None and (self._failed is None or failed[0] < self._failed[0]):
            self._failed = failed

    def finish(self) -> tuple[int, str] | None:
        """Wait for every queued verification: the first event that failed, or None."""
        try:
            if self._pool is None:
                self._note(_verify_batch(self._batch))  # few: no thread
            else:
                self._submit()
                while self._pending:
                    self._note(self._pending.popleft().result())
        finally:
            self._batch = []
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        return self._failed

    def problem(self, row: Any) -> str:
        """Why ``row``'s signature fails, or "" (an unsigned event that may be is counted).

        A signature's own verification is queued (:meth:`finish` reports it).
        """
        seq, reader_id, signature = row.id, row.reader_id, row.signature
        if signature and self.first_signed is None:
            self.first_signed = seq
        if reader_id is None:
            if seq == self.marker and self.first_signed is not None and self.first_signed < seq:
                return (
                    f"the signing-start event {seq} follows the signed event "
                    f"{self.first_signed}: it was appended to pass off unsigned events before "
                    "it as written before migration 0007 (forged)"
                )
            if signature:
                return f"event {seq} carries a reader signature but names no reader"
            self.unsigned += 1
            return ""
        name = f"{self.names.get(reader_id, 'unknown reader')} (reader {reader_id})"
        what = f"event {seq} ({row.action} {row.entity} {row.entity_id}) in the name of {name}"
        before = key_at(self.history, reader_id, seq)
        if before:
            if not signature:
                if self.marker is not None and seq < self.marker:
                    self.unsigned += 1
                    return ""
                return (
                    f"{what} carries no signature although the reader had a signing key "
                    "(written into the database outside Caliper?)"
                )
            return self._defer(
                seq,
                f"{what}: its signature was not made by the key the reader had at that "
                "event (copied from another event, or forged)",
                before,
                signature,
                row.hash,
            )
        if not signature:
            self.unsigned += 1
            return ""
        own: str | None = None
        if _own_key_change(reader_id, row.entity, row.entity_id, {"public_key": None}):
            try:
                own = json.loads(row.after_json or "{}").get("public_key")
            except (ValueError, AttributeError):
                own = None
        forged = (
            f"{what} is signed, but not by a key the reader had at that event "
            "(forged, or a key the trail never gave them)"
        )
        return self._defer(seq, forged, own, signature, row.hash) if own else forged


def verify_chain(
    session: Session,
    expect_head: tuple[int, str] | None = None,
    *,
    checkpoints: CheckpointStore | None = None,
    full: bool = False,
    require_signed: bool = False,
) -> AuditReport:
    """Walk the chain in sequence order, then compare the tables with the replayed trail.

    Checks, for each event: the sequence number follows the previous one (no
    deleted or inserted events), ``prev_hash`` equals the previous event's hash,
    and the stored hash equals the hash recomputed from the stored fields.
    Then every reader, patient, timepoint, lesion and measurement row must equal
    what the trail's events make of it (:mod:`storage.db.replay`), and every
    signed assessment must still hash to its signature's content hash.

    Events and rows are streamed (a server-side cursor where the driver has one), so
    memory does not grow with the trail.  With ``checkpoints``, the events the last
    verified checkpoint covers are checked cheaply (their count and digest as stored,
    recorded heads; any difference: everything in full), the data rows by fingerprint,
    and the checkpoint is moved to the head when everything is intact (what that
    proves: :mod:`storage.db.checkpoint`).

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
    require_signed
        Trust only a checkpoint signed by an investigator or an admin: an unsigned one (which
        anyone able to write the checkpoint file and the witness could have planted) is not
        used, and everything is verified as with ``full``.
    """
    from storage.db.replay import verify_data

    checkpoint, notes, refused = _checkpoint(session, checkpoints, full, require_signed)
    if refused is not None:  # named with the head as it stands (not verified)
        head = session.execute(
            select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
        ).first()
        return AuditReport(
            False,
            0,
            problem=refused,
            head_seq=head[0] if head else None,
            head_hash=head and head[1],
        )
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
        unsigned_events=walk.signatures.unsigned,
    )
    if report.ok and checkpoints is not None and head_seq is not None and head_hash is not None:
        new = Checkpoint(
            url=checkpoints.url,
            seq=head_seq,
            hash=head_hash,
            genesis=walk.genesis,
            events_digest=walk.digest.hexdigest(),
            rows=data.fingerprints,
            unsigned=walk.signatures.unsigned,
            first_signed=walk.signatures.first_signed,
        )
        changed = checkpoint is None or (new.seq, new.rows) != (checkpoint.seq, checkpoint.rows)
        if changed or checkpoints.signer is not None:
            try:
                checkpoints.save(new)
                saved = (
                    f"signed by {new.signer}"
                    if new.signer
                    else "unsigned (`caliper audit verify --as USERNAME` signs it)"
                )
                saved = f"checkpoint saved at event {new.seq}, {saved}"
            except OSError as exc:  # the verify itself stands; the next one is a full one
                saved = f"checkpoint not saved: {exc}"
            report = replace(report, notes=(*report.notes, saved))
    return report


def _checkpoint(
    session: Session,
    checkpoints: CheckpointStore | None,
    full: bool,
    require_signed: bool = False,
) -> tuple[Checkpoint | None, list[str], str | None]:
    """The checkpoint to start from (None: verify in full), notes, and why the stored one is
    refused (its signature does not hold: a problem, unless ``full`` verifies without it)."""
    stored = checkpoints.read() if checkpoints is not None else None
    if checkpoints is None or stored is None:
        return None, [], None
    where = f"the checkpoint of event {stored.seq} ({stored.verified_at}, {checkpoints.path})"
    if stored.signer is not None:
        row = session.execute(
            select(ReaderRow.id, ReaderRow.role).where(ReaderRow.username == stored.signer)
        ).first()
        key = key_at(key_history(session), row[0], stored.seq + 1) if row else None
        problem = stored.signature_problem(row[1] if row else None, key)
        if problem is not None and not full:
            return (
                None,
                [],
                (
                    f"{where} {problem}; it is not used: `caliper audit verify --full` verifies "
                    "everything without it and replaces it"
                ),
            )
        if problem is not None:
            return None, [f"{where} {problem}: not used, replaced by this full verify"], None
    if not checkpoints.trusted(stored):
        return None, [], None
    if stored.signer is None and require_signed:
        return (
            None,
            [f"{where} is unsigned: not used (--require-signed), every event verified"],
            None,
        )
    if stored.signer is None:
        return stored, [f"{where} is unsigned (written by a verify without --as)"], None
    return stored, [f"{where} is signed by {stored.signer}"], None


#: The audit table's columns, in the order fingerprinted and read by the walk.
_EVENT_TABLE = AuditEventRow.__table__


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
    signatures: Any = None  # _EventSignatures of the events verified in full


def _walk(
    session: Session,
    heads: list[tuple[tuple[int, str] | None, str, str]],
    checkpoint: Checkpoint | None,
) -> _Walk:
    """One streamed pass over the events in sequence order (see :func:`verify_chain`)."""
    from storage.db.replay import Replay

    walk = _Walk(incremental=checkpoint is not None)
    if checkpoint is None:
        walk.replay = Replay()
        walk.signatures = _EventSignatures(session)
    else:
        walk.signatures = _EventSignatures(session, checkpoint.unsigned, checkpoint.first_signed)
    try:
        _walk_events(session, heads, checkpoint, walk)
    finally:
        failed = walk.signatures.finish()
    earlier = walk.report is None or (
        walk.report.first_broken_seq is None
        or failed is not None
        and failed[0] < walk.report.first_broken_seq
    )
    if failed is not None and not walk.restart and earlier:
        walk.report = AuditReport(False, failed[0] - 1, failed[0], failed[1])
    return walk


def _walk_events(
    session: Session,
    heads: list[tuple[tuple[int, str] | None, str, str]],
    checkpoint: Checkpoint | None,
    walk: _Walk,
) -> _Walk:
    """The pass itself: fills ``walk``."""
    from storage.db.replay import REPLAYED

    table = RawTable(_EVENT_TABLE, session.get_bind().dialect)
    id_at, hash_at = table.index["id"], table.index["hash"]
    expected_seq = 1
    if checkpoint is not None:
        if not _checkpoint_holds(session, checkpoint, heads, table, walk.digest):
            walk.restart = True  # walk in full: it names the first broken link
            return walk
        walk.genesis, walk.prev_hash = checkpoint.genesis, checkpoint.hash
        walk.checked, expected_seq = checkpoint.seq, checkpoint.seq + 1
    result = table.stream(session, after=walk.checked)
    try:
        for values in result:
            walk.digest.add(values)
            seq, digest = values[id_at], values[hash_at]
            if seq == 1:
                walk.genesis = digest
            row = table.convert(values)
            problem = (
                _link_problem(row, expected_seq, walk.prev_hash)
                or _head_problem(seq, digest, heads)
                or walk.signatures.problem(row)
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


def _checkpoint_holds(
    session: Session,
    checkpoint: Checkpoint,
    heads: list[tuple[tuple[int, str] | None, str, str]],
    table: RawTable,
    digest: EventsDigest,
) -> bool:
    """The cheap checks of the events a checkpoint covers (see :func:`verify_chain`).

    Events 1..seq are streamed as stored (no conversion, no hashing of their content,
    no signature) into ``digest``: all of them must still be there, their digest must
    equal the checkpoint's ``events_digest`` (any stored field of any of them edited,
    even with its hash left alone, changes it), and every recorded head among them must
    still carry its hash.
    """
    wanted = {head[0]: head[1] for head, _p, _r in heads if head and head[0] <= checkpoint.seq}
    id_at, hash_at = table.index["id"], table.index["hash"]
    count = 0
    batches = table.batches(session, upto=checkpoint.seq)
    try:
        for rows in batches:
            digest.add_rows(rows)
            count += len(rows)
            if wanted and any(wanted.get(row[id_at], row[hash_at]) != row[hash_at] for row in rows):
                return False
    finally:
        batches.close()
    return count == checkpoint.seq and digest.hexdigest() == checkpoint.events_digest


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
