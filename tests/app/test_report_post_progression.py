"""The PDF report marks responses after the first progression (issue 19)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import recist
from app.reports.pdf import write_patient_report
from storage.exchange.timeline import PatientTimeline, records_from_case
from tests.pdf_tools import pdf_text

pytestmark = pytest.mark.qt


def _timeline() -> PatientTimeline:
    """CR at C3, T1 back at 5 mm at C6 (PD), 2.5 mm at C9: still PD, after the progression."""
    sizes = {"BL": 20, "C3": 0, "C6": 5, "C9": 2.5}
    case: dict[str, Any] = {
        "id": "PP",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "min_sd_days": 42,
        "timepoints": [
            {
                "label": label,
                "date": (date(2026, 1, 5) + timedelta(days=63 * k)).isoformat(),
                "targets": [{"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": mm}],
                "non_targets": [],
                "new_lesions": [],
            }
            for k, (label, mm) in enumerate(sizes.items())
        ],
    }
    patient, tps, lesions, ms = records_from_case(case, subject_id="PP1")
    result = recist.result_to_dict(recist.evaluate(recist.case_from_dict(case)))
    return PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result)


def test_pdf_response_table_marks_post_progression(tmp_path: Path) -> None:
    pdf = tmp_path / "PP1.pdf"
    write_patient_report(_timeline(), pdf)
    text = " ".join(pdf_text(pdf).split())
    assert "PD †" in text
    assert (
        "† post-progression: after the first progression at C6; "
        "not used for the best overall response" in text
    )
    assert "C9: PD — PD (after progression at C6; not used for BOR)" in text
