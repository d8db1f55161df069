"""``caliper timeline import --all``: every case of a list file, each as its own patient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from storage.db import open_database


def _case(subject: str, baseline_mm: float = 40.0) -> dict[str, object]:
    return {
        "id": subject,
        "criteria": "RECIST1.1",
        "timepoints": [
            {
                "label": label,
                "date": day,
                "targets": [{"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": mm}],
                "non_targets": [],
                "new_lesions": [],
            }
            for label, day, mm in [
                ("baseline", "2026-01-05", baseline_mm),
                ("C3", "2026-03-05", 20),
            ]
        ],
    }


@pytest.fixture
def db_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'caliper.sqlite3'}"
    assert main(["--db", url, "db", "init"]) == 0
    capsys.readouterr()
    return url


def test_all_cases_of_a_file_become_patients(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([_case("S-001"), _case("S-002"), _case("S-003")]), "utf-8")

    code = main(["--db", db_url, "timeline", "import", "--all", str(cases), "--as", "system"])

    assert code == 0
    assert "imported 3 patients" in capsys.readouterr().out
    db = open_database(db_url)
    try:
        assert [p.subject_id for p in db.read_only_store().patients()] == [
            "S-001",
            "S-002",
            "S-003",
        ]
    finally:
        db.close()


def test_all_stops_at_the_first_bad_case_naming_it(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([_case("S-001"), _case("S-002", baseline_mm=-3)]), "utf-8")

    code = main(["--db", db_url, "timeline", "import", "--all", str(cases), "--as", "system"])

    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cases.json[1]" in err
    assert "diameter_mm" in err


def test_all_refuses_patient_and_case(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([_case("S-001")]), "utf-8")
    argv = ["--db", db_url, "timeline", "import", "--all", str(cases), "--as", "system"]
    assert main([*argv, "--patient", "X"]) == 2
    assert "--all" in capsys.readouterr().err
