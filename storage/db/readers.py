"""Readers: creation (audited), passwords, signing keys, authentication, password resets.

Every reader with a password has an Ed25519 key pair; the private key is stored
encrypted under a key derived from the password (:mod:`storage.db.passwords`), and
every event that sets a key records the public key in the audit trail, so that
signatures are verified with the public keys the trail recorded.

A password reset by an admin is stored as ``change$`` followed by the verifier of
the temporary password, and makes a **new key pair** (the admin cannot decrypt the
old private key, and signatures under the old key stay verifiable but can no longer
be made): the reader logs in with it once and must choose a new one
(:class:`PasswordChangeRequiredError`), which makes yet another key pair that the
admin never saw.  The flag lives in the same value as the password, so the two can
never disagree.

The ``system`` reader never has a password: it cannot log in or sign, and it adds
readers only while no administrator exists (the first one, for scripted set-ups).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from recist.model import Reader, Role
from storage.db.audit import AuditLog, Keyring
from storage.db.errors import (
    AuthenticationError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
)
from storage.db.mappers import check_texts, reader_from_row, record_values
from storage.db.models import ReaderRow
from storage.db.passwords import (
    DISABLED,
    Credentials,
    check_password,
    new_credentials,
    unlock_private_key,
)
from storage.db.transactions import SessionSource

#: Username of the account ``caliper db init`` creates for scripted imports; it cannot log in.
SYSTEM_USERNAME = "system"
#: Prefix of a stored hash whose password was set by an admin and must be changed at log-in.
MUST_CHANGE_PREFIX = "change$"
#: How to get an administrator when there is none (the way out in error messages).
ADD_ADMIN_HINT = (
    "in the window an administrator uses Admin → Readers…; on the command line run "
    f"`caliper db init` (it creates the admin reader {SYSTEM_USERNAME!r} if missing), then "
    '`caliper reader add --username U --name "Full Name" --role investigator '
    f"--as {SYSTEM_USERNAME}`"
)


class PasswordChangeRequiredError(AuthenticationError):
    """The password is right but was set by an admin: the reader must choose a new one first."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"the password of {username!r} was reset by an administrator; log in to Caliper "
            f"as {username} and choose a new password first"
        )
        self.username = username


@dataclass(frozen=True)
class UnlockedReader:
    """An authenticated reader and their private signing key, decrypted with the password."""

    reader: Reader
    private_key: Ed25519PrivateKey
    public_key: str


def _set_credentials(row: ReaderRow, credentials: Credentials, must_change: bool = False) -> None:
    row.password_hash = (MUST_CHANGE_PREFIX if must_change else "") + credentials.password_hash
    row.public_key = credentials.public_key
    row.signing_key = credentials.signing_key


def _no_system_password(username: str) -> None:
    if username == SYSTEM_USERNAME:
        raise PermissionDeniedError(
            f"{SYSTEM_USERNAME!r} is for scripted imports and never logs in or signs; "
            "it cannot have a password"
        )


def _admin_only(by: Reader, what: str) -> None:
    if by.role is not Role.ADMIN:
        raise PermissionDeniedError(
            f"{by.username} is {by.role.value}; only an admin can {what} ({ADD_ADMIN_HINT})"
        )


