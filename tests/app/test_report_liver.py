"""The liver response beside the overall response in the per-patient PDF (issue 15)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.reports.pdf import LIVER_ROW, write_patient_report
from app.session import ReadingSession
from app.timelines import load_timeline
from recist.model import DrawnGeometry, Role, Segment
from storage.db import open_database
from tests.pdf_tools import pdf_text


def drawn(long_mm: float, slice_index: int) -> DrawnGeometry:
    seg = Segment((0.0, 0.0), (long_mm, 0.0), (0.0, 0.0, 0.0), (long_mm, 0.0, 0.0))
    return DrawnGeometry("1.2.3", f"1.2.3.{slice_index}", slice_index, seg)


def _patient(db, subject: str, organs: tuple[str, str]) -> None:  # noqa: ANN001
    s = ReadingSession(db, db.readers.get("rita"))
    s.add_patient(subject, "CRLM", first_dose_date=date(2026, 1, 5))
    s.open_patient(subject)
    s.add_timepoint("Baseline", date(2026, 1, 2))
    first = s.record_measurement(drawn(50.0, 10), organ=organs[0])
    second = s.record_measurement(drawn(50.0, 20), organ=organs[1])
    s.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    s.record_measurement(drawn(30.0, 10), lesion_id=first.lesion_id)
    s.record_measurement(drawn(60.0, 20), lesion_id=second.lesion_id)


def test_liver_response_is_beside_the_overall_response_in_the_pdf(tmp_path: Path) -> None:
    with open_database(str(tmp_path / "caliper.sqlite3")) as db:
        db.readers.create("rita", "Rita Reader", Role.READER, "rita-pw")
        _patient(db, "S-003", ("liver", "lung"))
        _patient(db, "S-004", ("lung", "bone"))
        with_liver, without = load_timeline(db, "S-003"), load_timeline(db, "S-004")
    pdf = tmp_path / "S-003.pdf"
    write_patient_report(with_liver, pdf)
    text = pdf_text(pdf)
    overall = next(line for line in text.splitlines() if line.strip().startswith("Overall"))
    liver = next(line for line in text.splitlines() if line.strip().startswith(LIVER_ROW))
    assert overall.split()[-1] == "SD"
    assert liver.split()[-1] == "PR"
    assert "Best liver response: PR" in text
    assert "not a RECIST category" in text
    assert "C3: liver PR (-40.0 % liver sum)" in text
    other = tmp_path / "S-004.pdf"
    write_patient_report(without, other)
    assert LIVER_ROW not in pdf_text(other)
    assert "Best liver response" not in pdf_text(other)
