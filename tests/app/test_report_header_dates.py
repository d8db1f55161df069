"""The PDF report's lesion table fits its timepoints' scan dates in their header cells, up
to 12 timepoints (at 9 or more, a date at 8 pt overflowed into its neighbours)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pypdfium2
import pytest

import recist
from app.reports.pdf import DPI, MARGIN, write_patient_report
from storage.exchange.timeline import PatientTimeline, records_from_case

pytestmark = pytest.mark.qt


def _timeline(count: int) -> tuple[PatientTimeline, list[str]]:
    """One target shrinking over *count* timepoints, two months apart; and their dates."""
    dates = [(date(2025, 11, 17) + timedelta(days=61 * k)).isoformat() for k in range(count)]
    case: dict[str, Any] = {
        "id": "MANY",
        "criteria": "RECIST1.1",
        "confirmation_required": False,
        "min_sd_days": 42,
        "timepoints": [
            {
                "label": "BL" if k == 0 else f"C{3 * k}",
                "date": day,
                "targets": [
                    {"id": "T1", "organ": "liver", "nodal": False, "diameter_mm": 40.0 - k}
                ],
                "non_targets": [],
                "new_lesions": [],
            }
            for k, day in enumerate(dates)
        ],
    }
    patient, tps, lesions, ms = records_from_case(case, subject_id="MANY1")
    result = recist.result_to_dict(recist.evaluate(recist.case_from_dict(case)))
    return PatientTimeline(patient, tuple(tps), tuple(lesions), tuple(ms), result), dates


def _date_boxes(pdf: Path, dates: list[str]) -> list[tuple[float, float]]:
    """Left and right edge (PDF points) of each date's first occurrence on page 1."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        text_page = document[0].get_textpage()
        chars = [
            (text_page.get_text_range(i, 1), text_page.get_charbox(i))
            for i in range(text_page.count_chars())
        ]
    finally:
        document.close()
    printed = [(ch, box) for ch, box in chars if not ch.isspace()]
    flat = "".join(ch for ch, _ in printed)
    edges = []
    for day in dates:
        start = flat.index(day)
        boxes = [box for _, box in printed[start : start + len(day)]]
        edges.append((min(b[0] for b in boxes), max(b[2] for b in boxes)))
    return edges


@pytest.mark.parametrize("count", [9, 12])
def test_each_scan_date_stays_inside_its_header_cell(tmp_path: Path, count: int) -> None:
    timeline, dates = _timeline(count)
    pdf = tmp_path / "MANY1.pdf"
    write_patient_report(timeline, pdf)
    to_points = 72 / DPI
    page_width = 210 / 25.4 * DPI  # A4, in the writer's pixels
    column = (page_width - 2 * MARGIN) / (count + 2.4)
    for k, (left, right) in enumerate(_date_boxes(pdf, dates)):
        cell_left = (MARGIN + 2.4 * column + k * column) * to_points
        cell_right = cell_left + column * to_points
        assert cell_left <= left, (dates[k], left, cell_left)
        assert right <= cell_right, (dates[k], right, cell_right)
