"""Readers: creation (audited), scrypt passwords, authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from recist.model import Reader, Role
from storage.db.audit import AuditLog
from storage.db.errors import (
    AuthenticationError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
)
from storage.db.mappers import reader_from_row, record_values
from storage.db.models import ReaderRow
from storage.db.passwords import DISABLED, hash_password, verify_password

if TYPE_CHECKING:
    from storage.db.database import Database

#: Username of the account ``caliper db init`` creates for scripted imports; it cannot log in.
SYSTEM_USERNAME = "system"


class ReaderRepository:
    """Readers of one database (``Database.readers``)."""

    model_type = ReaderRow

    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self,
        username: str,
        full_name: str,
        role: Role | str,
        password: str | None,
        *,
        by: Reader | None = None,
    ) -> Reader:
        """Create a reader; the event is audited as ``by`` (None for the first reader).

        Parameters
        ----------
        username
            Unique login name.
        full_name
            Printed name, used on signatures.
        role
            ``reader``, ``investigator`` or ``admin``.
        password
            Clear-text password (hashed with scrypt); None creates an account
            that can never authenticate (the system reader).
        by
            The admin creating the account.

        Raises
        ------
        DuplicateError
            The username is taken.
        recist.errors.InvalidRecordError
            Empty username or name, or unknown role.
        """
        if by is not None and by.role is not Role.ADMIN:
            raise PermissionDeniedError(
                f"{by.username} is {by.role.value}; only an admin adds readers"
            )
        record = Reader(
            id=None, username=username.strip(), full_name=full_name.strip(), role=Role(role)
        )
        stored_hash = hash_password(password) if password is not None else DISABLED
        with self._db.write_session(f"add reader {username}") as session:
            if session.scalar(select(ReaderRow.id).where(ReaderRow.username == record.username)):
                raise DuplicateError(f"reader {record.username!r} already exists")
            row = ReaderRow(
                username=record.username,
                full_name=record.full_name,
                role=record.role.value,
                active=True,
                password_hash=stored_hash,
            )
            session.add(row)
            session.flush()
            created = reader_from_row(row)
            after = record_values(created) | {"password": "set" if password is not None else "none"}
            AuditLog.record(
                session,
                reader_id=by.id if by else row.id,
                action="create",
                entity="reader",
                entity_id=row.id,
                after=after,
            )
        return created

    def _change(self, username: str, by: Reader, what: str, apply: Any) -> Reader:
        """Apply ``apply(row) -> (before, after)`` to a reader row as admin ``by``, audited."""
        if by.role is not Role.ADMIN and by.username != username:
            raise PermissionDeniedError(
                f"{by.username} is {by.role.value}; only an admin can {what}"
            )
        with self._db.write_session(f"{what} {username}") as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            if row is None:
                raise NotFoundError(f"no reader {username!r}")
            before, after = apply(row)
            session.flush()
            AuditLog.record(
                session,
                reader_id=by.id,
                action="update",
                entity="reader",
                entity_id=row.id,
                before=before,
                after=after,
            )
            return reader_from_row(row)

    def set_active(self, username: str, active: bool, *, by: Reader) -> Reader:
        """Activate or deactivate a reader (admins only); a reader is never deleted.

        Raises
        ------
        PermissionDeniedError
            ``by`` is not an admin.
        NotFoundError
            No such reader.
        """
        if by.role is not Role.ADMIN:
            raise PermissionDeniedError(
                f"{by.username} is {by.role.value}; only an admin can do that"
            )

        def apply(row: ReaderRow) -> tuple[dict[str, Any], dict[str, Any]]:
            before = {"active": row.active}
            row.active = active
            return before, {"active": active}

        return self._change(username, by, "change the state of", apply)

    def set_password(self, username: str, new_password: str, *, by: Reader) -> Reader:
        """Set a reader's password (the reader themself or an admin); audited without the password.

        Raises
        ------
        PermissionDeniedError
            ``by`` is neither the reader nor an admin.
        ValueError
            The new password is empty.
        """
        new_hash = hash_password(new_password)

        def apply(row: ReaderRow) -> tuple[dict[str, Any], dict[str, Any]]:
            row.password_hash = new_hash
            return {"password": "previous"}, {"password": "changed"}

        return self._change(username, by, "set the password of", apply)

    def ensure_system(self) -> Reader:
        """Return the ``system`` admin reader, creating it if the database has none."""
        try:
            return self.get(SYSTEM_USERNAME)
        except NotFoundError:
            return self.create(
                SYSTEM_USERNAME, "Caliper system (scripted imports)", Role.ADMIN, None
            )

    def get(self, username: str) -> Reader:
        """The reader with this username.

        Raises
        ------
        NotFoundError
            No such reader.
        """
        with self._db.read_session(f"find reader {username}") as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            if row is None:
                raise NotFoundError(f"no reader {username!r}")
            return reader_from_row(row)

    def by_id(self, reader_id: int) -> Reader:
        """The reader with this id (raises NotFoundError)."""
        with self._db.read_session(f"find reader {reader_id}") as session:
            row = session.get(ReaderRow, reader_id)
            if row is None:
                raise NotFoundError(f"no reader with id {reader_id}")
            return reader_from_row(row)

    def authenticate(self, username: str, password: str) -> Reader:
        """Check a password and return the reader.

        Raises
        ------
        AuthenticationError
            Unknown username, wrong password, disabled account or inactive reader
            (one message for all, so it does not reveal which).
        """
        with self._db.read_session("authenticate") as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            stored = row.password_hash if row is not None else None
            reader = reader_from_row(row) if row is not None else None
        if (
            reader is None
            or stored is None
            or not verify_password(password, stored)
            or not reader.active
        ):
            raise AuthenticationError("wrong username or password, or the reader is inactive")
        return reader

    def list(self) -> list[Reader]:
        """Every reader, by username."""
        with self._db.read_session("list readers") as session:
            return [
                reader_from_row(r)
                for r in session.scalars(select(ReaderRow).order_by(ReaderRow.username))
            ]

    def count(self) -> int:
        """How many readers exist."""
        with self._db.read_session("count readers") as session:
            return int(session.scalar(select(func.count(ReaderRow.id))) or 0)
