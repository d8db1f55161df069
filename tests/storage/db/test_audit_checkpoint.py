"""Incremental audit verify (issue 17): a verified checkpoint never hides a change.

Every tampering is made after a verify wrote its checkpoint, on events and rows the
checkpoint covers and on ones after it; the next (incremental) verify must report it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from recist.model import Patient, Reader
from storage import paths
from storage.db import ClinicalStore, Database, open_database
from storage.db.audit import _EVENT_TABLE, AuditReport, event_hash
from storage.db.checkpoint import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    CheckpointSigner,
    CheckpointStore,
    EventsDigest,
    RawTable,
)
from storage.db.errors import PermissionDeniedError
from tests.storage.db.conftest import PASSWORD, REPO


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_update_delete ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def _restore_triggers(db: Database) -> None:
    """Put the append-only triggers back, as a careful tamperer would."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON "
                    "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
                )
            )
        else:
            for what in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER audit_event_no_{what.lower()} BEFORE {what} ON "
                        "audit_event BEGIN SELECT RAISE(ABORT, 'append-only'); END"
                    )
                )


def _checkpoint_file() -> dict[str, Any]:
    path = next((paths.data_dir() / "audit-checkpoints").glob("*.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _patients(store: ClinicalStore, first: int, n: int) -> None:
    for i in range(first, first + n):
        store.add_patient(Patient(id=None, subject_id=f"S-{i:03d}"))


def _checkpointed(db: Database, store: ClinicalStore) -> int:
    """Events 1..N verified and checkpointed, then 3 more events; returns N."""
    _patients(store, 0, 5)
    report = db.verify_audit()
    assert report.ok
    assert report.verified_from is None  # the first verify is a full one
    _patients(store, 5, 3)
    incremental = db.verify_audit()
    assert incremental.ok
    assert incremental.verified_from == report.head_seq + 1  # type: ignore[operator]
    assert "unchanged since the last verified checkpoint" in str(incremental)
    _patients(store, 8, 3)  # after the second checkpoint
    return incremental.head_seq  # type: ignore[return-value]


def _rehash_from(db: Database, seq: int) -> None:
    """Recompute hash and prev_hash from event ``seq`` to the head, as a careful tamperer would."""
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event ORDER BY id")).mappings().all()
        prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
        for row in rows[seq - 1 :]:
            at = db.audit_events(limit=row["id"])[-1].at_utc
            digest = event_hash(
                seq=row["id"],
                at_utc=at,
                reader_id=row["reader_id"],
                action=row["action"],
                entity=row["entity"],
                entity_id=row["entity_id"],
                before_json=row["before_json"],
                after_json=row["after_json"],
                reason=row["reason"],
                prev_hash=prev,
            )
            conn.execute(
                text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": digest, "i": row["id"]},
            )
            prev = digest


@pytest.mark.parametrize("where", ["before", "after"])
def test_an_edited_event_is_found_before_and_after_the_checkpoint(
    db: Database, store: ClinicalStore, where: str
) -> None:
    checkpoint = _checkpointed(db, store)
    seq = 2 if where == "before" else checkpoint + 2
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'forged' WHERE id = :s"), {"s": seq})
    for full in (False, True):
        report = db.verify_audit(full=full)
        assert not report.ok
        assert report.first_broken_seq == seq
        assert "content does not match its hash" in report.problem
        assert "trigger" in str(report)


@pytest.mark.parametrize("column", ["reason", "after_json", "at_utc", "signature"])
def test_an_old_event_edited_with_its_hash_left_and_the_triggers_put_back_is_found(
    db: Database, store: ClinicalStore, column: str
) -> None:
    """Any stored field of an event the checkpoint covers, edited in place: verified in full."""
    checkpoint = _checkpointed(db, store)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        value = conn.execute(
            text(f"SELECT {column} FROM audit_event WHERE id = 2")  # noqa: S608 (test)
        ).scalar_one()
        forged = "2020-01-01 00:00:00" if column == "at_utc" else f"{value or ''}x"
        conn.execute(
            text(f"UPDATE audit_event SET {column} = :v WHERE id = 2"),  # noqa: S608 (test)
            {"v": forged},
        )
    _restore_triggers(db)
    report = db.verify_audit()  # no --full
    assert not report.ok, report
    assert report.first_broken_seq == 2, report
    assert report.verified_from is None
    assert any(f"events up to {checkpoint} changed" in n for n in report.notes), report.notes


def test_the_events_digest_is_recomputed_from_the_database_alone(
    db: Database, store: ClinicalStore
) -> None:
    """An incremental verify's checkpoint has the digest a full one computes from event 1."""
    _checkpointed(db, store)
    assert db.verify_audit().verified_from is not None
    incremental = _checkpoint_file()["events_digest"]
    assert db.verify_audit(full=True).ok
    assert _checkpoint_file()["events_digest"] == incremental
    with db.read_session("digest") as session:
        digest = EventsDigest()
        for values in RawTable(_EVENT_TABLE, db.engine.dialect).stream(session):
            digest.add(values)
    assert digest.hexdigest() == incremental


def test_a_checkpoint_of_an_older_format_is_ignored(tmp_path: Path) -> None:
    """Format 3 digested the events seeded with the previous checkpoint's digest."""
    store = CheckpointStore(tmp_path, "sqlite:///x")
    store.save(Checkpoint("sqlite:///x", 3, "h", "g", EventsDigest().hexdigest()))
    assert store.load() is not None
    text = store.path.read_text(encoding="utf-8")
    store.path.write_text(text.replace(CHECKPOINT_FORMAT, "caliper-audit-checkpoint/3"))
    assert store.load() is None  # ignored: the verify is a full one


def test_an_edited_and_rehashed_event_before_the_checkpoint_is_found(
    db: Database, store: ClinicalStore
) -> None:
    _checkpointed(db, store)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'forged' WHERE id = 3"))
    _rehash_from(db, 3)  # the chain is self-consistent again, but not bob's signatures
    report = db.verify_audit()  # the checkpoint's hash differs: verified in full
    assert not report.ok
    assert report.first_broken_seq == 3
    assert "signature was not made by the key the reader had" in report.problem
    assert any("verified in full" in n for n in report.notes)
    shutil.rmtree(paths.data_dir() / "audit-checkpoints")
    report = db.verify_audit()  # the witness recorded the same head (storage/db/witness.py)
    assert not report.ok
    assert "differs from the head the witness recorded" in report.problem


def test_a_deleted_event_before_the_checkpoint_is_found(db: Database, store: ClinicalStore) -> None:
    _checkpointed(db, store)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = 4"))
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq == 5
    assert "events deleted" in report.problem


@pytest.mark.parametrize("subject", ["S-001", "S-006", "S-009"])
def test_data_changed_outside_the_trail_is_found_wherever_the_checkpoint_is(
    db: Database, store: ClinicalStore, subject: str
) -> None:
    """S-001: covered by both checkpoints; S-006: by the second; S-009: created after it."""
    _checkpointed(db, store)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE patient SET trial = 'forged' WHERE subject_id = :s"), {"s": subject}
        )
    report = db.verify_audit()
    assert not report.ok
    assert report.first_broken_seq is None
    assert any("trial is 'forged'" in p for p in report.data_problems), report.data_problems


def test_rows_added_or_deleted_outside_the_trail_are_found(
    db: Database, store: ClinicalStore
) -> None:
    _checkpointed(db, store)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM patient WHERE subject_id = 'S-002'"))
        conn.execute(
            text(
                "INSERT INTO patient (subject_id, trial, site, criteria, confirmation_required, "
                "min_sd_days, created_at, updated_at) "
                "VALUES ('S-X', '', '', 'RECIST1.1', TRUE, 42, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    problems = db.verify_audit().data_problems
    assert any("deleted from the table without an audit event" in p for p in problems)
    assert any("never created through the audit trail" in p for p in problems)


def test_a_record_changed_after_the_checkpoint_is_replayed_from_its_own_events(
    db: Database, store: ClinicalStore
) -> None:
    """A patient created before the checkpoint and updated after it: audited changes pass."""
    _checkpointed(db, store)
    patient = store.patient("S-001")
    from dataclasses import replace

    store.update_patient(replace(patient, trial="CRLM-01"))
    report = db.verify_audit()
    assert report.ok, report
    with db.engine.begin() as conn:  # ...and an unaudited change on top of it is not
        conn.execute(text("UPDATE patient SET site = 'forged' WHERE subject_id = 'S-001'"))
    report = db.verify_audit()
    assert not report.ok
    assert any("site is 'forged'" in p for p in report.data_problems)


def test_full_verifies_everything_and_a_recreated_database_starts_over(
    db_url: str, db: Database, store: ClinicalStore
) -> None:
    _checkpointed(db, store)
    report = db.verify_audit(full=True)
    assert report.ok
    assert report.verified_from is None
    if db.dialect != "sqlite":
        return
    db.close()
    Path(db.url.removeprefix("sqlite:///")).unlink()
    fresh = open_database(db_url)
    try:
        from recist.model import Role

        system = fresh.readers.ensure_system()
        fresh.readers.create("carol", "Carol", Role.READER, "pw", by=system)
        report = fresh.verify_audit()  # the witness next to the file knew the old trail
        assert not report.ok, report
        assert "re-created" in report.problem, report
        assert report.verified_from is None  # the old checkpoint is not used
    finally:
        fresh.close()


def test_the_checkpoint_is_kept_outside_the_database(db: Database, store: ClinicalStore) -> None:
    _checkpointed(db, store)
    files = list((paths.data_dir() / "audit-checkpoints").glob("*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text(encoding="utf-8"))
    assert data["seq"] > 0
    assert len(data["rows"]["patient"].splitlines()) == 8  # "id:fingerprint" lines
    assert files[0].stat().st_mode & 0o077 == 0  # owner-only


def test_cli_full_and_expect_head(
    db_url: str, db: Database, store: ClinicalStore, tmp_path: Path
) -> None:
    _patients(store, 0, 3)

    def caliper(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "--db", db_url, "audit", "verify", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )

    first = caliper()
    assert first.returncode == 0, first.stderr
    head = first.stdout.split("--expect-head ")[1].split()[0]
    second = caliper("--expect-head", head)
    assert second.returncode == 0
    assert "unchanged since the last verified checkpoint" in second.stdout
    full = caliper("--full", "--expect-head", head)
    assert full.returncode == 0
    assert "unchanged since" not in full.stdout
    seq = head.split(":")[0]
    wrong = caliper("--full", "--expect-head", f"{seq}:{'0' * 64}")
    assert wrong.returncode == 1
    assert "hash differs from the recorded head" in wrong.stdout
    strict = caliper("--require-signed")  # the checkpoints so far are unsigned
    assert strict.returncode == 0, strict.stderr
    assert "not used (--require-signed), every event verified" in strict.stdout


# -- signed checkpoints (caliper audit verify --as) -------------------------------------------


def _checkpoint_path() -> Path:
    return next((paths.data_dir() / "audit-checkpoints").glob("*.json"))


def _edit_checkpoint(change: Any) -> None:
    path = _checkpoint_path()
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")


def _signed_checkpoint(db: Database, store: ClinicalStore, alice: Reader) -> AuditReport:
    _patients(store, 0, 3)
    report = db.verify_audit(signer=db.readers.unlock(alice.username, PASSWORD))
    assert report.ok, report
    return report


def test_a_signed_checkpoint_is_written_into_the_witness_and_verified(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    report = _signed_checkpoint(db, store, alice)
    assert f"checkpoint saved at event {report.head_seq}, signed by alice" in str(report)
    data = _checkpoint_file()
    assert data["signer"] == "alice"
    assert data["signer_key"] == db.readers.public_key("alice")
    entry = json.loads(db.witness.path.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["checkpoint_signer"] == "alice"
    assert entry["checkpoint_signature"] == data["signature"]
    loaded = CheckpointStore(_checkpoint_path().parent, data["url"]).load()
    assert loaded is not None
    assert loaded.signature_problem("investigator", data["signer_key"]) is None
    _patients(store, 3, 2)
    later = db.verify_audit()  # without --as: starts from alice's checkpoint
    assert later.ok, later
    assert later.verified_from == report.head_seq + 1  # type: ignore[operator]
    assert "is signed by alice" in str(later)
    assert f"checkpoint saved at event {later.head_seq}, unsigned" in str(later)


def test_an_unsigned_checkpoint_still_serves_and_says_so(
    db: Database, store: ClinicalStore
) -> None:
    _patients(store, 0, 3)
    first = db.verify_audit()
    assert "unsigned (`caliper audit verify --as USERNAME` signs it)" in str(first)
    assert "signer" not in _checkpoint_file()
    second = db.verify_audit()
    assert second.ok
    assert second.verified_from is not None
    assert "is unsigned (written by a verify without --as)" in str(second)


def test_require_signed_does_not_trust_an_unsigned_checkpoint(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    """Anyone who can write the checkpoint file and the witness can plant an unsigned
    checkpoint; with ``require_signed`` only a signed one is used."""
    _patients(store, 0, 3)
    assert db.verify_audit().ok  # an unsigned checkpoint
    _patients(store, 3, 2)
    report = db.verify_audit(require_signed=True)
    assert report.ok, report
    assert report.verified_from is None  # every event verified
    assert "is unsigned: not used (--require-signed), every event verified" in str(report)
    signed = db.verify_audit(signer=db.readers.unlock(alice.username, PASSWORD))
    _patients(store, 5, 2)
    later = db.verify_audit(require_signed=True)
    assert later.ok, later
    assert later.verified_from == signed.head_seq + 1  # type: ignore[operator]
    assert "is signed by alice" in str(later)


@pytest.mark.parametrize("tamper", ["signature", "seq", "rows", "verified_at"])
def test_a_tampered_signed_checkpoint_fails_the_verify_and_is_named(
    db: Database, store: ClinicalStore, alice: Reader, tamper: str
) -> None:
    _signed_checkpoint(db, store, alice)

    def change(data: dict[str, Any]) -> None:
        if tamper == "signature":
            raw = bytearray(base64.b64decode(data["signature"]))
            raw[5] ^= 1
            data["signature"] = base64.b64encode(bytes(raw)).decode("ascii")
        elif tamper == "seq":
            data["seq"] -= 1
        elif tamper == "rows":
            data["rows"]["patient"] = data["rows"]["patient"].replace(":", ":0", 1)
        else:
            data["verified_at"] = "2020-01-01T00:00:00+00:00"

    _edit_checkpoint(change)
    report = db.verify_audit()
    assert not report.ok
    assert str(_checkpoint_path()) in report.problem
    assert "signature of 'alice' that does not verify" in report.problem
    assert "audit trail BROKEN: the checkpoint of event" in str(report)
    full = db.verify_audit(full=True)  # verifies without it and replaces it
    assert full.ok, full
    assert "not used, replaced by this full verify" in str(full)
    assert db.verify_audit().ok


def test_a_checkpoint_signed_by_the_wrong_reader_or_key_is_refused(
    db: Database, store: ClinicalStore, alice: Reader, bob: Reader
) -> None:
    report = _signed_checkpoint(db, store, alice)
    folder, url = _checkpoint_path().parent, _checkpoint_file()["url"]
    checkpoint = CheckpointStore(folder, url).read()
    assert checkpoint is not None
    unlocked_bob = db.readers.unlock(bob.username, PASSWORD)
    forger = Ed25519PrivateKey.generate()
    forged_key = base64.b64encode(forger.public_key().public_bytes_raw()).decode("ascii")
    cases = [
        # bob is a reader: his own valid signature does not make a checkpoint trusted
        (CheckpointSigner("bob", unlocked_bob.private_key, unlocked_bob.public_key), "a reader"),
        # someone else's key, claiming to be alice
        (CheckpointSigner("alice", forger, forged_key), "a key that was not 'alice''s"),
        (CheckpointSigner("mallory", forger, forged_key), "not a reader of this database"),
    ]
    for signer, expected in cases:
        CheckpointStore(folder, url, signer).save(replace(checkpoint, verified_at=""))
        refused = db.verify_audit()
        assert not refused.ok, signer
        assert expected in refused.problem, refused.problem
        assert f"the checkpoint of event {report.head_seq}" in refused.problem


def test_only_an_investigator_or_an_admin_signs(db: Database, bob: Reader) -> None:
    unlocked = db.readers.unlock(bob.username, PASSWORD)
    with pytest.raises(PermissionDeniedError, match="only an investigator or an admin"):
        db.verify_audit(signer=unlocked)


def test_cli_verify_as_a_reader_signs_and_a_wrong_password_writes_nothing(
    db_url: str, db: Database, store: ClinicalStore, alice: Reader
) -> None:
    _patients(store, 0, 3)

    def caliper(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "--db", db_url, "audit", "verify", *args],
            input=password + "\n",
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )

    wrong = caliper("--as", "alice", "--password-stdin", password="not it")
    assert wrong.returncode == 2
    assert "wrong password for 'alice'; nothing was verified or written" in wrong.stderr
    assert not (paths.data_dir() / "audit-checkpoints").exists()
    assert not db.witness.path.exists()
    bob = caliper("--as", "bob", "--password-stdin", password=PASSWORD)
    assert bob.returncode == 2
    assert "'bob' is a reader: audit checkpoints are signed by an investigator" in bob.stderr
    signed = caliper("--as", "alice", "--password-stdin", password=PASSWORD)
    assert signed.returncode == 0, signed.stderr
    assert "signed by alice" in signed.stdout
    assert _checkpoint_file()["signer"] == "alice"
    again = caliper(password="")
    assert again.returncode == 0
    assert "is signed by alice" in again.stdout


def test_a_signature_stripped_from_a_checkpoint_leaves_it_untrusted(
    db: Database, store: ClinicalStore, alice: Reader
) -> None:
    """Without its signature the file is not the one the witness recorded: verified in full."""
    _signed_checkpoint(db, store, alice)
    _edit_checkpoint(lambda data: [data.pop(k) for k in ("signer", "signer_key", "signature")])
    report = db.verify_audit()
    assert report.ok, report
    assert report.verified_from is None
