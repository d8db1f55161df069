"""The PDF report and the cohort plots, rendered offscreen and checked with poppler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.cohort.metrics import cohort_summary
from app.reports.pdf import cell_text, write_patient_report
from app.reports.plots import write_cohort_plots
from app.timelines import find_images, load_timeline
from recist.model import Measurement, MeasurementStatus
from storage.db import Database
from tests.pdf_tools import pdf_pages, pdf_text
from tests.storage.exchange.factories import CT_FOLDER, PASSWORD, make_database

pytestmark = pytest.mark.qt


@pytest.fixture
def signed_database(tmp_path: Path) -> Iterator[Database]:
    db, investigator, _ = make_database(tmp_path, ["R01", "R07"])
    store = db.store(investigator)
    chart = store.chart("R01")
    store.assess(chart.patient.id)
    c3 = next(t for t in chart.timepoints if t.label == "C3")
    store.sign(c3.id, investigator, PASSWORD, "I confirm the response PR at C3")
    yield db
    db.close()


def test_pdf_numbers_match_the_database(signed_database: Database, tmp_path: Path) -> None:
    timeline = load_timeline(signed_database, "R01")
    pdf = tmp_path / "R01.pdf"
    notes = write_patient_report(timeline, pdf, images=find_images(str(CT_FOLDER)))
    assert notes == []
    text = pdf_text(pdf)
    assert "Trial CRLM-01" in text
    assert "Subject R01" in text
    for entry in timeline.result["timepoints"]:
        assert f"{entry['sum_mm']:.1f}" in text
        if entry["pct_from_baseline"] is not None:
            assert f"{entry['pct_from_baseline']:.1f} %" in text
        if entry["overall"]:
            assert f"{entry['label']}: {entry['overall']}" in text
    for m in timeline.measurements:
        if m.long_axis_mm is not None:
            assert f"{m.long_axis_mm:.1f}" in text
    assert "Best overall response: PR" in text
    assert "Jane Doe" in text
    assert "I confirm the response PR at C3" in text
    assert "valid" in text
    assert "Key images" in text
    assert "T1 at baseline: 34.0 mm" in text


def test_pdf_pages_render(signed_database: Database, tmp_path: Path) -> None:
    timeline = load_timeline(signed_database, "R01")
    pdf = tmp_path / "R01.pdf"
    write_patient_report(timeline, pdf, images=find_images(str(CT_FOLDER)))
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) == 2  # tables and spider plot, then key images
    key_page = QImage(str(pages[1]))
    # the CT slices are drawn: many dark pixels in the upper half of the page
    dark = sum(
        1
        for y in range(80, key_page.height() // 2, 4)
        for x in range(0, key_page.width(), 4)
        if key_page.pixelColor(x, y).lightness() < 40
    )
    assert dark > 500


def test_missing_images_are_noted_not_fatal(signed_database: Database, tmp_path: Path) -> None:
    timeline = load_timeline(signed_database, "R01")
    pdf = tmp_path / "no-images.pdf"
    notes = write_patient_report(timeline, pdf, images={})
    assert len(notes) == 3
    assert all("not found" in n for n in notes)
    assert "Note: key image of T1" in pdf_text(pdf)


def test_cell_text_shows_statuses() -> None:
    tstm = Measurement(None, 1, 1, None, MeasurementStatus.TOO_SMALL)
    node = Measurement(
        None, 1, 1, None, MeasurementStatus.MEASURED, long_axis_mm=20.0, short_axis_mm=12.0
    )
    assert cell_text(tstm, nodal=False) == "TSTM (5)"
    assert cell_text(node, nodal=True) == "12.0 SA"
    assert cell_text(None, nodal=False) == "–"


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_cohort_plots_export(signed_database: Database, tmp_path: Path, fmt: str) -> None:
    summary = cohort_summary([load_timeline(signed_database, s) for s in ("R01", "R07")])
    files = write_cohort_plots(summary, tmp_path, fmt=fmt)
    assert [f.name for f in files] == [f"waterfall.{fmt}", f"spider.{fmt}", f"swimmer.{fmt}"]
    for f in files:
        assert f.stat().st_size > 1000
    if fmt == "svg":
        assert "<svg" in files[0].read_text()
        assert "R07" in files[2].read_text()  # patient tick labels on the swimmer plot
    else:
        image = QImage(str(files[0]))
        assert image.width() >= 900
