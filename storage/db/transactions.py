"""The clinical store's unit of work: read and write transactions, the open batch, audited writes.

:class:`Transactions` is what :class:`~storage.db.store.ClinicalStore` and the
collaborators it owns (patient charts, signatures, endpoint records) share: the
reader writing, one transaction per write or one for a whole
:meth:`Transactions.batch`, and the audit event that goes with every write.
It depends on a :class:`SessionSource` (``Database`` is one), never on the
database module itself, so the import graph points one way: database → store →
charts, signing, endpoints → transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from recist.model import Reader
from storage.db.audit import AuditLog
from storage.db.errors import NotFoundError, PermissionDeniedError, wrap_sqlalchemy_errors
from storage.db.locks import void_touched_signatures
from storage.db.mappers import changed_values

#: A domain record (Patient, Timepoint, Lesion, Measurement...) as a mapper makes it from a row.
_Record = TypeVar("_Record")


class SessionSource(Protocol):
    """Where sessions come from (:class:`storage.db.database.Database` is one)."""

    def read_session(self, what: str = "read") -> AbstractContextManager[Session]:
        """A session for reading, in one transaction."""
        ...

    def write_session(self, what: str = "write") -> AbstractContextManager[Session]:
        """A session whose transaction holds the write lock from its start."""
        ...


#: ``authenticate(username, password)``: the reader, or AuthenticationError.
Authenticate = Callable[[str, str], Reader]


class Transactions:
    """Transactions of one reader on one database, every write audited in its own transaction.

    Parameters
    ----------
    sessions
        Where the sessions come from.
    reader
        The stored reader who writes (``id`` set), or None for a read-only store.
    """

    def __init__(self, sessions: SessionSource, reader: Reader | None) -> None:
        if reader is not None and reader.id is None:
            raise NotFoundError(f"reader {reader.username!r} is not stored (id is None)")
        self._sessions = sessions
        self.reader = reader
        self._batch = threading.local()  # the open batch's session, per thread

    @contextmanager
    def batch(self, what: str = "composite edit") -> Iterator[None]:
        """Run the writes in the block as one transaction (see ``ClinicalStore.batch``)."""
        with self.write(what):
            yield

    @property
    def in_batch(self) -> bool:
        """True inside :meth:`batch` (on this thread)."""
        return getattr(self._batch, "session", None) is not None

    @contextmanager
    def write(self, what: str) -> Iterator[Session]:
        """A write transaction of its own, or a savepoint of the open batch."""
        outer: Session | None = getattr(self._batch, "session", None)
        if outer is not None:
            with wrap_sqlalchemy_errors(what), outer.begin_nested():
                yield outer
            return
        with self._sessions.write_session(what) as session:
            self._batch.session = session
            try:
                yield session
            finally:
                self._batch.session = None

    @contextmanager
    def read(self, what: str) -> Iterator[Session]:
        """A read transaction, or the open batch's session (which sees the batch's writes)."""
        outer: Session | None = getattr(self._batch, "session", None)
        if outer is not None:
            with wrap_sqlalchemy_errors(what):
                yield outer
            return
        with self._sessions.read_session(what) as session:
            yield session

    def writer_id(self) -> int:
        """The writing reader's id; PermissionDeniedError for a read-only store."""
        if self.reader is None or self.reader.id is None:
            raise PermissionDeniedError(
                "this store is read-only: open it with Database.store(reader)"
            )
        return self.reader.id

    def audit(
        self, session: Session, action: str, entity: str, entity_id: object, **kw: Any
    ) -> None:
        """Record one audit event of the writing reader in ``session``."""
        AuditLog.record(
            session,
            reader_id=self.writer_id(),
            action=action,
            entity=entity,
            entity_id=entity_id,
            **kw,
        )

    def audit_update(
        self,
        session: Session,
        entity: str,
        row: Any,
        old: _Record,
        from_row: Callable[[Any], _Record],
        reason: str | None,
    ) -> _Record:
        """Flush the changed ``row``, audit its old → new values, return the new record."""
        session.flush()
        new = from_row(row)
        before, after = changed_values(old, new)
        self.audit(session, "update", entity, row.id, before=before, after=after, reason=reason)
        return new

    def guard(
        self,
        session: Session,
        patient_id: int,
        from_order: int | None,
        reason: str | None,
        what: str,
    ) -> None:
        """Require a reason if signed timepoints from ``from_order`` on would change; void them."""
        void_touched_signatures(
            session, patient_id, from_order, reason, what, self.writer_id(), self.audit
        )
