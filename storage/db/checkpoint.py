"""Verified checkpoints of the audit trail, so that ``caliper audit verify`` checks what is new.

What a checkpoint proves
------------------------
A checkpoint is written only by a verify that found everything intact.  It says:
"on this workstation, at ``verified_at``, events 1..``seq`` formed an unbroken
chain from the genesis hash ending in ``hash``, and every reader, patient,
timepoint, lesion, measurement and signature row equalled what those events
make of it".  With it the checkpoint keeps *fingerprints*: one digest over the
stored fields of every event up to ``seq`` (``events_digest``) and one digest
per data row (``rows``).

A later (default) verify checks the events the checkpoint covers cheaply and every
data row by its fingerprint:

* events 1..``seq`` are streamed as stored (a plain DB-API cursor, no conversion, no
  hashing of their content, no signature check) into a fresh ``events_digest``:
  they must all still be there (their count), their digest must equal the
  checkpoint's, and every head recorded elsewhere (the witness, ``--expect-head``)
  among them must still carry its hash.  Any stored field of any of them changed
  -- cut, reordered, rewritten, re-hashed, or edited in place with its hash left
  alone (which needs the append-only triggers dropped and put back) -- changes the
  digest, and the whole trail is verified again from the genesis event, which names
  the first broken link;
* events after ``seq`` are verified in full (sequence, link, recomputed hash, the
  reader's Ed25519 signature);
* a row whose fingerprint differs from the checkpoint's, a row the checkpoint
  does not know, a row it knows that is gone, and every record an event after
  ``seq`` touched is compared field by field with the replay of *its* events
  (read through the ``(entity, entity_id)`` index).

So a change to any stored event or data row, before or after the checkpoint, is
verified in full.  The frozen assessments of signatures are checked every time.
``events_digest`` is one SHA-256 over :func:`row_bytes` of every event row from
event 1 in sequence order, never seeded with an earlier checkpoint's: it can be
recomputed from the database alone (a full verify computes the same one).  The
default verify therefore still reads every event once (the cost of reading and
digesting them, not of re-hashing and signature-checking them: ``--full``).

Where checkpoints live, and what they do not prove
--------------------------------------------------
One JSON file per database URL in ``audit-checkpoints/`` of the user's data
folder (owner-only), *not* in the database: whoever can rewrite the database
(a database administrator of a site's PostgreSQL) cannot also rewrite every
workstation's checkpoints.  A trail re-hashed consistently from an event
before the checkpoint, which a full verify alone cannot detect, no longer ends
in the checkpoint's ``hash`` and is reported broken, as with ``--expect-head``.
Someone who can write both the database *and* the checkpoint file can make a
verify trust a forged checkpoint: against them, keep heads elsewhere
(``--expect-head``) and run ``caliper audit verify --full``, which ignores the
checkpoint (its head is still compared).  A checkpoint whose first
event differs from the database's belongs to another database at the same URL
(re-created): it is ignored and the trail verified in full.

Signed checkpoints
------------------
``caliper audit verify --as USERNAME`` (an investigator or an admin, with their
password) signs the checkpoint it writes with that reader's Ed25519 key: the
signature covers :meth:`Checkpoint.signed_message` (the SHA-256 of everything in
the file but the signature, the event count and the time of the verify) and is
written into the witness entry with the file's digest.  A later verify checks it
before using the checkpoint, against the key the trail itself gave the signer by
the checkpoint's last event and the signer's role; a signature that does not
verify, a signer who is not a reader of the database or has another role, or a
key that was not theirs is refused: the verify fails and names the checkpoint
(``--full`` verifies everything without it and writes a new one).  So a forged
checkpoint needs a signing reader's password as well as write access to the
checkpoint and the witness.  A checkpoint written without ``--as`` is unsigned,
trusted as before (through the witness), and the verify says so.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import marshal
import os
from collections import namedtuple
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from recist.model import Reader, Role
from storage.db.errors import PermissionDeniedError

#: Version of the checkpoint file; another version is ignored (a full verify runs).
CHECKPOINT_FORMAT = "caliper-audit-checkpoint/4"


#: Who may sign a checkpoint: the readers who are accountable for the trail's use.
SIGNER_ROLES = frozenset({Role.INVESTIGATOR, Role.ADMIN})
#: What a checkpoint's signature covers starts with this (never an event's message).
_SIGNATURE_CONTEXT = b"caliper-audit-checkpoint-signature/1\n"


#: Types ``marshal`` writes as they are (format 2: no references, so the bytes of equal
#: values are equal whatever objects hold them); anything else is written as its ``repr``.
_MARSHALLED = frozenset({str, int, float, bytes, bool, type(None)})


def row_bytes(values: tuple[Any, ...]) -> bytes:
    """An unambiguous serialisation of one stored row (its values as read, in column order).

    ``marshal`` (3x cheaper than ``repr``) of the driver's values; a value of another type
    (a PostgreSQL driver's ``datetime``, ``Decimal``...) is written as its ``repr``.
    """
    try:
        return marshal.dumps(values, 2)
    except ValueError:
        plain = tuple(
            v
            if type(v) in _MARSHALLED
            else bytes(v)
            if isinstance(v, memoryview | bytearray)
            else ("repr", repr(v))
            for v in values
        )
        return marshal.dumps(plain, 2)


def fingerprint(values: tuple[Any, ...]) -> str:
    """The digest of one stored row (its values as read, in column order)."""
    return hashlib.blake2b(row_bytes(values), digest_size=16).hexdigest()


class EventsDigest:
    """A running digest over stored events, in sequence order (``events_digest``).

    SHA-256 over :func:`row_bytes` of every event row from event 1, never seeded: a
    checkpoint's digest can be recomputed from the database alone.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, values: tuple[Any, ...]) -> None:
        """Feed one event's stored fields (every column)."""
        self._hash.update(row_bytes(values))

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Feed several events, in order: the same digest as :meth:`add` of each, faster."""
        try:
            self._hash.update(b"".join([marshal.dumps(values, 2) for values in rows]))
        except ValueError:  # a value marshal does not write: row by row
            for values in rows:
                self._hash.update(row_bytes(values))

    def hexdigest(self) -> str:
        """The digest of the events fed so far."""
        return self._hash.hexdigest()


@dataclass(frozen=True)
class CheckpointSigner:
    """The reader who signs the checkpoints a verify writes, with their unlocked key."""

    username: str
    private_key: Ed25519PrivateKey
    public_key: str  # base64, as stored for the reader

    @classmethod
    def for_reader(
        cls, reader: Reader, private_key: Ed25519PrivateKey, public_key: str
    ) -> CheckpointSigner:
        """The signer of an unlocked reader; PermissionDeniedError unless their role signs."""
        if reader.role not in SIGNER_ROLES:
            raise PermissionDeniedError(
                f"{reader.username!r} is a {reader.role}: only an investigator or an admin "
                "signs audit checkpoints"
            )
        return cls(reader.username, private_key, public_key)


@dataclass
class Checkpoint:
    """What a verify that found everything intact recorded (see the module docstring)."""

    url: str
    seq: int
    hash: str
    genesis: str  # hash of event 1: which trail this checkpoint belongs to
    events_digest: str
    rows: dict[str, dict[str, str]] = field(default_factory=dict)  # entity -> id -> fingerprint
    verified_at: str = ""
    unsigned: int = 0  # events up to seq without a reader signature (storage/db/audit.py)
    first_signed: int | None = None  # the first event with a reader signature
    signer: str | None = None  # username of the reader who signed it (None: unsigned)
    signer_key: str | None = None  # their public key (base64) that made the signature
    signature: str | None = None  # Ed25519 over signed_message(), base64
    #: SHA-256 of the file it was read from ("" when not read from a file); not written.
    file_digest: str = field(default="", compare=False)

    def _content(self, *, signature: bool) -> dict[str, Any]:
        content: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "url": self.url,
            "verified_at": self.verified_at or datetime.now(UTC).isoformat(),
            "seq": self.seq,
            "hash": self.hash,
            "genesis": self.genesis,
            "events_digest": self.events_digest,
            # one "id:digest" line per row: a tenth of the time of a JSON object
            "rows": {
                entity: "\n".join(f"{k}:{v}" for k, v in prints.items())
                for entity, prints in self.rows.items()
            },
            "unsigned": self.unsigned,
            "first_signed": self.first_signed,
        }
        if self.signer is not None:
            content["signer"] = self.signer
            content["signer_key"] = self.signer_key
            if signature:
                content["signature"] = self.signature
        return content

    def to_json(self) -> str:
        """The file's text."""
        return json.dumps(self._content(signature=True), separators=(",", ":"))

    def signed_message(self) -> bytes:
        """What the signature covers: the digest of everything but the signature, the
        event count and the time of the verify."""
        if not self.verified_at:
            raise ValueError("a checkpoint is signed once its time is set")
        content = json.dumps(self._content(signature=False), separators=(",", ":"))
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        return _SIGNATURE_CONTEXT + f"{digest}\n{self.seq}\n{self.verified_at}".encode("ascii")

    def sign(self, signer: CheckpointSigner) -> None:
        """Set the time (now, if unset), the signer and the signature."""
        self.verified_at = self.verified_at or datetime.now(UTC).isoformat()
        self.signer, self.signer_key = signer.username, signer.public_key
        raw = signer.private_key.sign(self.signed_message())
        self.signature = base64.b64encode(raw).decode("ascii")

    def signature_problem(self, role: str | None, key: str | None) -> str | None:
        """Why this signed checkpoint is not to be trusted, or None when its signature holds.

        Parameters
        ----------
        role
            The signer's role in the database (None: no such reader).
        key
            The public key the trail gave the signer by event ``seq`` (None: none).
        """
        who = repr(self.signer)
        if role is None:
            return f"is signed by {who}, who is not a reader of this database"
        if role not in SIGNER_ROLES:
            return (
                f"is signed by {who}, a {role}: only an investigator or an admin signs checkpoints"
            )
        if key is None or key != self.signer_key:
            return f"is signed with a key that was not {who}'s at event {self.seq}"
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key, validate=True))
            raw = base64.b64decode(self.signature or "", validate=True)
            public.verify(raw, self.signed_message())
        except (InvalidSignature, ValueError, binascii.Error):
            return (
                f"carries a signature of {who} that does not verify (the checkpoint or its "
                "signature was changed)"
            )
        return None


