"""Tampering with the database as someone who can write it would (issue 13), SQLite and PostgreSQL.

Each attack is either refused (by the database or by Caliper) or detected by
``audit verify`` (``Database.verify_audit``, what ``caliper audit verify`` prints).
The attacker knows every algorithm (the chain is plain SHA-256, so they can append
correctly chained events) but not the readers' passwords, and cannot write the
witness (which a site keeps elsewhere; README "What the audit trail can and cannot
prove").
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.cli import main
from recist.model import Measurement, MeasurementStatus, Reader, Role
from storage.db import AuthenticationError, ClinicalStore, Database, PermissionDeniedError
from storage.db.audit import event_hash, event_message
from storage.db.base import utcnow
from storage.db.canonical import content_hash, to_json
from storage.db.models import AssessmentRow, AuditEventRow, ReaderRow, SignatureRow
from storage.db.passwords import hash_password, new_credentials, sign
from storage.db.readers import PasswordChangeRequiredError
from tests.storage.db.conftest import PASSWORD, Chart

SIZES = {0: (34.0, 22.0, 15.0), 1: (20.0, 14.0, 10.0), 2: (18.0, 12.0, 9.0)}


@dataclass
class Signed:
    """A chart measured at every timepoint with C3 signed by alice."""

    chart: Chart
    signature_id: int


@pytest.fixture
def signed(db: Database, store: ClinicalStore, chart: Chart, alice: Reader) -> Signed:
    for tp, sizes in SIZES.items():
        for lesion, mm in enumerate(sizes):
            store.add_measurement(
                Measurement(
                    id=None,
                    lesion_id=chart.lesions[lesion].id,
                    timepoint_id=chart.timepoints[tp].id,
                    reader_id=None,
                    status=MeasurementStatus.MEASURED,
                    long_axis_mm=mm,
                )
            )
    signature = store.sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]
    report = db.verify_audit()
    assert report.ok, report
    return Signed(chart, signature.id)


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_update_delete ON audit_event"))
            conn.execute(text("DROP TRIGGER audit_event_no_truncate ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def _restore_triggers(db: Database) -> None:
    """Put the triggers back, as a careful attacker would after editing."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON "
                    "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
                    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                    "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                    "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
                )
            )


def forge_event(
    session: Session,
    *,
    reader_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    signature: str | None = None,
    sign_with: Ed25519PrivateKey | None = None,
) -> str:
    """Append one correctly chained event as an attacker can; returns its hash.

    ``signature`` is stored as given; ``sign_with`` signs the event with a key the
    attacker holds (e.g. one a password reset replaced).
    """
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).one()
    fields: dict[str, Any] = {
        "seq": last[0] + 1,
        "at_utc": utcnow(),
        "reader_id": reader_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before_json": to_json(before),
        "after_json": to_json(after),
        "reason": reason,
        "prev_hash": last[1],
    }
    digest = event_hash(**fields)
    if sign_with is not None:
        signature = sign(sign_with, event_message(digest))
    fields["id"] = fields.pop("seq")
    session.add(AuditEventRow(hash=digest, signature=signature, **fields))
    session.flush()
    return digest


def _append(
    db: Database, reader_id: int | None, action: str, entity: str, entity_id: object, **values: Any
) -> None:
    """Append one correctly chained event (no secret is needed to do so)."""
    with Session(db.engine) as session, session.begin():
        forge_event(
            session,
            reader_id=reader_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            **values,
        )


def _problems(db: Database) -> str:
    report = db.verify_audit()
    assert not report.ok, report
    return str(report)


