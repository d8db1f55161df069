"""Readers: creation (audited), scrypt passwords, authentication, password resets.

A password reset by an admin is stored as ``change$`` followed by the scrypt hash
of the temporary password: the reader logs in with it once and must choose a new
one (:class:`PasswordChangeRequiredError`); the flag lives in the same value as the
password, so the two can never disagree, and no schema change was needed.
"""

from __future__ import annotations

from typing import Any

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
from storage.db.transactions import SessionSource

#: Username of the account ``caliper db init`` creates for scripted imports; it cannot log in.
SYSTEM_USERNAME = "system"
#: Prefix of a stored hash whose password was set by an admin and must be changed at log-in.
MUST_CHANGE_PREFIX = "change$"
#: How to get an administrator when there is none (the way out in error messages).
ADD_ADMIN_HINT = (
    "in the window an administrator uses Admin → Readers…; on the command line run "
    f"`caliper db init` (it creates the admin reader {SYSTEM_USERNAME!r} if missing), then "
    f"`caliper reader add --username U --name \"Full Name\" --role investigator --as {SYSTEM_USERNAME}`"
)


class PasswordChangeRequiredError(AuthenticationError):
    """The password is right but was set by an admin: the reader must choose a new one first."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"the password of {username!r} was reset by an administrator; log in to Caliper "
            f"as {username} and choose a new password first"
        )
        self.username = username


def _admin_only(by: Reader, what: str) -> None:
    if by.role is not Role.ADMIN:
        raise PermissionDeniedError(
            f"{by.username} is {by.role.value}; only an admin can {what} ({ADD_ADMIN_HINT})"
        )


class ReaderRepository:
    """Readers of one database (``Database.readers``)."""

    model_type = ReaderRow

    def __init__(self, database: SessionSource) -> None:
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
        if by is not None:
            _admin_only(by, "add readers")
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
        if by.username != username:
            _admin_only(by, what)
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
        _admin_only(by, "activate or deactivate readers")

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

    def reset_password(self, username: str, temporary_password: str, *, by: Reader) -> Reader:
        """Give a reader a temporary password (admins only); audited without the password.

        The reader can log in with it once and must then choose a new password
        (:meth:`authenticate` raises :class:`PasswordChangeRequiredError`,
        :meth:`change_password` clears it); until then it cannot sign either.

        Raises
        ------
        PermissionDeniedError
            ``by`` is not an admin, or *username* is the system reader (which never logs in).
        NotFoundError
            No such reader.
        ValueError
            The temporary password is empty.
        """
        _admin_only(by, "reset passwords")
        if username == SYSTEM_USERNAME:
            raise PermissionDeniedError(
                f"{SYSTEM_USERNAME!r} is for scripts and never logs in; it has no password to reset"
            )
        new_hash = MUST_CHANGE_PREFIX + hash_password(temporary_password)

        def apply(row: ReaderRow) -> tuple[dict[str, Any], dict[str, Any]]:
            row.password_hash = new_hash
            return {"password": "previous"}, {"password": "reset", "must_change_password": True}

        return self._change(username, by, "reset the password of", apply)

    def change_password(self, username: str, old_password: str, new_password: str) -> Reader:
        """A reader replaces their password (e.g. the temporary one an admin set); audited.

        Raises
        ------
        AuthenticationError
            *old_password* is wrong or the reader is inactive.
        ValueError
            The new password is empty or the same as the old one.
        """
        try:
            reader = self.authenticate(username, old_password)
        except PasswordChangeRequiredError:
            reader = self.get(username)
        if not new_password:
            raise ValueError("the new password must not be empty")
        if new_password == old_password:
            raise ValueError("choose a password different from the one you logged in with")
        return self.set_password(username, new_password, by=reader)

    def password_change_required(self, username: str) -> bool:
        """True while the reader's password is a temporary one set by an admin."""
        with self._db.read_session(f"find reader {username}") as session:
            stored = session.scalar(
                select(ReaderRow.password_hash).where(ReaderRow.username == username)
            )
        return stored is not None and stored.startswith(MUST_CHANGE_PREFIX)

    def ensure_system(self) -> Reader:
        """Return the ``system`` admin reader, creating it if the database has none.

        ``caliper db init`` and a first start that cannot ask for an administrator call
        this, so that ``--as system`` can always add the first real readers.
        """
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
        PasswordChangeRequiredError
            The password is right but temporary (set by an admin): the reader
            must choose a new one with :meth:`change_password` first.
        AuthenticationError
            Unknown username, wrong password, disabled account or inactive reader
            (one message for all, so it does not reveal which).
        """
        with self._db.read_session("authenticate") as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            stored = row.password_hash if row is not None else None
            reader = reader_from_row(row) if row is not None else None
        temporary = stored is not None and stored.startswith(MUST_CHANGE_PREFIX)
        if temporary and stored is not None:
            stored = stored[len(MUST_CHANGE_PREFIX):]
        if (
            reader is None
            or stored is None
            or not verify_password(password, stored)
            or not reader.active
        ):
            raise AuthenticationError(
                "wrong username or password, or the reader is inactive (an administrator "
                "can reset the password in Admin → Readers…)"
            )
        if temporary:
            raise PasswordChangeRequiredError(username)
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