class ReaderRepository:
    """Readers of one database (``Database.readers``)."""

    model_type = ReaderRow

    def __init__(self, database: SessionSource, keyring: Keyring | None = None) -> None:
        self._db = database
        #: The private keys unlocked in this session; the database's write sessions sign
        #: each audit event with the key of the reader it is written in the name of.
        self.keyring = keyring if keyring is not None else Keyring()

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
        check_texts(  # the same limits on SQLite and PostgreSQL (recist.limits)
            "reader",
            ("username", record.username, "username"),
            ("full name", record.full_name, "full_name"),
        )
        if password is not None:
            _no_system_password(record.username)
        key = Ed25519PrivateKey.generate() if password is not None else None
        credentials = new_credentials(password, key) if password is not None else None
        with self._db.write_session(f"add reader {username}") as session:
            if by is not None and by.username == SYSTEM_USERNAME:
                self._system_bootstrap_only(session)
            if session.scalar(select(ReaderRow.id).where(ReaderRow.username == record.username)):
                raise DuplicateError(f"reader {record.username!r} already exists")
            row = ReaderRow(
                username=record.username,
                full_name=record.full_name,
                role=record.role.value,
                active=True,
                password_hash=DISABLED,
            )
            if credentials is not None:
                _set_credentials(row, credentials)
            session.add(row)
            session.flush()
            if credentials is not None and key is not None:
                # whoever chose the password could unlock the key: keep it for the session
                # (a first reader's own creation event is signed with it)
                self.keyring.hold(row.id, credentials.public_key, key)
            created = reader_from_row(row)
            after = record_values(created) | {
                "password": "set" if password is not None else "none",
                "public_key": row.public_key,
            }
            AuditLog.record(
                session,
                reader_id=by.id if by else row.id,
                action="create",
                entity="reader",
                entity_id=row.id,
                after=after,
            )
        return created

    @staticmethod
    def _system_bootstrap_only(session: Any) -> None:
        """``system`` adds readers only while no administrator who can log in exists."""
        admins = session.scalars(
            select(ReaderRow.username).where(
                ReaderRow.role == Role.ADMIN.value,
                ReaderRow.active.is_(True),
                ReaderRow.username != SYSTEM_USERNAME,
                ReaderRow.public_key.is_not(None),
            )
        ).all()
        if admins:
            raise PermissionDeniedError(
                f"{SYSTEM_USERNAME!r} adds readers only until the first administrator exists; "
                f"now an administrator ({', '.join(admins)}) adds them, with their password"
            )

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
        """Set a reader's password with a new key pair; audited without the password.

        Set by the reader themself, the password is theirs; set by an admin for
        someone else it is a reset (:meth:`reset_password`: changed at next log-in).
        A reader who knows the old password keeps their key pair with
        :meth:`change_password`.

        Raises
        ------
        PermissionDeniedError
            ``by`` is neither the reader nor an admin, or *username* is ``system``.
        ValueError
            The new password is empty.
        """
        if by.username != username:
            return self.reset_password(username, new_password, by=by)
        _no_system_password(username)
        key = Ed25519PrivateKey.generate()
        return self._store_credentials(
            username, by, new_credentials(new_password, key), "changed", new_key=key
        )

    def _store_credentials(
        self,
        username: str,
        by: Reader,
        credentials: Credentials,
        what: str,
        must_change: bool = False,
        new_key: Ed25519PrivateKey | None = None,
    ) -> Reader:
        """Store new credentials (audited with the public key, never the password).

        A reader's own change is signed with the key they had (or, a first key, with
        ``new_key``), which the keyring then holds instead; after someone else's change
        (a reset) the reader's held key is dropped.
        """

        def apply(row: ReaderRow) -> tuple[dict[str, Any], dict[str, Any]]:
            before = {"password": "previous", "public_key": row.public_key}
            _set_credentials(row, credentials, must_change)
            after: dict[str, Any] = {"password": what, "public_key": credentials.public_key}
            if must_change:
                after["must_change_password"] = True
            return before, after

        own = by.username == username
        if own and new_key is not None and by.id is not None and not self._holds(by.id):
            self.keyring.hold(by.id, credentials.public_key, new_key)  # a first key signs itself
        reader = self._change(username, by, f"set the password ({what}) of", apply)
        if reader.id is not None:
            if own and new_key is not None:
                self.keyring.hold(reader.id, credentials.public_key, new_key)
            elif not own:
                self.keyring.drop(reader.id)
        return reader

    def _holds(self, reader_id: int) -> bool:
        return self.keyring.get(reader_id) is not None

    def reset_password(self, username: str, temporary_password: str, *, by: Reader) -> Reader:
        """Give a reader a temporary password (admins only); audited without the password.

        The reader can log in with it once and must then choose a new password
        (:meth:`authenticate` raises :class:`PasswordChangeRequiredError`,
        :meth:`change_password` clears it); until then it cannot sign either.  The
        reset makes a new key pair: the old private key (encrypted under a password the
        admin does not know) is gone, so no signature can be made under it any more.

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
        return self._store_credentials(
            username, by, new_credentials(temporary_password), "reset", must_change=True
        )

    def change_password(self, username: str, old_password: str, new_password: str) -> Reader:
        """A reader replaces their password (e.g. the temporary one an admin set); audited.

        Raises
        ------
        AuthenticationError
            *old_password* is wrong or the reader is inactive.
        ValueError
            The new password is empty or the same as the old one.
        """
        if not new_password:
            raise ValueError("the new password must not be empty")
        if new_password == old_password:
            raise ValueError("choose a password different from the one you logged in with")
        try:
            unlocked, temporary = self._unlocked(username, old_password)
        except PasswordChangeRequiredError:
            # a temporary password of the earlier scheme (no key to sign with): a first key
            reader = self.get(username)
            key = Ed25519PrivateKey.generate()
            return self._store_credentials(
                username, reader, new_credentials(new_password, key), "changed", new_key=key
            )
        if unlocked.reader.id is not None:  # the change is signed with the key it replaces
            self.keyring.hold(unlocked.reader.id, unlocked.public_key, unlocked.private_key)
        # after a reset the admin knew the temporary password: a key pair of the reader's own
        key = Ed25519PrivateKey.generate() if temporary else unlocked.private_key
        return self._store_credentials(
            username, unlocked.reader, new_credentials(new_password, key), "changed", new_key=key
        )

    def password_change_required(self, username: str) -> bool:
        """True while the reader's password is a temporary one set by an admin."""
        with self._db.read_session(f"find reader {username}") as session:
            stored = session.scalar(
                select(ReaderRow.password_hash).where(ReaderRow.username == username)
            )
        return stored is not None and stored.startswith(MUST_CHANGE_PREFIX)

    def public_key(self, username: str) -> str | None:
        """The reader's current Ed25519 public key (base64), None if they have none."""
        with self._db.read_session(f"find reader {username}") as session:
            return session.scalar(
                select(ReaderRow.public_key).where(ReaderRow.username == username)
            )

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

        The password must also decrypt the reader's private signing key to the
        stored public key: a password verifier replaced in the database (by someone
        who wants to log in as the reader) does not, and is refused.  ``system`` never
        authenticates, whatever is stored for it.  A hash of the earlier scheme is
        replaced, with a new key pair, once the password is known (audited).

        Raises
        ------
        PasswordChangeRequiredError
            The password is right but temporary (set by an admin): the reader
            must choose a new one with :meth:`change_password` first.
        AuthenticationError
            Unknown username, wrong password, disabled account or inactive reader
            (one message for all, so it does not reveal which).
        """
        return self.unlock(username, password).reader

    def unlock(self, username: str, password: str) -> UnlockedReader:
        """Authenticate (as :meth:`authenticate`) and decrypt the reader's private signing key.

        The key is kept in :attr:`keyring` for the session: the reader's audit events are
        signed with it.
        """
        unlocked, temporary = self._unlocked(username, password)
        if temporary:
            raise PasswordChangeRequiredError(username)
        if unlocked.reader.id is not None:
            self.keyring.hold(unlocked.reader.id, unlocked.public_key, unlocked.private_key)
        return unlocked

    def _unlocked(self, username: str, password: str) -> tuple[UnlockedReader, bool]:
        """The reader and their decrypted key, and whether the password is a temporary one."""
        with self._db.read_session("authenticate") as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            stored = row.password_hash if row is not None else None
            public, sealed = (row.public_key, row.signing_key) if row is not None else (None, None)
            reader = reader_from_row(row) if row is not None else None
        temporary = stored is not None and stored.startswith(MUST_CHANGE_PREFIX)
        if temporary and stored is not None:
            stored = stored[len(MUST_CHANGE_PREFIX) :]
        checked = check_password(password, stored) if stored else None
        refused = AuthenticationError(
            "wrong username or password, or the reader is inactive (an administrator "
            "can reset the password in Admin → Readers…)"
        )
        if reader is None or checked is None or not reader.active or username == SYSTEM_USERNAME:
            raise refused
        if checked.legacy:
            if temporary:
                raise PasswordChangeRequiredError(username)
            # a hash of the earlier scheme: the password is known now, so give it a key pair
            first = Ed25519PrivateKey.generate()
            credentials = new_credentials(password, first)
            self._store_credentials(username, reader, credentials, "upgraded", new_key=first)
            return self._unlocked(username, password)
        key = (
            unlock_private_key(checked.kek, public, sealed)
            if checked.kek is not None and public and sealed
            else None
        )
        if key is None:
            raise AuthenticationError(
                f"the password of {username!r} does not open their signing key (the database "
                "was changed outside Caliper?); an administrator must reset the password"
            )
        return UnlockedReader(reader, key, public or ""), temporary

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