def _forge_signature(db: Database, signed: Signed, alice: Reader, ed25519: str | None) -> None:
    """A signature of C6 attributed to alice, with its frozen assessment and its sign event."""
    content = {"forged": True}
    with Session(db.engine) as session, session.begin():
        frozen = AssessmentRow(
            timepoint_id=signed.chart.timepoints[2].id,
            frozen=True,
            overall="PR",
            engine_version="x",
            result_json='{"forged":true}',
        )
        session.add(frozen)
        session.flush()
        head = session.execute(text("SELECT max(id) FROM audit_event")).scalar()
        prev = session.execute(
            text("SELECT hash FROM audit_event WHERE id = :i"), {"i": head}
        ).scalar()
        row = SignatureRow(
            timepoint_id=signed.chart.timepoints[2].id,
            assessment_id=frozen.id,
            reader_id=alice.id,
            printed_name=alice.full_name,
            meaning="I confirm the response PR",
            signed_at=frozen.computed_at,
            content_hash=content_hash(content),
            audit_head=f"{head}:{prev}",
            ed25519=ed25519,
        )
        session.add(row)
        session.flush()
        frozen.result_json = '{"forged":true}'
        after = {
            "id": row.id,
            "timepoint_id": row.timepoint_id,
            "assessment_id": frozen.id,
            "reader_id": alice.id,
            "printed_name": row.printed_name,
            "meaning": row.meaning,
            "signed_at": row.signed_at,
            "content_hash": row.content_hash,
            "voided_at": None,
            "void_reason": None,
            "voided_by_id": None,
            "audit_head": row.audit_head,
            "ed25519": ed25519,
        }
        forge_event(
            session,
            reader_id=alice.id,
            action="sign",
            entity="signature",
            entity_id=row.id,
            after=after,
        )


# -- Found 1: events and signatures appended by whoever can write the database ---------------


@pytest.mark.parametrize("ed25519", [None, base64.b64encode(bytes(64)).decode()])
def test_found1_an_inserted_signature_does_not_verify(
    db: Database, signed: Signed, alice: Reader, ed25519: str | None
) -> None:
    _forge_signature(db, signed, alice, ed25519)
    problems = _problems(db)
    assert "signature 2" in problems
    assert (
        ("carries no Ed25519" in problems) if ed25519 is None else ("does not verify" in problems)
    )


def test_found1_appended_events_in_an_investigators_name_fail_the_verify(
    db: Database, signed: Signed, alice: Reader
) -> None:
    """An event in alice's name with a correct chain but without her signature: forged."""
    _append(
        db,
        alice.id,
        "update",
        "patient",
        signed.chart.patient.id,
        before={"site": ""},
        after={"site": "forged"},
    )
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE patient SET site = 'forged'"))
    report = db.verify_audit()
    assert not report.ok
    head = len(db.audit_events())
    assert report.first_broken_seq == head
    assert f"event {head} (update patient" in str(report)
    assert f"in the name of alice (reader {alice.id})" in str(report)
    assert "carries no signature although the reader had a signing key" in str(report)


# -- Found 2: a replaced password verifier ---------------------------------------------------


def test_found2_a_replaced_password_hash_neither_logs_in_nor_signs(
    db: Database, signed: Signed, store: ClinicalStore, alice: Reader
) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE reader SET password_hash = :h WHERE username = 'alice'"),
            {"h": hash_password("mallory")},
        )
    with pytest.raises(AuthenticationError, match="does not open their signing key"):
        db.readers.authenticate("alice", "mallory")
    with pytest.raises(AuthenticationError):
        store.sign(signed.chart.timepoints[2].id, alice, "mallory")  # type: ignore[arg-type]


def test_found2_replaced_credentials_with_a_swapped_public_key_are_detected(
    db: Database, signed: Signed, store: ClinicalStore, alice: Reader
) -> None:
    mine = new_credentials("mallory")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE reader SET password_hash = :h, signing_key = :k, public_key = :p "
                "WHERE username = 'alice'"
            ),
            {"h": mine.password_hash, "k": mine.signing_key, "p": mine.public_key},
        )
    store.sign(signed.chart.timepoints[2].id, alice, "mallory")  # type: ignore[arg-type]
    problems = _problems(db)
    assert "reader alice: the public key in the table is not the one the audit trail" in problems
    assert "does not verify under the public key the audit trail recorded" in problems


# -- Found 3: writing in someone's name on the command line ----------------------------------


