"""Issue 13, point 8 leftovers: reader names and endpoint free text obey ``recist.limits``.

The same texts are refused on SQLite and PostgreSQL (SQLite alone would store a 10 MB
name or a NUL), with a one-line message naming the field.  (An unwritable ``CALIPER_HOME``:
tests/hostile/test_unwritable_home.py for the command line, tests/viewer/test_start_up.py
for the window.)
"""

from __future__ import annotations

import io
import re

import pytest

from app.cli import main
from app.readers import ReaderAdminController, ReaderAdminError, create_first_admin
from recist.endpoints.conversion import ConversionRecord
from recist.endpoints.pathology import ResectedMetastasis, SurgeryRecord
from recist.endpoints.survival import SurvivalRecord
from recist.errors import InvalidRecordError
from recist.model import Role
from storage.db import Database, InvalidInputError, open_database

BAD_NAMES = [
    ("u" * 65, "at most 64"),
    ("al\x00ice", r"U\+0000"),
    ("al\x1bice", r"U\+001B"),
    ("al\ud800ice", "lone surrogate"),
]


def _caliper(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    _, err = capsys.readouterr()
    return code, err


@pytest.mark.parametrize(("username", "message"), BAD_NAMES)
def test_cli_reader_add_refuses_a_username_no_site_can_store(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    message: str,
) -> None:
    assert _caliper(capsys, "--db", db_url, "db", "init")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    code, err = _caliper(
        capsys,
        "--db",
        db_url,
        "reader",
        "add",
        "--username",
        username,
        "--name",
        "Dr Alice",
        "--role",
        "reader",
        "--password-stdin",
        "--as",
        "system",
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "username" in err
    assert re.search(message, err)
    db = open_database(db_url)
    try:
        assert [r.username for r in db.readers.list()] == ["system"]
    finally:
        db.close()


@pytest.mark.parametrize(("full_name", "message"), [("N" * 201, "at most 200"), *BAD_NAMES[1:]])
def test_the_store_refuses_a_full_name_no_site_can_store(
    db: Database, full_name: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        db.readers.create("alice", full_name, Role.READER, "pw")
    assert "full name" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_readers_controller_names_the_field(db: Database) -> None:
    admin = create_first_admin(db, "boss", "The Boss", "pw", "pw")
    controller = ReaderAdminController(db, admin)
    with pytest.raises(ReaderAdminError, match=r"^Full name: .*U\+0000"):
        controller.add_reader("alice", "Dr\x00Alice", Role.READER.value, "pw", "pw")
    with pytest.raises(ReaderAdminError, match="^Username: is 65 characters"):
        controller.add_reader("a" * 65, "Dr Alice", Role.READER.value, "pw", "pw")
    assert [r.username for r in controller.readers()] == ["boss", "system"]


def test_the_first_administrator_names_are_checked(db: Database) -> None:
    with pytest.raises(ReaderAdminError, match="lone surrogate"):
        create_first_admin(db, "boss", "The \ud800 Boss", "pw", "pw")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda v: SurvivalRecord(None, None, death_cause=v), "death_cause"),
        (lambda v: SurvivalRecord(None, None, off_study_reason=v), "off_study_reason"),
        (lambda v: SurvivalRecord(None, None, note=v + "\x00"), "note"),
        (lambda v: ConversionRecord(None, None, other_labs_note=v + "\ud800"), "other_labs_note"),
        (lambda v: ConversionRecord(None, None, note="n" * 10_001), "note"),
        (lambda v: SurgeryRecord(None, None, note=v + "\x07"), "note"),
        (lambda v: ResectedMetastasis("seg\x00" + v), "label"),
        (lambda v: ResectedMetastasis("seg 7", lesion_code="T" * 33), "lesion_code"),
    ],
)
def test_endpoint_records_refuse_text_no_site_can_store(build: object, field: str) -> None:
    with pytest.raises(InvalidRecordError) as caught:
        build("bad\x01" if field in ("death_cause", "off_study_reason") else "x")  # type: ignore[operator]  # a lambda
    message = str(caught.value)
    assert f" {field}: " in message
    assert "\n" not in message


def test_endpoint_notes_may_span_lines() -> None:
    assert SurvivalRecord(None, None, note="line one\nline two\ttab").note.count("\n") == 1
    assert SurvivalRecord(None, None, death_cause="c" * 1000).death_cause


def test_cli_survival_set_refuses_a_control_character(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _caliper(capsys, "--db", db_url, "db", "init")[0] == 0
    monkeypatch.setenv("CALIPER_READER", "system")
    assert _caliper(capsys, "--db", db_url, "patient", "add", "S-001")[0] == 0
    code, err = _caliper(
        capsys, "--db", db_url, "survival", "set", "--patient", "S-001", "--death-cause", "a\x01b"
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "death_cause" in err