def _prints(text: str) -> dict[str, str]:
    """The ``id:digest`` lines of one entity's rows."""
    if not isinstance(text, str):
        raise TypeError("rows of a checkpoint are text")
    return dict(line.split(":", 1) for line in text.split("\n") if line)


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} of a checkpoint is text")
    return value


class CheckpointStore:
    """The checkpoints of one database URL, in ``folder`` (one file per URL).

    With a ``signer``, every checkpoint saved is signed by that reader first.
    """

    def __init__(self, folder: Path, url: str, signer: CheckpointSigner | None = None) -> None:
        self.folder = folder
        self.url = url
        self.signer = signer
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        self.path = folder / f"{name}.json"

    def load(self) -> Checkpoint | None:
        """The stored checkpoint if it is to be trusted, or None (see :meth:`read`)."""
        checkpoint = self.read()
        return checkpoint if checkpoint is not None and self.trusted(checkpoint) else None

    def trusted(self, checkpoint: Checkpoint) -> bool:
        """Whether a checkpoint :meth:`read` gave may be used (here: always)."""
        return True

    def read(self) -> Checkpoint | None:
        """The stored checkpoint, or None (none, unreadable, another format or URL)."""
        try:
            raw = self.path.read_bytes()
            data = json.loads(raw)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            return None
        try:
            checkpoint = Checkpoint(
                url=str(data["url"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                genesis=str(data["genesis"]),
                events_digest=str(data["events_digest"]),
                rows={str(k): _prints(v) for k, v in dict(data["rows"]).items()},
                verified_at=str(data.get("verified_at", "")),
                unsigned=int(data["unsigned"]),
                first_signed=(None if data["first_signed"] is None else int(data["first_signed"])),
                signer=_optional_text(data, "signer"),
                signer_key=_optional_text(data, "signer_key"),
                signature=_optional_text(data, "signature"),
                file_digest=hashlib.sha256(raw).hexdigest(),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return checkpoint if checkpoint.url == self.url else None

    def save(self, checkpoint: Checkpoint) -> None:
        """Write atomically (a crash leaves the old checkpoint or the new one); owner-only.

        Signed by :attr:`signer` first when there is one.
        """
        if self.signer is not None:
            checkpoint.sign(self.signer)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.partial")
        old = os.umask(0o077)
        try:
            tmp.write_text(checkpoint.to_json(), encoding="utf-8")
            tmp.replace(self.path)
        finally:
            os.umask(old)
            with contextlib.suppress(OSError):
                tmp.unlink()


def _processor(column_type: Any, dialect: Any) -> Any:
    """SQLAlchemy's result conversion of a column type, or None.

    Some need the driver's type code (PostgreSQL floats); those are values the driver
    already returns converted.
    """
    try:
        return column_type._cached_result_processor(dialect, None)
    except (TypeError, ValueError, SQLAlchemyError):
        return None


class RawTable:
    """Streams a table's rows as stored (no type conversion), converting only on demand.

    Fingerprints are taken of the values as the driver returns them, which is cheaper
    than SQLAlchemy's conversions and closer to the stored bytes; :meth:`convert` gives
    the converted row (attribute access, as the ORM mappers read) for what is verified
    in full.
    """

    def __init__(self, table: Any, dialect: Any) -> None:
        self.table = table
        self.keys = [c.key for c in table.c]
        processors = [_processor(c.type, dialect) for c in table.c]
        self._processors = [(i, p) for i, p in enumerate(processors) if p is not None]
        self._row: Any = namedtuple(f"{table.name}_row", self.keys, rename=True)  # type: ignore[misc]  # fields are the table's columns, known at run time only
        self.index = {key: i for i, key in enumerate(self.keys)}

    def select(self) -> Any:
        """``SELECT`` of every column, unconverted, in table order (add where/order_by)."""
        return select(*(type_coerce(c, NullType()).label(c.key) for c in self.table.c))

    def stream(
        self, session: Session, batch: int = 2000, after: int = 0
    ) -> Generator[tuple[Any, ...], None, None]:
        """Every row as the driver returns it, by ``id``, through the session's connection.

        A plain DB-API cursor (no SQLAlchemy row objects: a third of the time of a pass),
        server-side on PostgreSQL, read ``batch`` rows at a time: memory stays flat.
        ``after``: only rows whose ``id`` is greater.  Close the generator to close the
        cursor early.
        """
        batches = self.batches(session, batch, after)
        try:
            for rows in batches:
                yield from rows
        finally:
            batches.close()

    def batches(
        self, session: Session, batch: int = 2000, after: int = 0, upto: int | None = None
    ) -> Generator[list[tuple[Any, ...]], None, None]:
        """The rows of :meth:`stream`, ``batch`` at a time; ``upto``: only rows whose ``id``
        is not greater."""
        connection = session.connection()
        quote = connection.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c.name) for c in self.table.c)
        conditions = [f"{quote('id')} > {int(after)}"] if after else []
        if upto is not None:
            conditions.append(f"{quote('id')} <= {int(upto)}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT {columns} FROM {quote(self.table.name)}{where} ORDER BY {quote('id')}"
        raw: Any = connection.connection.dbapi_connection
        if connection.dialect.name == "postgresql":
            cursor = raw.cursor(name=f"caliper_stream_{self.table.name}")
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield [row if type(row) is tuple else tuple(row) for row in rows]
        finally:
            cursor.close()

    def convert(self, raw: tuple[Any, ...]) -> Any:
        """The row with SQLAlchemy's type conversions, attributes named as the columns."""
        values = list(raw)
        for i, process in self._processors:
            values[i] = process(values[i])
        return self._row._make(values)
