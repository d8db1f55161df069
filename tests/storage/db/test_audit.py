"""The audit trail: append-only triggers, hash chain, tamper detection, CSV, concurrent writers."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from recist.model import Patient, Reader
from storage import paths
from storage.db import ClinicalStore, Database, open_database
from storage.db.audit import GENESIS_HASH, event_hash
from tests.storage.db.conftest import REPO


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_update_delete ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def _patients(store: ClinicalStore, n: int) -> None:
    for i in range(n):
        store.add_patient(Patient(id=None, subject_id=f"S-{i:03d}"))


def test_chain_links_each_event_to_the_previous(db: Database, store: ClinicalStore) -> None:
    _patients(store, 3)
    events = db.audit_events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    report = db.verify_audit()
    assert report.ok
    assert report.events_checked == len(events)


def test_hash_covers_every_field() -> None:
    from datetime import UTC, datetime

    base = dict(
        seq=1,
        at_utc=datetime(2026, 1, 1, tzinfo=UTC),
        reader_id=1,
        action="create",
        entity="patient",
        entity_id="1",
        before_json=None,
        after_json='{"a":1}',
        reason=None,
        prev_hash=GENESIS_HASH,
    )
    reference = event_hash(**base)  # type: ignore[arg-type]
    for key, value in [
        ("seq", 2),
        ("reader_id", 2),
        ("action", "delete"),
        ("entity_id", "2"),
        ("after_json", '{"a":2}'),
        ("reason", "typo"),
        ("prev_hash", "1" * 64),
        ("at_utc", datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)),
    ]:
        assert event_hash(**{**base, key: value}) != reference, key  # type: ignore[arg-type]


def test_triggers_refuse_update_and_delete(db: Database, store: ClinicalStore) -> None:
    _patients(store, 1)
    for statement in ("UPDATE audit_event SET reason = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert db.verify_audit().ok


def test_edited_event_is_reported_as_the_first_broken_link(
    db: Database, store: ClinicalStore
) -> None:
    _patients(store, 4)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_event SET after_json = replace(after_json, 'S-001', 'S-999') "
                "WHERE id = 4"
            )
        )
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == 4
    assert "edited" in report.problem
    assert report.events_checked == 3


def test_deleted_event_is_reported(db: Database, store: ClinicalStore) -> None:
    _patients(store, 4)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = 3"))
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == 4
    assert "deleted" in report.problem


def test_rehashed_edit_still_breaks_the_next_link(db: Database, store: ClinicalStore) -> None:
    """A tamperer who recomputes the edited event's hash breaks the following event's prev_hash."""
    _patients(store, 3)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET hash = :h WHERE id = 2"), {"h": "f" * 64})
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == 2


def test_csv_export_for_an_inspector(db: Database, store: ClinicalStore, tmp_path: Path) -> None:
    _patients(store, 2)
    out = tmp_path / "audit.csv"
    count = db.export_audit_csv(out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == count == len(db.audit_events())
    assert rows[-1]["reader_username"] == "bob"
    assert rows[-1]["reader_name"] == "Bob Reader"
    assert rows[-1]["entity"] == "patient"
    assert '"subject_id":"S-001"' in rows[-1]["after_json"]
    assert rows[-1]["at_utc"].endswith("Z")
    assert rows[1]["prev_hash"] == rows[0]["hash"]


WRITER = textwrap.dedent("""
    import sys
    from recist.model import Patient
    from storage.db import open_database
    url, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = open_database(url)
    store = db.store(db.readers.authenticate("bob", "correct horse battery"))
    for i in range(n):
        store.add_patient(Patient(id=None, subject_id=f"{prefix}-{i:03d}"))
    db.close()
""")


def test_concurrent_writers_never_fork_the_chain(db_url: str, db: Database, bob: Reader) -> None:
    start = len(db.audit_events())
    n = 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, prefix, str(n)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("A", "B", "C")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    events = db.audit_events()
    assert len(events) == start + 3 * n
    assert len({e.prev_hash for e in events}) == len(events)  # no two events after the same one
    assert db.verify_audit().ok
    check = open_database(db_url)
    assert len(check.read_only_store().patients()) == 3 * n
    check.close()


def test_data_changed_around_the_trail_is_reported(db: Database, store: ClinicalStore) -> None:
    _patients(store, 3)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE patient SET trial = 'forged' WHERE subject_id = 'S-001'"))
        conn.execute(text("DELETE FROM patient WHERE subject_id = 'S-002'"))
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq is None  # the chain itself is intact
    assert any("patient" in p and "trial is 'forged'" in p for p in report.data_problems)
    assert any("deleted from the table without an audit event" in p for p in report.data_problems)
    assert "changed outside the audit trail" in str(report)


def test_truncated_tail_is_caught_with_a_recorded_head(db: Database, store: ClinicalStore) -> None:
    _patients(store, 2)
    head = db.verify_audit()
    assert head.ok
    assert head.head_seq == len(db.audit_events())
    recorded = (head.head_seq, head.head_hash)
    assert db.verify_audit(expect_head=recorded).ok  # type: ignore[arg-type]
    _patients_more = store.add_patient(Patient(id=None, subject_id="S-100"))
    assert _patients_more.id is not None
    _drop_triggers(db)
    with db.engine.begin() as conn:  # remove the last patient and its event, as a tamperer would
        conn.execute(text("DELETE FROM audit_event WHERE id = :s"), {"s": recorded[0] + 1})
        conn.execute(text("DELETE FROM patient WHERE subject_id = 'S-100'"))
        conn.execute(text("DELETE FROM audit_event WHERE id = :s"), {"s": recorded[0]})
        conn.execute(text("DELETE FROM patient WHERE subject_id = 'S-001'"))
    # This workstation's checkpoint (of the verify above) is a recorded head too...
    report = db.verify_audit()
    assert not report.ok
    assert "deleted from the end" in report.problem
    assert "verified in the checkpoint" in report.problem
    shutil.rmtree(paths.data_dir() / "audit-checkpoints")  # ...so is the witness's head:
    report = db.verify_audit()
    assert not report.ok
    assert "the witness recorded event" in report.problem
    db.witness.path.unlink()  # another workstation with neither checkpoint nor witness:
    report = db.verify_audit()
    assert not report.ok
    assert "deleted from the end" not in report.problem  # cannot tell the cut...
    assert "trigger" in report.problem  # ...only that the triggers are gone
    report = db.verify_audit(expect_head=recorded)  # type: ignore[arg-type]
    assert not report.ok
    assert "deleted from the end" in report.problem  # ...detected with a head
