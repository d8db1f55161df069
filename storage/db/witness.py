"""The witness: a head log outside the database that anchors the audit chain.

Every signature, every export and every ``caliper audit verify`` that finds the
trail intact appends the chain head (``seq``, ``hash``, and the hash of event 1,
which names the trail) to a log file the database does not hold.  ``audit verify``
then checks the chain against every head the witness recorded:

* an event the witness recorded must still carry the recorded hash (a trail rewritten
  and re-hashed from an earlier event does not);
* the trail must reach the last recorded event (a tail deleted, or the whole file
  rolled back to an older copy, does not);
* the first event must be the recorded one (a database replaced by another does not).

Events after the last recorded head are *not covered*: the verify says which, and by
whom they are attributed, because until a later signature, export or verify they rest
on the database alone.

Each line is JSON and carries the SHA-256 of the line before it, so an edited or
removed line is noticed.  The file is created owner-only and only ever appended to.
Where it lives: ``$CALIPER_WITNESS`` if set; otherwise next to a SQLite database
(``caliper.sqlite3.witness``) or, for a server database, in the user's data folder
(``audit-witness/``).  A site closes the remaining gap by pointing
``$CALIPER_WITNESS`` at storage the database's writers cannot rewrite (another
machine, a WORM share; README "What the audit trail can and cannot prove").

A checkpoint of :mod:`storage.db.checkpoint` is "signed into the witness": its
file's SHA-256 is recorded when it is saved, and a checkpoint whose digest the
witness does not hold is not trusted (the verify runs in full).  A checkpoint
signed by a reader (``caliper audit verify --as``) has its signer and Ed25519
signature written into that entry as well (``checkpoint_signer``,
``checkpoint_signature``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db.checkpoint import Checkpoint, CheckpointSigner, CheckpointStore
from storage.db.models import AuditEventRow

WITNESS_FORMAT = 1
_START = "0" * 64


@dataclass(frozen=True, slots=True)
class WitnessEntry:
    """One recorded head."""

    line: int
    at: str
    why: str
    seq: int
    hash: str
    genesis: str
    checkpoint: str | None = None


@dataclass
class WitnessCheck:
    """What comparing the chain with the witness found."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    covered_to: int = 0