def test_found3_the_command_line_authenticates_who_writes(
    db: Database,
    signed: Signed,
    alice: Reader,
    system: Reader,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--db", db.url, "patient", "add", "S-X", "--as", "alice"]) == 2
    assert "need alice's password" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("guess\n"))
    assert main(["--db", db.url, "patient", "add", "S-X", "--as", "alice", "--password-stdin"]) == 2
    assert "wrong password for 'alice'" in capsys.readouterr().err
    db.readers.create("ada", "Ada Admin", Role.ADMIN, "ada pw", by=system)
    monkeypatch.setattr("sys.stdin", io.StringIO("chosen\n"))
    assert (
        main(
            [
                "--db",
                db.url,
                "reader",
                "add",
                "--username",
                "eve",
                "--name",
                "Eve",
                "--role",
                "investigator",
                "--password-stdin",
                "--as",
                "system",
            ]
        )
        == 2
    )
    assert "only until the first administrator" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert main(["--db", db.url, "patient", "add", "S-X", "--as", "alice", "--password-stdin"]) == 0


# -- Found 4: an administrator's reset, and `system` ------------------------------------------


def test_found4_a_reset_makes_a_new_key_pair_and_cannot_sign_under_the_old_key(
    db: Database, signed: Signed, store: ClinicalStore, alice: Reader, system: Reader
) -> None:
    old_key = db.readers.public_key("alice")
    db.readers.reset_password("alice", "temp pw", by=system)
    reset_key = db.readers.public_key("alice")
    assert reset_key not in (None, old_key)
    with pytest.raises(PasswordChangeRequiredError):  # the admin cannot sign with it
        store.sign(signed.chart.timepoints[2].id, alice, "temp pw")  # type: ignore[arg-type]
    db.readers.change_password("alice", "temp pw", "alice's own")
    own_key = db.readers.public_key("alice")
    assert own_key not in (old_key, reset_key)  # a key pair the admin never saw
    event = db.audit_events(entity="reader", entity_id=alice.id)[-2]
    assert event.after == {
        "password": "reset",
        "must_change_password": True,
        "public_key": reset_key,
    }
    store.sign(signed.chart.timepoints[2].id, alice, "alice's own")  # type: ignore[arg-type]
    report = (
        db.verify_audit()
    )  # the old signature verifies under the old key, the new under the new
    assert report.ok, report


def test_found4_system_never_logs_in_or_signs_whatever_its_password(
    db: Database, signed: Signed, system: Reader, store: ClinicalStore
) -> None:
    with pytest.raises(PermissionDeniedError):
        db.readers.reset_password("system", "x", by=system)
    with pytest.raises(PermissionDeniedError):
        db.readers.set_password("system", "x", by=system)
    mine = new_credentials("system pw")
    with db.engine.begin() as conn:  # written straight into the database
        conn.execute(
            text(
                "UPDATE reader SET password_hash = :h, signing_key = :k, public_key = :p, "
                "role = 'investigator' WHERE username = 'system'"
            ),
            {"h": mine.password_hash, "k": mine.signing_key, "p": mine.public_key},
        )
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("system", "system pw")
    with pytest.raises(AuthenticationError):
        store.sign(signed.chart.timepoints[2].id, system, "system pw")  # type: ignore[arg-type]


# -- Found 5: dropped triggers ------------------------------------------------------------------


def test_found5_dropped_or_disabled_triggers_are_reported(db: Database, signed: Signed) -> None:
    _drop_triggers(db)
    assert "trigger audit_event_no_" in _problems(db)
    if db.dialect == "postgresql":
        _restore_triggers(db)
        assert db.verify_audit().ok
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        assert "is disabled" in _problems(db)


# -- Found 6: the password cost in the database -----------------------------------------------


def test_found6_a_cheaper_cost_written_into_the_database_is_refused(
    db: Database, signed: Signed
) -> None:
    salt = b"0123456789abcdef"
    cheap = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    stored = f"scrypt$2$1$1${base64.b64encode(salt).decode()}${base64.b64encode(cheap).decode()}"
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE reader SET password_hash = :h WHERE username = 'alice'"), {"h": stored}
        )
    with pytest.raises(AuthenticationError):
        db.readers.authenticate("alice", PASSWORD)


