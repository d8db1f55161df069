"""``--as U --password-stdin`` signs U's events; ``caliper audit verify`` fails a forged one."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import Session

from app.cli import main
from storage.db import open_database
from tests.storage.db.test_tamper import forge_event


def _caliper(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def test_cli_writes_are_signed_and_a_forged_event_fails_the_verify(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _caliper(capsys, "--db", db_url, "db", "init")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("alice pass 1\n"))
    add = ["reader", "add", "--username", "alice", "--name", "Dr A", "--role", "investigator"]
    assert _caliper(capsys, "--db", db_url, *add, "--password-stdin", "--as", "system")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("alice pass 1\n"))
    code, _ = _caliper(
        capsys, "--db", db_url, "patient", "add", "S-1", "--as", "alice", "--password-stdin"
    )
    assert code == 0
    db = open_database(db_url)
    try:
        event = db.audit_events()[-1]
        assert (event.action, event.entity) == ("create", "patient")
        with db.read_session() as session:
            from storage.db.models import AuditEventRow

            assert session.get_one(AuditEventRow, event.seq).signature  # alice's
        code, out = _caliper(capsys, "--db", db_url, "audit", "verify")
        assert code == 0, out
        assert "2 events carry no reader signature" in out  # system's: itself, alice's creation
        with Session(db.engine) as session, session.begin():
            forge_event(
                session,
                reader_id=event.reader_id,
                action="confirm",
                entity="timepoint",
                entity_id=1,
                reason="forged",
            )
    finally:
        db.close()
    code, out = _caliper(capsys, "--db", db_url, "audit", "verify")
    assert code == 1
    assert f"BROKEN at event {event.seq + 1}" in out
    assert "in the name of alice" in out
