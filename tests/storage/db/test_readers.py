"""Readers: roles, Argon2id passwords, authentication."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recist.errors import InvalidRecordError
from recist.model import Reader, Role
from storage.db import AuthenticationError, Database, DuplicateError, PermissionDeniedError
from storage.db.models import ReaderRow
from storage.db.passwords import hash_password, verify_password
from storage.db.readers import PasswordChangeRequiredError
from tests.storage.db.conftest import PASSWORD


def test_password_hash_is_salted_argon2id_at_a_cost_fixed_in_code() -> None:
    first, second = hash_password("secret"), hash_password("secret")
    assert first != second
    scheme, salt, verifier = first.split("$")
    assert scheme == "argon2id"  # no cost parameters stored: they cannot be lowered in the database
    assert verify_password("secret", first)
    assert verify_password("secret", second)
    assert not verify_password("Secret", first)
    assert not verify_password("secret", "!")
    assert not verify_password("secret", "scrypt$x$8$1$AAAA$AAAA")


def test_a_legacy_scrypt_hash_is_checked_only_at_its_own_cost() -> None:
    import base64
    import hashlib

    salt = b"0123456789abcdef"

    def legacy(n: int) -> str:
        key = hashlib.scrypt(b"secret", salt=salt, n=n, r=8, p=1, dklen=32)
        return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"

    assert verify_password("secret", legacy(2**14))
    assert not verify_password("secret", legacy(2))  # a cheaper cost written into the database


def test_authenticate(db: Database, alice: Reader) -> None:
    assert db.readers.authenticate("alice", PASSWORD) == alice
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("alice", "wrong")
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("nobody", PASSWORD)
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("system", "")


def test_password_is_not_stored_in_clear_or_in_the_audit_trail(db: Database, alice: Reader) -> None:
    with db.read_session() as session:
        stored = session.scalar(
            select(ReaderRow.password_hash).where(ReaderRow.username == "alice")
        )
    assert stored is not None
    assert PASSWORD not in stored
    assert all(PASSWORD not in str(e.after) for e in db.audit_events())
    created = db.audit_events(entity="reader", entity_id=alice.id)[0]
    assert created.after["role"] == "investigator"
    assert created.after["password"] == "set"


def test_usernames_are_unique_and_names_required(
    db: Database, system: Reader, alice: Reader
) -> None:
    with pytest.raises(DuplicateError, match="alice"):
        db.readers.create("alice", "Another Alice", Role.READER, "pw", by=system)
    with pytest.raises(InvalidRecordError):
        db.readers.create("carol", "  ", Role.READER, "pw", by=system)
    with pytest.raises(ValueError, match="wizard"):
        db.readers.create("carol", "Carol", "wizard", "pw", by=system)


def test_only_admins_add_readers(db: Database, alice: Reader) -> None:
    with pytest.raises(PermissionDeniedError, match="only an admin"):
        db.readers.create("mallory", "Mallory", Role.ADMIN, "pw", by=alice)


def test_list_and_system_reader(db: Database, system: Reader, alice: Reader, bob: Reader) -> None:
    assert [r.username for r in db.readers.list()] == ["alice", "bob", "system"]
    assert db.readers.ensure_system() == system
    assert system.role is Role.ADMIN
    assert db.readers.count() == 3


def test_deactivated_reader_cannot_authenticate(
    db: Database, system: Reader, alice: Reader
) -> None:
    with pytest.raises(PermissionDeniedError):
        db.readers.set_active("alice", False, by=alice)
    assert not db.readers.set_active("alice", False, by=system).active
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("alice", PASSWORD)
    assert db.readers.set_active("alice", True, by=system).active
    assert db.readers.authenticate("alice", PASSWORD) == alice
    changes = [e.after for e in db.audit_events(entity="reader", entity_id=alice.id)][1:]
    assert changes == [{"active": False}, {"active": True}]


def test_password_change_by_the_reader_or_an_admin(
    db: Database, system: Reader, alice: Reader, bob: Reader
) -> None:
    db.readers.set_password("alice", "new horse", by=alice)
    assert db.readers.authenticate("alice", "new horse") == alice
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("alice", PASSWORD)
    with pytest.raises(PermissionDeniedError):
        db.readers.set_password("alice", "bob was here", by=bob)
    db.readers.set_password("alice", PASSWORD, by=system)  # by an admin: a reset
    with pytest.raises(PasswordChangeRequiredError):
        db.readers.authenticate("alice", PASSWORD)
    assert all("horse" not in str(e.after) for e in db.audit_events())


def test_store_needs_a_stored_active_reader(db: Database, system: Reader, bob: Reader) -> None:
    from storage.db import NotFoundError

    with pytest.raises(NotFoundError):
        db.store(Reader(id=None, username="ghost", full_name="Ghost", role=Role.READER))
    with pytest.raises(NotFoundError):
        db.store(Reader(id=bob.id, username="mallory", full_name="Mallory", role=Role.ADMIN))
    db.readers.set_active("bob", False, by=system)
    with pytest.raises(PermissionDeniedError, match="inactive"):
        db.store(bob)
