"""Files with personal health information are made owner-only; CALIPER_HOME is 0700 (issue 13)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from app.cli import main


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_database_witness_and_exports_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("CALIPER_HOME", str(home))
    monkeypatch.delenv("CALIPER_DB", raising=False)
    monkeypatch.delenv("CALIPER_WITNESS", raising=False)
    old = os.umask(0o022)  # a usual umask: group and others could read what is not protected
    try:
        assert main(["db", "init"]) == 0
        assert main(["patient", "add", "S-1", "--as", "system"]) == 0
        assert (
            main(
                [
                    "timepoint",
                    "add",
                    "--patient",
                    "S-1",
                    "--label",
                    "BL",
                    "--date",
                    "2026-01-05",
                    "--as",
                    "system",
                ]
            )
            == 0
        )
        assert main(["audit", "export", "--out", str(tmp_path / "audit.csv")]) == 0
        assert (
            main(["timeline", "export", "--patient", "S-1", "--out", str(tmp_path / "t.json")]) == 0
        )
        assert main(["audit", "verify"]) == 0
    finally:
        os.umask(old)
    assert _mode(home) == 0o700
    assert _mode(home / "data") == 0o700
    database = home / "data" / "caliper.sqlite3"
    for path in (
        database,
        database.with_name(database.name + ".witness"),
        tmp_path / "audit.csv",
        tmp_path / "t.json",
    ):
        assert _mode(path) == 0o600, path
    assert os.umask(0o022) == 0o022  # main gave the caller's umask back
    os.umask(old)


def test_reader_add_reads_the_actors_password_then_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALIPER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALIPER_DB", raising=False)
    assert main(["db", "init"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ada pw\n"))
    add = ["reader", "add", "--password-stdin", "--role"]
    assert main([*add, "admin", "--username", "ada", "--name", "Ada", "--as", "system"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ada pw\n"))  # the new password is missing
    assert main([*add, "investigator", "--username", "ivan", "--name", "Ivan", "--as", "ada"]) == 2
    assert "standard input ended before the password for ivan" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("ada pw\nivan pw\n"))
    assert main([*add, "investigator", "--username", "ivan", "--name", "Ivan", "--as", "ada"]) == 0


def test_exports_record_the_audit_head_in_the_witness_and_the_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.db import open_database
    from tests.pdf_tools import pdf_text

    monkeypatch.setenv("CALIPER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALIPER_DB", raising=False)
    monkeypatch.delenv("CALIPER_WITNESS", raising=False)
    assert main(["db", "init"]) == 0
    assert main(["patient", "add", "S-1", "--as", "system"]) == 0
    assert (
        main(
            [
                "timepoint",
                "add",
                "--patient",
                "S-1",
                "--label",
                "BL",
                "--date",
                "2026-01-05",
                "--as",
                "system",
            ]
        )
        == 0
    )
    assert main(["export", "timeline", "--patient", "S-1", "--out", str(tmp_path / "t.json")]) == 0
    assert main(["export", "report", "--patient", "S-1", str(tmp_path / "r.pdf")]) == 0
    db = open_database(None)
    try:
        entries = db.witness.entries()
        head = db.audit_events()[-1]
    finally:
        db.close()
    assert [e.why for e in entries] == ["export timeline S-1", "export report S-1"]
    assert entries[-1].seq == head.seq
    assert entries[-1].hash == head.hash
    text = pdf_text(tmp_path / "r.pdf").replace("\n", "")
    assert f"Audit trail head {head.seq}:{head.hash}" in text
