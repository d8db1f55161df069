"""Readers as an administrator sees them: the first administrator, adding readers, resets.

Qt-free.  :func:`create_first_admin` is what the first start of the window calls
with what the reader typed; :class:`ReaderAdminController` is behind Admin →
Readers… (the dialog never imports ``storage``).  Every change goes through
:class:`storage.db.readers.ReaderRepository`, so it is audited as the acting admin.
Each error message says how to get out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist.limits import texts_problem
from recist.model import Reader, Role
from storage.db.readers import ADD_ADMIN_HINT, SYSTEM_USERNAME

if TYPE_CHECKING:
    from storage.db import Database

__all__ = ["ReaderAdminController", "ReaderEntry", "ReaderAdminError", "create_first_admin"]

#: Roles an admin can give, in the order the dialog offers them.
ROLES: tuple[str, ...] = (Role.READER.value, Role.INVESTIGATOR.value, Role.ADMIN.value)


class ReaderAdminError(ValueError):
    """A reader could not be added or changed; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class ReaderEntry:
    """One row of the Readers dialog."""

    username: str
    full_name: str
    role: str
    active: bool
    is_system: bool
    must_change_password: bool

    @property
    def state(self) -> str:
        """What the dialog shows in its State column."""
        if self.is_system:
            return "scripts only (cannot log in)"
        if not self.active:
            return "inactive"
        return "must choose a new password" if self.must_change_password else "active"


def _check_new_password(password: str, repeat: str) -> None:
    if not password:
        raise ReaderAdminError("Type a password (twice).")
    if password != repeat:
        raise ReaderAdminError("The two passwords differ; type the same password twice.")


def _check_names(username: str, full_name: str) -> None:
    """Refuse a username or full name that some site's database could not store."""
    problem = texts_problem(
        ("username", username, "username"), ("full name", full_name, "full_name")
    )
    if problem is not None:
        raise ReaderAdminError(f"{problem[0].upper()}{problem[1:]}.")


def create_first_admin(
    database: Database, username: str, full_name: str, password: str, repeat: str
) -> Reader:
    """Create the first administrator of a new database (and ``system``, as ``db init`` does).

    Raises
    ------
    ReaderAdminError
        Empty fields, passwords that differ, a taken username, or an administrator
        already exists (then log in as that administrator instead).
    """
    from storage.db import RepositoryError

    username, full_name = username.strip(), full_name.strip()
    if not full_name or not username:
        raise ReaderAdminError("Type the administrator's full name and a username.")
    if username == SYSTEM_USERNAME:
        raise ReaderAdminError(
            f"{SYSTEM_USERNAME!r} is reserved for scripts; choose another username."
        )
    _check_names(username, full_name)
    _check_new_password(password, repeat)
    system = database.readers.ensure_system()
    admins = [
        r for r in database.readers.list() if r.role is Role.ADMIN and r.username != SYSTEM_USERNAME
    ]
    if admins:
        raise ReaderAdminError(
            f"This database already has an administrator ({admins[0].username}); log in as them."
        )
    try:
        return database.readers.create(username, full_name, Role.ADMIN, password, by=system)
    except (RepositoryError, ValueError) as exc:
        raise ReaderAdminError(f"Could not create {username!r}: {exc}") from exc


class ReaderAdminController:
    """The readers of one database, managed by *actor* (Admin → Readers…).

    Parameters
    ----------
    database : storage.db.Database
        Where readers live.
    actor : recist.model.Reader
        The reader logged in; only an admin may change anything.
    """

    roles = ROLES

    def __init__(self, database: Database, actor: Reader) -> None:
        self._db = database
        self.actor = actor

    @property
    def can_manage(self) -> bool:
        """True if the reader logged in is an admin."""
        return self.actor.role is Role.ADMIN

    @property
    def why_not(self) -> str:
        """Why Admin → Readers… is disabled, and what to do instead."""
        return (
            f"{self.actor.full_name} is {self.actor.role.value}; only an administrator manages "
            f"readers. If there is none: {ADD_ADMIN_HINT}."
        )

    def readers(self) -> list[ReaderEntry]:
        """Every reader, by username."""
        repo = self._db.readers
        return [
            ReaderEntry(
                r.username,
                r.full_name,
                r.role.value,
                r.active,
                r.username == SYSTEM_USERNAME,
                repo.password_change_required(r.username),
            )
            for r in repo.list()
        ]

    def add_reader(
        self, username: str, full_name: str, role: str, password: str, repeat: str
    ) -> Reader:
        """Add a reader, investigator or admin with a first password (audited as the admin)."""
        username, full_name = username.strip(), full_name.strip()
        if not username or not full_name:
            raise ReaderAdminError(
                "Type a username and the reader's full name (it is printed on signatures)."
            )
        if role not in ROLES:
            raise ReaderAdminError(f"Choose a role: {', '.join(ROLES)}.")
        _check_names(username, full_name)
        _check_new_password(password, repeat)
        return self._call(
            f"add {username!r}",
            lambda: self._db.readers.create(
                username, full_name, Role(role), password, by=self.actor
            ),
        )

    def reset_password(self, username: str, password: str, repeat: str) -> Reader:
        """Give *username* a temporary password; they choose a new one at their next log-in."""
        _check_new_password(password, repeat)
        if username == self.actor.username:
            raise ReaderAdminError(
                "This is you: log out and use your own password; "
                "another administrator can reset it."
            )
        return self._call(
            f"reset the password of {username!r}",
            lambda: self._db.readers.reset_password(username, password, by=self.actor),
        )

    def set_active(self, username: str, active: bool) -> Reader:
        """Allow or stop a reader from logging in (never deleted; audited)."""
        if username == self.actor.username and not active:
            raise ReaderAdminError("You cannot deactivate yourself; another administrator can.")
        return self._call(
            f"change {username!r}",
            lambda: self._db.readers.set_active(username, active, by=self.actor),
        )

    @staticmethod
    def _call(what: str, action: Callable[[], Reader]) -> Reader:
        from storage.db import RepositoryError

        try:
            return action()
        except (RepositoryError, ValueError) as exc:
            raise ReaderAdminError(f"Could not {what}: {exc}") from exc