# -- more: reorder, truncate, replay, swap a key, roll back --------------------------------------


@pytest.mark.parametrize("full", [False, True])
def test_reordered_events_break_the_chain(db: Database, signed: Signed, full: bool) -> None:
    _drop_triggers(db)
    columns = "action, entity, entity_id, before_json, after_json, reason"  # hashes stay
    with db.engine.begin() as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(text(f"SELECT id, {columns} FROM audit_event WHERE id IN (3, 4)"))
        }
        for seq, other in ((3, 4), (4, 3)):
            values = dict(zip(columns.split(", "), rows[other], strict=True))
            sets = ", ".join(f"{c} = :{c}" for c in values)
            conn.execute(
                text(f"UPDATE audit_event SET {sets} WHERE id = :id"), {**values, "id": seq}
            )
    _restore_triggers(db)
    # the events are before this workstation's checkpoint: the default verify finds them
    # changed by the checkpoint's digest of the stored events and verifies in full
    report = db.verify_audit(full=full)
    assert not report.ok, report
    assert report.first_broken_seq == 3, report


def test_truncation_is_refused_or_detected(db: Database, signed: Signed) -> None:
    with pytest.raises(DBAPIError), db.engine.begin() as conn:  # refused by the triggers
        conn.execute(text("DELETE FROM audit_event WHERE id > 5"))
    if db.dialect == "postgresql":
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_event CASCADE"))
    _drop_triggers(db)
    with db.engine.begin() as conn:  # the tail, and the signature with it
        conn.execute(text("DELETE FROM signature"))
        conn.execute(text("DELETE FROM audit_event WHERE id > 5"))
    _restore_triggers(db)
    problems = _problems(db)
    assert "the witness recorded event" in problems
    assert "rolled back" in problems


def test_a_replayed_old_signature_does_not_verify(
    db: Database, signed: Signed, alice: Reader
) -> None:
    """The Ed25519 signature of C3, copied onto a new signature row (of C6), with its sign event."""
    with db.engine.begin() as conn:
        old = conn.execute(
            text("SELECT ed25519, audit_head FROM signature WHERE id = :i"),
            {"i": signed.signature_id},
        ).one()
    _forge_signature(db, signed, alice, old.ed25519)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE signature SET audit_head = :h WHERE id = 2"), {"h": old.audit_head}
        )
    problems = _problems(db)
    assert "signature 2 signs the audit head" in problems  # not the head before its sign event


def test_a_swapped_public_key_is_detected(
    db: Database, signed: Signed, alice: Reader, bob: Reader
) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE reader SET public_key = (SELECT public_key FROM reader WHERE id = :b) "
                "WHERE id = :a"
            ),
            {"a": alice.id, "b": bob.id},
        )
    assert "reader alice: the public key in the table" in _problems(db)