class Witness:
    """The head log of one database, at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> tuple[list[WitnessEntry], list[str], str]:
        """(entries, problems, hash of the last line)."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return [], [], _START
        except OSError as exc:
            return [], [f"cannot read the witness {self.path}: {exc.strerror or exc}"], _START
        entries: list[WitnessEntry] = []
        problems: list[str] = []
        prev = _START
        for number, raw in enumerate(lines, start=1):
            try:
                data = json.loads(raw)
                entry = WitnessEntry(
                    number,
                    str(data["at"]),
                    str(data["why"]),
                    int(data["seq"]),
                    str(data["hash"]),
                    str(data["genesis"]),
                    data.get("checkpoint"),
                )
                linked = data["prev"] == prev
            except (ValueError, KeyError, TypeError):
                problems.append(f"witness {self.path} line {number} is unreadable (edited?)")
                prev = hashlib.sha256(raw).hexdigest()
                continue
            if not linked:
                problems.append(
                    f"witness {self.path} line {number} does not follow the line before it "
                    "(lines edited or removed)"
                )
            entries.append(entry)
            prev = hashlib.sha256(raw).hexdigest()
        return entries, problems, prev

    def entries(self) -> list[WitnessEntry]:
        """The recorded heads, oldest first (unreadable lines left out)."""
        return self._read()[0]

    def record(
        self,
        seq: int,
        digest: str,
        genesis: str,
        why: str,
        checkpoint: str | None = None,
        signed: tuple[str, str] | None = None,
    ) -> None:
        """Append one head (owner-only file, appended and flushed to disk).

        ``checkpoint``: the digest of the checkpoint file saved with this head; ``signed``:
        its signer and signature, when a reader signed it.
        """
        if seq <= 0:
            return
        data: dict[str, Any] = {
            "v": WITNESS_FORMAT,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "why": why,
            "seq": seq,
            "hash": digest,
            "genesis": genesis,
        }
        if checkpoint is not None:
            data["checkpoint"] = checkpoint
            if signed is not None:
                data["checkpoint_signer"], data["checkpoint_signature"] = signed
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(fd)  # another process appending between our read and our write
            data["prev"] = self._read()[2]
            os.write(fd, json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def record_head(
        self,
        session: Session,
        why: str,
        checkpoint: str | None = None,
        signed: tuple[str, str] | None = None,
    ) -> None:
        """Append the database's current head (nothing for an empty trail)."""
        head = session.execute(
            select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
        ).first()
        if head is None:
            return
        self.record(head[0], head[1], _genesis(session) or "", why, checkpoint, signed)

    def checkpoint_digests(self) -> set[str]:
        """The digests of the checkpoint files the witness recorded."""
        return {e.checkpoint for e in self.entries() if e.checkpoint}

    def check(self, session: Session) -> WitnessCheck:
        """Compare the chain in ``session`` with every recorded head (see the module docstring)."""
        entries, problems, _ = self._read()
        result = WitnessCheck(problems=list(problems), entries=len(entries))
        if not entries:
            if not problems:
                result.notes.append(
                    f"no witness yet at {self.path}: this verify starts one (heads are "
                    "recorded at every signature, export and verify)"
                )
            return result
        genesis = _genesis(session)
        if genesis is not None and any(e.genesis != genesis for e in entries):
            other = next(e for e in entries if e.genesis != genesis)
            result.problems.append(
                f"the witness recorded another trail (its first event differs, line "
                f"{other.line}, {other.at}): this database was replaced or re-created"
            )
            return result
        last = max(entries, key=lambda e: e.seq)
        head = session.execute(
            select(AuditEventRow.id).order_by(AuditEventRow.id.desc()).limit(1)
        ).scalar()
        head = head or 0
        if last.seq > head:
            result.problems.append(
                f"the trail ends at event {head} but the witness recorded event {last.seq} "
                f"({last.why}, {last.at}): events were deleted or the database was rolled "
                "back to an older copy"
            )
        wanted = {e.seq: e for e in entries if e.seq <= head}
        stored = dict(_hashes(session, wanted))
        for seq, entry in sorted(wanted.items()):
            if stored.get(seq) != entry.hash:
                result.problems.append(
                    f"event {seq} differs from the head the witness recorded ({entry.why}, "
                    f"{entry.at}): the trail was rewritten"
                )
                break
        result.covered_to = min(last.seq, head)
        if head > last.seq:
            result.notes.append(
                f"events {last.seq + 1}-{head} are not covered by the witness (written since "
                f"the last signature, export or verify recorded here){_who(session, last.seq)}"
            )
        return result


def _lock(fd: int) -> None:
    """An exclusive lock on the open witness until it is closed (POSIX; elsewhere none)."""
    try:
        import fcntl
    except ImportError:  # Windows: appends of one short line are still whole
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def unwitnessed_signatures(session: Session, witness: Witness) -> list[str]:
    """Cryptographic signatures whose making the witness did not record (``signature N`` lines).

    A signature made by Caliper records its head in the witness at once; one that is
    missing there was made on another workstation with its own witness, or written
    into the database by someone else (with a key pair swapped in through forged events).
    """
    from storage.db.models import RecordSignatureRow, SignatureRow

    recorded = {e.why for e in witness.entries()}
    missing = [
        f"signature {sid}"
        for (sid,) in session.execute(
            select(SignatureRow.id)
            .where(SignatureRow.ed25519.is_not(None))
            .order_by(SignatureRow.id)
        )
        if f"signature {sid}" not in recorded
    ]
    missing += [
        f"record signature {sid}"
        for (sid,) in session.execute(
            select(RecordSignatureRow.id)
            .where(RecordSignatureRow.ed25519.is_not(None))
            .order_by(RecordSignatureRow.id)
        )
        if f"record signature {sid}" not in recorded
    ]
    return missing


def _genesis(session: Session) -> str | None:
    return session.scalar(select(AuditEventRow.hash).where(AuditEventRow.id == 1))


def _hashes(session: Session, wanted: Iterable[int]) -> Iterable[tuple[int, str]]:
    seqs = sorted(wanted)
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        rows = session.execute(
            select(AuditEventRow.id, AuditEventRow.hash).where(AuditEventRow.id.in_(chunk))
        )
        yield from ((seq, digest) for seq, digest in rows)  # plain tuples, not Rows


def _who(session: Session, after: int) -> str:
    from sqlalchemy import func

    from storage.db.models import ReaderRow

    rows = session.execute(
        select(ReaderRow.username, func.count(AuditEventRow.id))
        .join(ReaderRow, ReaderRow.id == AuditEventRow.reader_id, isouter=True)
        .where(AuditEventRow.id > after)
        .group_by(ReaderRow.username)
    ).all()
    parts = [f"{name or 'no reader'}: {count}" for name, count in rows]
    return f"; attributed to {', '.join(parts)}" if parts else ""


def witness_path(url: str, sqlite_path: Path | None, data_dir: Path) -> Path:
    """Where the witness of a database lives (see the module docstring)."""
    configured = os.environ.get("CALIPER_WITNESS")
    if configured:
        return Path(configured).expanduser()
    if sqlite_path is not None:
        return sqlite_path.with_name(sqlite_path.name + ".witness")
    name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    return data_dir / "audit-witness" / f"{name}.log"


class WitnessedCheckpoints(CheckpointStore):
    """Checkpoints trusted only when the witness recorded their digest; saving records it."""

    def __init__(
        self,
        folder: Path,
        url: str,
        witness: Witness,
        signer: CheckpointSigner | None = None,
    ) -> None:
        super().__init__(folder, url, signer)
        self.witness = witness
        self.pending: str | None = None
        #: (signer, signature) of the checkpoint saved, for its witness entry; None: unsigned.
        self.pending_signature: tuple[str, str] | None = None

    def _digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def trusted(self, checkpoint: Checkpoint) -> bool:
        """Whether the witness recorded the very file the checkpoint was read from."""
        return bool(checkpoint.file_digest) and (
            checkpoint.file_digest in self.witness.checkpoint_digests()
        )

    def save(self, checkpoint: Checkpoint) -> None:
        """Write the checkpoint; its digest is :attr:`pending` until the verify records it.

        The verify records it with its head only when everything else it checks is
        intact too (``Database.verify_audit``); an unrecorded checkpoint is not trusted.
        """
        super().save(checkpoint)
        self.pending = self._digest()
        if checkpoint.signer is not None and checkpoint.signature is not None:
            self.pending_signature = (checkpoint.signer, checkpoint.signature)
