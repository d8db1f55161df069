"""The cohort PDF: ORR at C3/C6, conversion and MPR rates with exact CIs, PFS/OS Kaplan–Meier
with medians, CIs and numbers at risk, and one line per patient (liver response, conversion,
MPR, PFS, OS)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from app.cohort.endpoints import AT_RISK_MONTHS, EndpointSummary
from app.cohort.metrics import CohortSummary
from app.reports.km import km_plot, median_text
from app.reports.pdf import MARGIN, _Canvas
from app.reports.plots import export_plot
from app.reports.qt import ensure_app
from recist.endpoints import TimeToEvent

LIVER_NOTE = (
    "Liver response: the RECIST 1.1 arithmetic applied to the liver lesions only, a "
    "protocol-defined organ response, not a RECIST category."
)


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _row(c: _Canvas, cells: list[str], widths: list[float], bold: bool = False) -> None:
    c.font(8, bold)
    c.need(24)
    x: float = MARGIN
    for text, width in zip(cells, widths, strict=True):
        c.painter.drawText(QRectF(x, c.y, width - 6, 24), 0, text)
        x += width
    c.y += 23


def _rates(c: _Canvas, cohort: CohortSummary, ends: EndpointSummary) -> None:
    c.text("Response and conversion endpoints (exact 95 % CIs, all patients)", 11, bold=True)
    widths = [430.0, 140.0, 140.0, 300.0]
    _row(c, ["endpoint", "patients", "rate", "95 % CI"], widths, bold=True)
    for e in cohort.orr:
        _row(
            c,
            [
                f"ORR at {e.cutoff} (RECIST 1.1)",
                f"{e.responders}/{e.patients}",
                _pct(e.rate),
                f"{_pct(e.ci_low)} – {_pct(e.ci_high)}",
            ],
            widths,
        )
    for r in ends.rates:
        _row(
            c,
            [r.label, f"{r.k}/{r.n}", _pct(r.rate), f"{_pct(r.ci_low)} – {_pct(r.ci_high)}"],
            widths,
        )
        if r.note:
            c.text(f"   {r.note}", 7)
    c.gap(8)


def _km(c: _Canvas, ends: EndpointSummary) -> None:
    c.text("Progression-free and overall survival (Kaplan–Meier, 18-month cut-off)", 11, bold=True)
    for param, curve in ends.km.items():
        c.text(f"{param}: {curve.n} patients, {curve.events} events; {median_text(curve)}", 8.5)
    with tempfile.TemporaryDirectory() as folder:
        path = export_plot(km_plot(ends), Path(folder) / "km.png")
        image = QImage(str(path))
    width = c.width - 2 * MARGIN
    height = width * image.height() / max(image.width(), 1)
    c.need(height + 10)
    c.painter.drawImage(QRectF(MARGIN, c.y, width, height), image)
    c.y += height + 6
    widths = [130.0] + [120.0] * len(AT_RISK_MONTHS)
    _row(c, ["at risk", *[f"{m} mo" for m in AT_RISK_MONTHS]], widths, bold=True)
    for param, curve in ends.km.items():
        _row(c, [param, *[str(curve.at_risk(m)) for m in AT_RISK_MONTHS]], widths)
    c.text(
        "PFS censoring follows the FDA guidance (CNSR 1 last adequate assessment, 2 no "
        "adequate assessment, 3 new anticancer therapy, 4 two or more missed assessments, "
        "5 the 18-month cut-off); docs/ENDPOINTS.md.",
        7,
    )


def _patients(c: _Canvas, ends: EndpointSummary) -> None:
    c.writer.newPage()
    c.y = MARGIN
    c.text("Patients", 11, bold=True)
    c.text(LIVER_NOTE, 7.5)
    widths = [120.0, 90.0, 130.0, 170.0, 90.0, 240.0, 220.0]
    headings = ["subject", "BOR", "best liver", "conversion", "MPR", "PFS (days)", "OS (days)"]
    _row(c, headings, widths, bold=True)
    for row in ends.patients:
        e = row.endpoints
        best = e.liver.best() if e.liver.applicable else None

        def tte(t: TimeToEvent | None) -> str:
            if t is None:
                return "-"
            return f"{t.days} {'event' if t.event else f'cens. ({t.cnsr})'}"

        _row(
            c,
            [
                row.subject_id,
                str(e.best_overall_response or "-"),
                str(best.response) if best and best.response else "-",
                e.conversion.status_text,
                {True: "yes", False: "no", None: "-"}[e.mpr.mpr],
                tte(e.pfs),
                tte(e.os),
            ],
            widths,
        )


def write_cohort_report(
    cohort: CohortSummary, ends: EndpointSummary, path: str | Path, title: str = "Cohort report"
) -> Path:
    """Write the cohort PDF; return its path."""
    ensure_app()
    out = Path(path)
    canvas = _Canvas(str(out))
    canvas.writer.setTitle(f"Caliper {title}")
    try:
        canvas.text(f"Caliper — {title}", 15, bold=True)
        canvas.text(
            f"{len(ends.patients)} patients; produced {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
            "from the audited database",
            8,
        )
        canvas.gap(6)
        _rates(canvas, cohort, ends)
        _km(canvas, ends)
        _patients(canvas, ends)
    finally:
        canvas.painter.end()
    return out
