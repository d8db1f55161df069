"""Per-event reader signatures (issue 13): an event in a reader's name needs the reader's key.

The attacker can write the database and knows every algorithm, so they can append events
with a correct chain hash; without the reader's private key (encrypted under the
reader's password) they cannot sign them, and ``audit verify`` fails naming the event and
the reader.  SQLite and PostgreSQL (the ``db`` fixture runs each test on both).
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recist.model import Patient, Reader
from storage.db import AuthenticationError, ClinicalStore, Database, open_database
from storage.db.audit import SIGNING_START
from storage.db.migrate import alembic_config
from storage.db.models import AuditEventRow
from tests.storage.db.conftest import PASSWORD
from tests.storage.db.test_tamper import forge_event


def _add(store: ClinicalStore, subject: str) -> Patient:
    return store.add_patient(Patient(id=None, subject_id=subject))


def _last(db: Database) -> AuditEventRow:
    with db.read_session() as session:
        row = session.scalar(select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(1))
        assert row is not None
        return row


def _forge_site_update(
    db: Database,
    reader: Reader,
    patient: Patient,
    site: str,
    signature: str | None = None,
    sign_with: object = None,
) -> int:
    """Append a forged "update patient site" event in *reader*'s name and make the table
    match it (so only the event's signature can give it away); the event's sequence."""
    with Session(db.engine) as session, session.begin():
        forge_event(
            session,
            reader_id=reader.id,
            action="update",
            entity="patient",
            entity_id=patient.id,
            before={"site": ""},
            after={"site": site},
            signature=signature,
            sign_with=sign_with,
        )
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE patient SET site = :site"), {"site": site})
    return _last(db).id


def test_a_genuine_write_is_signed_and_verifies(
    db: Database, store: ClinicalStore, bob: Reader, alice: Reader
) -> None:
    _add(store, "S-001")
    event = _last(db)
    assert event.reader_id == bob.id
    assert event.signature  # bob's Ed25519 signature over the chain hash
    report = db.verify_audit(full=True)
    assert report.ok, report
    # system's events (its creation, bob's and alice's creation) carry none, by design
    assert report.unsigned_events == 3
    assert "3 events carry no reader signature" in str(report)


def test_an_appended_event_in_an_investigators_name_fails(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    patient = _add(store, "S-001")
    assert db.verify_audit().ok  # a checkpoint: the next verify checks only what is new
    seq = _forge_site_update(db, alice, patient, "forged")
    for full in (False, True):
        report = db.verify_audit(full=full)
        assert not report.ok
        assert report.first_broken_seq == seq
        assert f"event {seq} (update patient {patient.id}) in the name of alice" in str(report)
        assert "carries no signature" in str(report)


def test_a_signature_copied_from_another_event_fails(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    investigator = db.store(alice)
    patient = _add(investigator, "S-001")
    copied = _last(db).signature
    seq = _forge_site_update(db, alice, patient, "forged", signature=copied)
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == seq
    assert f"event {seq}" in str(report)
    assert "in the name of alice" in str(report)
    assert "not made by the key the reader had" in str(report)


def test_an_event_signed_with_a_key_replaced_by_a_reset_fails(
    db: Database, store: ClinicalStore, alice: Reader, system: Reader
) -> None:
    """Alice's old key still signs, but the trail gave her a new one at the admin's reset."""
    old = db.readers.unlock("alice", PASSWORD).private_key
    patient = _add(db.store(alice), "S-001")  # signed with the old key: genuine
    admin = db.readers.create("ada", "Ada Admin", "admin", "admin pw 1", by=system)
    db.readers.reset_password("alice", "temporary 1", by=admin)
    assert db.verify_audit().ok
    seq = _forge_site_update(db, alice, patient, "x", sign_with=old)
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == seq
    assert f"event {seq}" in str(report)
    assert "in the name of alice" in str(report)
    assert "not made by the key the reader had at that event" in str(report)


def test_a_write_without_the_readers_unlocked_key_is_refused(
    db: Database, store: ClinicalStore, bob: Reader
) -> None:
    other = open_database(db.url)  # a new session: nobody logged in
    try:
        events = len(other.audit_events())
        with pytest.raises(AuthenticationError, match="signing key of 'bob' is not unlocked"):
            other.store(other.readers.get("bob")).add_patient(Patient(id=None, subject_id="S-9"))
        assert len(other.audit_events()) == events
        assert other.read_only_store().patients() == []
        bob_again = other.readers.authenticate("bob", PASSWORD)  # log-in unlocks the key
        other.store(bob_again).add_patient(Patient(id=None, subject_id="S-9"))
        assert other.verify_audit().ok
    finally:
        other.close()


def test_events_before_migration_0007_are_counted_unsigned(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    """Back to revision 0006 (the column and its signatures go) and up again: a marker event."""
    _add(store, "S-001")
    _add(db.store(alice), "S-002")
    before = len(db.audit_events())
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_segmentation")
    db.close()
    upgraded = open_database(db.url)  # migration 0007 again: appends the signing-start event
    try:
        events = upgraded.audit_events()
        assert len(events) == before + 1
        assert (events[-1].action, events[-1].entity, events[-1].reader_id) == (
            SIGNING_START,
            "audit",
            None,
        )
        report = upgraded.verify_audit(full=True)
        assert report.ok, report
        assert report.unsigned_events == before + 1
        # after the marker an unsigned event in alice's name is a forgery again
        with Session(upgraded.engine) as session, session.begin():
            forge_event(
                session,
                reader_id=alice.id,
                action="confirm",
                entity="timepoint",
                entity_id=1,
                reason="forged",
            )
        report = upgraded.verify_audit()
        assert not report.ok
        assert f"event {before + 2} (confirm timepoint 1) in the name of alice" in str(report)
    finally:
        upgraded.close()


def test_a_forged_signing_start_event_after_signed_events_fails(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    """Unsigned events in alice's name followed by a marker, to pass them off as old ones."""
    _add(store, "S-001")
    with Session(db.engine) as session, session.begin():
        forge_event(
            session,
            reader_id=alice.id,
            action="confirm",
            entity="timepoint",
            entity_id=1,
            reason="forged",
        )
        forge_event(session, reader_id=None, action=SIGNING_START, entity="audit", entity_id="0007")
    report = db.verify_audit()
    assert not report.ok
    assert "signing-start event" in str(report)
    assert "forged" in str(report)


def test_a_forged_event_among_many_signed_ones_is_named(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    """More events than one verification batch (512): the threaded check finds it."""
    investigator = db.store(alice)
    with investigator.batch("many"):
        for i in range(300):
            _add(investigator, f"A-{i:04d}")
    copied = _last(db).signature
    with Session(db.engine) as session, session.begin():
        forge_event(
            session,
            reader_id=alice.id,
            action="confirm",
            entity="timepoint",
            entity_id=1,
            reason="forged",
            signature=copied,
        )
    forged = _last(db).id
    with investigator.batch("more"):
        for i in range(300):
            _add(investigator, f"B-{i:04d}")
    report = db.verify_audit(full=True)
    assert not report.ok
    assert report.first_broken_seq == forged
    assert f"event {forged} (confirm timepoint 1) in the name of alice" in str(report)
