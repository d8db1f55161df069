"""``caliper db|reader|patient|timeline|audit`` end to end, and tampering with the sqlite3 tool."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

import recist
from app.cli import main
from storage.db import open_database
from tests.system_tools import system_tool

CASES = Path(__file__).resolve().parents[4] / "shared" / "recist" / "cases-public.json"


def _caliper(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def initialised(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = _caliper(capsys, "--db", db_url, "db", "init")
    assert code == 0
    assert "system" in out
    return db_url


def test_reader_add_and_list(
    initialised: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    code, out, _ = _caliper(
        capsys,
        "--db",
        initialised,
        "reader",
        "add",
        "--username",
        "alice",
        "--name",
        "Dr Alice",
        "--role",
        "investigator",
        "--password-stdin",
        "--as",
        "system",
    )
    assert code == 0
    assert "alice" in out
    db = open_database(initialised)
    assert db.readers.authenticate("alice", "s3cret pass").full_name == "Dr Alice"
    db.close()
    code, out, _ = _caliper(capsys, "--db", initialised, "reader", "list")
    assert "alice\tinvestigator\tDr Alice" in out


def test_writes_need_a_named_reader(
    initialised: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _caliper(capsys, "--db", initialised, "patient", "add", "S-001")
    assert code == 2
    assert "--as USERNAME" in err
    code, _, err = _caliper(capsys, "--db", initialised, "patient", "add", "S-001", "--as", "ghost")
    assert code == 2
    assert "no reader 'ghost'" in err
    monkeypatch.setenv("CALIPER_READER", "system")
    code, out, _ = _caliper(
        capsys, "--db", initialised, "patient", "add", "S-001", "--trial", "CRLM-01"
    )
    assert code == 0
    code, _, err = _caliper(capsys, "--db", initialised, "patient", "add", "S-001")
    assert code == 2
    assert "already exists" in err
    code, out, _ = _caliper(capsys, "--db", initialised, "patient", "list")
    assert out.startswith("S-001\tCRLM-01")


@pytest.mark.parametrize("case_index", [0, 5, 17])
def test_timeline_import_export_round_trip(
    initialised: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, case_index: int
) -> None:
    data = json.loads(CASES.read_text())[case_index]
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(data))
    code, out, err = _caliper(
        capsys,
        "--db",
        initialised,
        "timeline",
        "import",
        str(case_file),
        "--patient",
        "S-007",
        "--as",
        "system",
    )
    assert code == 0, err
    out_file = tmp_path / "out.json"
    code, _, err = _caliper(
        capsys,
        "--db",
        initialised,
        "timeline",
        "export",
        "--patient",
        "S-007",
        "--out",
        str(out_file),
    )
    assert code == 0, err
    expected = recist.case_to_dict(recist.case_from_dict({**data, "id": "S-007"}))
    assert json.loads(out_file.read_text()) == expected
    code, _, err = _caliper(
        capsys,
        "--db",
        initialised,
        "timeline",
        "import",
        str(case_file),
        "--patient",
        "S-007",
        "--as",
        "system",
    )
    assert code == 2
    assert "already has timepoints" in err


def test_bad_case_files_are_clear_errors(
    initialised: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = _caliper(
        capsys, "--db", initialised, "timeline", "import", str(bad), "--as", "system"
    )
    assert code == 2
    assert "not valid JSON" in err
    bad.write_text(
        json.dumps(
            {
                "id": "X",
                "timepoints": [
                    {
                        "label": "b",
                        "date": "2026-01-01",
                        "targets": [{"id": "T1", "organ": "liver", "diameter_mm": -4}],
                    }
                ],
            }
        )
    )
    code, _, err = _caliper(
        capsys, "--db", initialised, "timeline", "import", str(bad), "--as", "system"
    )
    assert code == 2
    assert "diameter_mm" in err
    code, _, err = _caliper(
        capsys,
        "--db",
        initialised,
        "timeline",
        "import",
        str(tmp_path / "missing.json"),
        "--as",
        "system",
    )
    assert code == 2
    assert "cannot read" in err
    db = open_database(initialised)
    assert db.read_only_store().patients() == []  # nothing half-imported
    db.close()


def test_audit_verify_and_export(
    initialised: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _caliper(capsys, "--db", initialised, "patient", "add", "S-001", "--as", "system")
    code, out, _ = _caliper(capsys, "--db", initialised, "audit", "verify")
    assert code == 0
    assert "intact: 2 events" in out
    code, out, _ = _caliper(
        capsys, "--db", initialised, "audit", "export", "--out", str(tmp_path / "a.csv")
    )
    assert code == 0
    rows = list(csv.DictReader((tmp_path / "a.csv").open()))
    assert [r["entity"] for r in rows] == ["reader", "patient"]


def test_newer_database_is_refused_by_the_cli(
    initialised: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(initialised)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    db.close()
    code, _, err = _caliper(capsys, "--db", initialised, "audit", "verify")
    assert code == 2
    assert "newer version of Caliper" in err


@pytest.fixture(scope="session")
def sqlite3_tool() -> str:
    """The sqlite3 command-line tool, installed with apt-get if missing."""
    return system_tool("sqlite3")


def test_tampering_with_the_sqlite3_tool_is_detected(
    sqlite3_tool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "caliper.sqlite3"
    url = str(path)
    _caliper(capsys, "--db", url, "db", "init")
    for subject in ("S-001", "S-002", "S-003"):
        _caliper(
            capsys, "--db", url, "patient", "add", subject, "--trial", "CRLM-01", "--as", "system"
        )
    assert _caliper(capsys, "--db", url, "audit", "verify")[0] == 0

    edit = "UPDATE audit_event SET after_json = replace(after_json, 'S-002', 'S-666') WHERE id = 3;"
    refused = subprocess.run(
        [sqlite3_tool, str(path), edit], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "append-only" in refused.stderr

    tamper = f"DROP TRIGGER audit_event_no_update; {edit}"
    done = subprocess.run(
        [sqlite3_tool, str(path), tamper], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [sqlite3_tool, str(path), "SELECT after_json FROM audit_event WHERE id = 3"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "S-666" in check.stdout

    for full in ((), ("--full",)):  # the default verify's checkpoint digest sees the edit
        code, out, _ = _caliper(capsys, "--db", url, "audit", "verify", *full)
        assert code == 1
        assert "BROKEN at event 3" in out
        assert "edited" in out
        assert "trigger audit_event_no_update of audit_event is missing" in out


def test_data_edited_with_the_sqlite3_tool_is_detected(
    sqlite3_tool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "caliper.sqlite3"
    _caliper(capsys, "--db", str(path), "db", "init")
    _caliper(capsys, "--db", str(path), "patient", "add", "S-001", "--trial", "A", "--as", "system")
    code, out, _ = _caliper(capsys, "--db", str(path), "audit", "verify")
    assert code == 0
    assert "--expect-head 2:" in out
    head = out.split("--expect-head ")[1].split()[0]
    edit = "UPDATE patient SET trial = 'B' WHERE subject_id = 'S-001';"
    subprocess.run([sqlite3_tool, str(path), edit], check=True, capture_output=True)
    code, out, _ = _caliper(capsys, "--db", str(path), "audit", "verify", "--expect-head", head)
    assert code == 1
    assert "patient 1: trial is 'B' in the table but 'A' in the audit trail" in out


def test_unwritable_output_is_a_clear_error(
    initialised: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _caliper(capsys, "--db", initialised, "patient", "add", "S-001", "--as", "system")
    missing = tmp_path / "no" / "such" / "dir"
    code, _, err = _caliper(
        capsys, "--db", initialised, "audit", "export", "--out", str(missing / "a.csv")
    )
    assert code == 2
    assert "cannot write" in err
    code, _, err = _caliper(capsys, "--db", initialised, "timeline", "export", "--patient", "S-404")
    assert code == 2
    assert "no patient 'S-404'" in err


def test_reader_deactivate_and_activate(
    initialised: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    _caliper(
        capsys,
        "--db",
        initialised,
        "reader",
        "add",
        "--username",
        "bob",
        "--name",
        "Bob",
        "--password-stdin",
        "--as",
        "system",
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    code, _, err = _caliper(
        capsys,
        "--db",
        initialised,
        "reader",
        "deactivate",
        "system",
        "--as",
        "bob",
        "--password-stdin",
    )
    assert code == 2
    assert "only an admin" in err
    code, out, _ = _caliper(
        capsys, "--db", initialised, "reader", "deactivate", "bob", "--as", "system"
    )
    assert code == 0
    assert "inactive" in out
    code, _, err = _caliper(capsys, "--db", initialised, "patient", "add", "S-1", "--as", "bob")
    assert code == 2
    assert "inactive" in err
    code, out, _ = _caliper(
        capsys, "--db", initialised, "reader", "activate", "bob", "--as", "system"
    )
    assert code == 0
    assert "now active" in out
