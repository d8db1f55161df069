"""Issue 11, point 10: password resets by an admin (audited, changed at the next log-in)."""

from __future__ import annotations

import pytest

from recist.model import Reader
from storage.db import AuthenticationError, Database, PermissionDeniedError
from storage.db.readers import PasswordChangeRequiredError
from tests.storage.db.conftest import PASSWORD


def test_point10_reset_password_forces_a_new_one_at_next_login(
    db: Database, system: Reader, alice: Reader, bob: Reader
) -> None:
    with pytest.raises(PermissionDeniedError, match="only an admin.*Admin → Readers"):
        db.readers.reset_password("alice", "temp pass", by=bob)
    db.readers.reset_password("alice", "temp pass", by=system)
    assert db.readers.password_change_required("alice")
    with pytest.raises(AuthenticationError):  # the old password is gone
        db.readers.authenticate("alice", PASSWORD)
    with pytest.raises(PasswordChangeRequiredError, match="choose a new password"):
        db.readers.authenticate("alice", "temp pass")
    with pytest.raises(ValueError, match="different"):
        db.readers.change_password("alice", "temp pass", "temp pass")
    assert db.readers.change_password("alice", "temp pass", "my own") == alice
    assert not db.readers.password_change_required("alice")
    assert db.readers.authenticate("alice", "my own") == alice
    events = db.audit_events(entity="reader", entity_id=alice.id)
    assert [(e.action, e.reader_id, e.after.get("password")) for e in events[1:]] == [
        ("update", system.id, "reset"),
        ("update", alice.id, "changed"),
    ]
    assert all("temp pass" not in str(e.after) and "my own" not in str(e.after) for e in events)
    assert db.verify_audit().ok


def test_point10_the_system_reader_has_no_password_to_reset(db: Database, system: Reader) -> None:
    with pytest.raises(PermissionDeniedError, match="never logs in"):
        db.readers.reset_password("system", "x", by=system)