def test_a_public_key_swapped_through_forged_events_signs_nothing_unwitnessed(
    db: Database,
    signed: Signed,
    store: ClinicalStore,
    alice: Reader,
    system: Reader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forged reset + change events give alice a key the attacker holds: the signature it makes is
    cryptographically fine, but the witness never saw it made (on a server database, where each
    workstation has its own witness, only a site-wide one, $CALIPER_WITNESS, can say so)."""
    monkeypatch.setenv("CALIPER_WITNESS", str(db.witness.path))
    mine = new_credentials("mallory")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE reader SET password_hash = :h, signing_key = :k, public_key = :p "
                "WHERE id = :a"
            ),
            {"h": mine.password_hash, "k": mine.signing_key, "p": mine.public_key, "a": alice.id},
        )
    _append(
        db,
        alice.id,
        "update",
        "reader",
        alice.id,
        before={"password": "previous"},
        after={"password": "changed", "public_key": mine.public_key},
    )
    # the attacker signs through Caliper's code but against a copy of the witness they hold
    real = db.witness.path
    db.witness.path = real.with_name("attacker.witness")
    store.sign(signed.chart.timepoints[2].id, alice, "mallory")  # type: ignore[arg-type]
    db.witness.path = real
    assert "signature 2 not recorded in the witness" in _problems(db)


def test_rolling_the_whole_file_back_to_an_older_copy_is_detected(
    db: Database, signed: Signed, store: ClinicalStore, alice: Reader
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("a whole-file copy is SQLite's; PostgreSQL's truncation is tested above")
    path = db.url.removeprefix("sqlite:///")
    db.close()
    backup = path + ".old"
    shutil.copy(path, backup)
    reopened = _reopen(db.url)
    try:
        reopened.store(alice).sign(
            signed.chart.timepoints[2].id,
            alice,
            PASSWORD,  # type: ignore[arg-type]
        )
    finally:
        reopened.close()
    shutil.copy(backup, path)  # the older copy, C6's signature gone
    reopened = _reopen(db.url)
    try:
        report = reopened.verify_audit()
        assert not report.ok, report
        assert "rolled back" in report.problem, report
    finally:
        reopened.close()


def _reopen(url: str) -> Database:
    from storage.db import open_database

    return open_database(url)


def test_verify_checks_only_public_keys(db: Database, signed: Signed) -> None:
    """Verifying needs no password and no private key: the encrypted keys can be gone."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE reader SET signing_key = NULL, password_hash = '!'"))
    assert db.verify_audit().ok
    with db.read_session() as session:
        keys = session.scalars(
            select(ReaderRow.public_key).where(ReaderRow.public_key.is_not(None))
        )
        assert len(list(keys)) == 2  # alice's and bob's


# -- PostgreSQL: the application role cannot change the trail -------------------------------


@pytest.mark.integration
def test_postgresql_application_role_can_only_append_to_the_trail(postgres_server: Any) -> None:
    """Roles as scripts/postgres.sh creates them: the owner migrates, the application writes."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from storage.db import open_database

    admin = create_engine(postgres_server.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"roles_{id(admin)}"
    with admin.connect() as conn:
        for role in ("caliper_owner", "caliper_app"):  # made by postgres.sh; here if external
            conn.execute(
                text(
                    f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                    f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
                )
            )
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER caliper_owner TEMPLATE template0'))
    base = make_url(postgres_server.url).set(database=name)
    owner_url = base.set(username="caliper_owner", password=None).render_as_string(False)
    app_url = base.set(username="caliper_app", password=None).render_as_string(False)
    try:
        owner = open_database(owner_url)  # migrations run as the owner
        with owner.engine.begin() as conn:
            conn.execute(text("ALTER SCHEMA public OWNER TO caliper_owner"))
        system = owner.readers.ensure_system()
        owner.readers.create("alice", "Dr Alice", Role.INVESTIGATOR, PASSWORD, by=system)
        from storage.db.roles import grant_application_role

        grant_application_role(owner, "caliper_app", owner.dialect)
        owner.close()
        app = open_database(app_url)  # at head: nothing to migrate, so the app role may open it
        try:
            alice = app.readers.authenticate("alice", PASSWORD)
            from recist.model import Patient

            app.store(alice).add_patient(Patient(id=None, subject_id="S-1"))  # appends
            assert app.verify_audit().ok
            refused = [
                "UPDATE audit_event SET reason = 'x'",
                "DELETE FROM audit_event",
                "TRUNCATE audit_event",
                "ALTER TABLE audit_event DISABLE TRIGGER USER",
                "DROP TRIGGER audit_event_no_update_delete ON audit_event",
                "UPDATE alembic_version SET version_num = 'x'",
            ]
            for statement in refused:
                with (
                    pytest.raises(DBAPIError, match="permission denied|must be owner"),
                    app.engine.begin() as conn,
                ):
                    conn.execute(text(statement))
            assert app.verify_audit().ok
        finally:
            app.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
