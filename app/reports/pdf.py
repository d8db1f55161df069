"""The per-patient PDF report, drawn with QPdfWriter and QPainter.

Contents: header (trial, subject, criteria), lesions by timepoint with sums,
percentages and responses (a semi-automatic measurement is marked ``[n]`` and footnoted
under the table: algorithm and version, accepted as proposed or edited by the reader, and
its contour's volume), the reason for each response, best overall response
and confirmation status, signatures, a spider plot of the patient, and key
images (each target's slice with its caliper) when the image files are found.
Beside the overall response, for a patient with liver lesions at baseline: the
liver response (RECIST 1.1 arithmetic on the liver lesions alone), a
protocol-defined organ response of the conversion trial, not a RECIST category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from app.reports.keyimage import KeyImageError, render_slice
from app.reports.qt import ensure_app
from recist import case_from_records
from recist.endpoints import LiverResponse, liver_response
from recist.model import LesionKind, Measurement, MeasurementStatus
from storage.exchange.timeline import PatientTimeline

DPI = 150
MARGIN = 90
_KIND_ORDER = {LesionKind.TARGET: 0, LesionKind.NON_TARGET: 1, LesionKind.NEW: 2}
_STATUS_TEXT = {
    MeasurementStatus.TOO_SMALL: "TSTM (5)",
    MeasurementStatus.ABSENT: "absent",
    MeasurementStatus.NOT_EVALUABLE: "NE",
    MeasurementStatus.PRESENT: "present",
    MeasurementStatus.UNEQUIVOCAL_PROGRESSION: "unequiv. PD",
}


def cell_text(m: Measurement | None, nodal: bool) -> str:
    """What the lesion table shows for one measurement."""
    if m is None:
        return "–"
    if m.status is MeasurementStatus.SPLIT:
        return f"{m.long_axis_mm or 0:.1f} split"
    if m.status is MeasurementStatus.MERGED:
        return f"→ {m.coalesced_into}"
    if m.status is MeasurementStatus.MEASURED:
        value = m.short_axis_mm if nodal and m.short_axis_mm is not None else m.long_axis_mm
        if value is None:
            value = m.short_axis_mm
        return f"{value:.1f}" + (" SA" if nodal else "")
    return _STATUS_TEXT.get(m.status, m.status.value)


def _number(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{float(value):.1f}{suffix}"


class _Canvas:
    """A QPainter on a QPdfWriter with a y cursor that starts new pages."""

    def __init__(self, path: str) -> None:
        self.writer = QPdfWriter(path)
        self.writer.setResolution(DPI)
        self.writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF()
            )
        )
        self.writer.setTitle("Caliper response report")
        self.writer.setCreator("Caliper")
        self.painter = QPainter(self.writer)
        self.width = self.writer.width()
        self.height = self.writer.height()
        self.y: float = MARGIN

    def font(self, size: float, bold: bool = False) -> None:
        font = QFont("DejaVu Sans")
        font.setPointSizeF(size)
        font.setBold(bold)
        font.setFeature(QFont.Tag("liga"), 0)  # keep "fi" searchable/copyable in the PDF
        self.painter.setFont(font)

    def need(self, height: float) -> None:
        if self.y + height > self.height - MARGIN:
            self.writer.newPage()
            self.y = MARGIN

    def text(self, text: str, size: float = 9, bold: bool = False, indent: float = 0) -> None:
        self.font(size, bold)
        rect = QRectF(MARGIN + indent, self.y, self.width - 2 * MARGIN - indent, 10_000)
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        bound = self.painter.boundingRect(rect, flags, text)
        self.need(bound.height())
        rect.moveTop(self.y)
        self.painter.drawText(rect, flags, text)
        self.y += bound.height() + 4

    def gap(self, height: float = 14) -> None:
        self.y += height


def _header(c: _Canvas, t: PatientTimeline, audit_head: tuple[int, str] | None = None) -> None:
    p = t.patient
    c.text("Caliper — tumour response report", 15, bold=True)
    c.text(f"Trial {p.trial or '–'}    Subject {p.subject_id}    Site {p.site or '–'}", 10)
    confirmation = "required" if p.confirmation_required else "not required"
    c.text(
        f"Criteria {p.criteria.value}    confirmation {confirmation}    "
        f"SD minimum {p.min_sd_days} d    engine {t.result.get('engine_version', '')}",
        8,
    )
    c.text(
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from the audited database", 8
    )
    if audit_head is not None:  # also in the witness: `caliper audit verify --expect-head` takes it
        c.text(f"Audit trail head {audit_head[0]}:{audit_head[1]}", 7)
    c.gap()


#: What the footnotes of the semi-automatic measurements say first.
METHOD_NOTE = (
    "Measurement method: values without a mark were measured with manual calipers; [n] marks "
    "a semi-automatic measurement (Smart caliper: proposed from a segmented contour):"
)


def method_notes(t: PatientTimeline) -> list[tuple[Measurement, str]]:
    """The semi-automatic measurements in table order (lesions, then timepoints), each with
    its footnote: ``T1 at C3: semi-automatic, <algorithm> <version>, edited by the reader
    (contour edited), volume 12.3 mL``; footnote ``n`` is the n-th of the list."""
    tps = sorted(t.timepoints, key=lambda x: x.order)
    notes = []
    for les in sorted(t.lesions, key=lambda les: (_KIND_ORDER[les.kind], les.code)):
        for tp in tps:
            m = t.measurement(les.id, tp.id)
            if m is not None and t.provenance_of(m).semi_automatic:
                notes.append((m, f"{les.code} at {tp.label}: {t.provenance_of(m).describe()}"))
    return notes


def method_marks(notes: list[tuple[Measurement, str]]) -> dict[int, str]:
    """``" [n]"`` by ``id()`` of each measurement of :func:`method_notes` (table, key images)."""
    return {id(m): f" [{n}]" for n, (m, _) in enumerate(notes, start=1)}


def _table(c: _Canvas, t: PatientTimeline, liver: LiverResponse) -> None:
    tps = sorted(t.timepoints, key=lambda x: x.order)
    lesions = sorted(t.lesions, key=lambda les: (_KIND_ORDER[les.kind], les.code))
    notes = method_notes(t)
    marks = method_marks(notes)

    def cell(m: Measurement | None, nodal: bool) -> str:
        return cell_text(m, nodal) + ("" if m is None else marks.get(id(m), ""))

    rows: list[list[str]] = [["Lesion", "Organ"] + [tp.label for tp in tps]]
    rows.append(["", "date"] + [tp.scan_date.isoformat() if tp.scan_date else "" for tp in tps])
    for les in lesions:
        rows.append(
            [les.code, les.organ] + [cell(t.measurement(les.id, tp.id), les.nodal) for tp in tps]
        )
    results = [t.result_for(tp.label) for tp in tps]
    rows.append(["Sum (mm)", ""] + [_number(r.get("sum_mm")) for r in results])
    rows.append(["% baseline", ""] + [_number(r.get("pct_from_baseline"), " %") for r in results])
    rows.append(["% nadir", ""] + [_number(r.get("pct_from_nadir"), " %") for r in results])
    for key, title in (
        ("target", "Target"),
        ("non_target", "Non-target"),
        ("new_lesions", "New lesions"),
        ("overall", "Overall"),
    ):
        rows.append([title, ""] + [_response_cell(r, key) for r in results])
    if liver.applicable:
        rows.append([LIVER_ROW, ""] + [_liver_cell(liver, tp.label) for tp in tps])
    first_result_row = 2 + len(lesions)
    column = (c.width - 2 * MARGIN) / (len(tps) + 2.4)
    widths = [column * 1.2, column * 1.2] + [column] * len(tps)
    row_h = 30
    c.need(row_h * 3)
    for i, row in enumerate(rows):
        bold = i == 0 or row[0] == "Overall"
        # every text fits its cell, wrapped or smaller if it must (scan dates at 9+ timepoints)
        fitted = [_fit_cell(c, text, w - 6, bold) for text, w in zip(row, widths, strict=True)]
        height = max([row_h] + [needed + 6 for _, _, needed in fitted])
        c.need(height)
        if i in (0, first_result_row):
            c.painter.setPen(QPen(QColor(0, 0, 0), 1.5))
            c.painter.drawLine(QPointF(MARGIN, c.y), QPointF(c.width - MARGIN, c.y))
        c.painter.setPen(QColor(0, 0, 0))
        x: float = MARGIN
        for j, ((text, size, _), w) in enumerate(zip(fitted, widths, strict=True)):
            c.font(size, bold)
            align = Qt.AlignmentFlag.AlignLeft if j < 2 else Qt.AlignmentFlag.AlignCenter
            flags = int(align | Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextWordWrap)
            c.painter.drawText(QRectF(x + 3, c.y, w - 6, height), flags, text)
            x += w
        c.y += height
    after = next((i for i, r in enumerate(results) if r.get("post_progression")), None)
    if after:
        c.text(
            f"{POST_MARK} post-progression: after the first progression at "
            f"{results[after - 1].get('label')}; not used for the best overall response",
            7,
        )
    if notes:
        c.gap(4)
        c.text(METHOD_NOTE, 7)
        for n, (_, note) in enumerate(notes, start=1):
            c.text(f"[{n}] {note}", 7, indent=10)
    else:
        c.text("Measurement method: every measurement was made with manual calipers.", 7)
    c.gap()


_HEADER_SIZES = (8.0, 7.5, 7.0, 6.5, 6.0)  # points, largest first


def _fit_cell(c: _Canvas, text: str, width: float, bold: bool) -> tuple[str, float, float]:
    """(text, font size, height) of a lesion table cell *width* wide (the header's scan dates
    and titles at many timepoints, a row's name in a narrow first column).

    One line at 8 pt when it fits, else two lines (an ISO date breaks after its year:
    ``2026-`` / ``01-05``; other text at its spaces), else smaller, down to 6 pt.
    """
    two_lines = f"{text[:5]}\n{text[5:]}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else text
    flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
    for size in _HEADER_SIZES:
        c.font(size, bold)
        line = max(float(c.painter.fontMetrics().lineSpacing()), 1.0)
        for candidate in dict.fromkeys((text, two_lines)):
            bound = c.painter.boundingRect(QRectF(0, 0, width, 10_000), flags, candidate)
            if bound.width() <= width and bound.height() <= 2.5 * line:
                return candidate, size, float(bound.height())
    return two_lines, _HEADER_SIZES[-1], 2 * line


#: How the liver row is named, and what it is.
LIVER_ROW = "Liver (protocol)"
LIVER_NOTE = (
    "Liver response: the RECIST 1.1 arithmetic applied to the liver lesions alone (liver "
    "targets, liver non-targets, new liver lesions) — a protocol-defined organ response of the "
    "conversion trial, not a RECIST category."
)


def patient_liver_response(t: PatientTimeline) -> LiverResponse:
    """The patient's liver response (not applicable without a liver lesion at baseline)."""
    return liver_response(case_from_records(t.patient, t.timepoints, t.lesions, t.measurements))


def _liver_cell(liver: LiverResponse, label: str) -> str:
    result = liver.at(label)
    if result is None or result.response is None:
        return ""
    return f"{result.response}{f' {POST_MARK}' if result.post_progression else ''}"


#: Marks the overall response of a timepoint after the first progression (issue 19).
POST_MARK = "†"


def _response_cell(result: Mapping[str, Any], key: str) -> str:
    value = result.get(key)
    if key == "new_lesions":
        return "" if not result else ("yes" if value else "no")
    if value is not None and key == "overall" and result.get("post_progression"):
        return f"{value} {POST_MARK}"
    return "" if value is None else str(value)


def _liver(c: _Canvas, liver: LiverResponse) -> None:
    if not liver.applicable:
        return
    best = liver.best()
    c.text(f"Best liver response: {best.response if best else '–'}", 11, bold=True)
    c.text(LIVER_NOTE, 7, indent=10)
    for tp in liver.timepoints:
        if tp.response is None:
            continue
        pct = "" if tp.pct_from_baseline is None else f" ({tp.pct_from_baseline:+} % liver sum)"
        c.text(f"{tp.label}: liver {tp.response}{pct} — {tp.reason}", 8, indent=10)
    c.gap()


def _reasons(c: _Canvas, t: PatientTimeline) -> None:
    c.text("Responses and reasons", 11, bold=True)
    for entry in t.result.get("timepoints", []):
        if entry.get("overall") is None and not entry.get("reason"):
            continue
        c.text(
            f"{entry.get('label')}: {entry.get('overall') or '–'} — {entry.get('reason', '')}",
            8,
            indent=10,
        )
        for warning in entry.get("warnings", []):
            c.text(f"⚠ {warning.get('message', '')}", 7, indent=30)
    c.gap(8)
    track = (
        t.result.get("irecist") if t.patient.criteria.value == "iRECIST" else t.result.get("recist")
    )
    bor = t.result.get("best_overall_response")
    c.text(f"Best overall response: {bor}", 11, bold=True)
    if track:
        confirmed = (
            ("confirmed" if track.get("confirmed") else "not confirmed")
            if t.patient.confirmation_required
            else "confirmation not required"
        )
        c.text(f"{track.get('criteria')}: {confirmed}. {track.get('reason', '')}", 8, indent=10)
    c.text(f"Progression date: {t.result.get('progression_date') or '–'}", 8, indent=10)
    c.gap()


def _signatures(c: _Canvas, t: PatientTimeline) -> None:
    c.text("Signatures", 11, bold=True)
    labels = {tp.id: tp.label for tp in t.timepoints}
    if not t.signatures:
        c.text("No timepoint has been signed.", 8, indent=10)
    for s in t.signatures:
        state = (
            "valid"
            if getattr(s, "voided_at", None) is None
            else (f"VOIDED {s.voided_at:%Y-%m-%d}: {s.void_reason}")
        )
        c.text(
            f"{labels.get(s.timepoint_id, s.timepoint_id)}: {s.printed_name} — "
            f"“{s.meaning}” — {s.signed_at:%Y-%m-%d %H:%M} UTC — {state}",
            8,
            indent=10,
        )
    c.gap()


def _spider(c: _Canvas, t: PatientTimeline) -> None:
    points = []
    tps = sorted(t.timepoints, key=lambda x: x.order)
    base = tps[0].scan_date if tps else None
    for tp in tps:
        pct = 0.0 if tp.order == 0 else t.result_for(tp.label).get("pct_from_baseline")
        if pct is not None and tp.scan_date and base:
            points.append(((tp.scan_date - base).days, float(pct), tp.label))
    c.text("Change of the sum of diameters from baseline", 11, bold=True)
    height = 420
    c.need(height + 40)
    left, top = MARGIN + 80, c.y + 10
    w, h = c.width - 2 * MARGIN - 100, height - 60
    max_day = max([d for d, _, _ in points] + [1])
    lo = min([p for _, p, _ in points] + [-100.0])
    hi = max([p for _, p, _ in points] + [40.0])

    def xy(day: float, pct: float) -> QPointF:
        return QPointF(left + w * day / max_day, top + h * (hi - pct) / (hi - lo))

    painter = c.painter
    c.font(7)
    painter.setPen(QPen(QColor(0, 0, 0), 1))
    painter.drawRect(QRectF(left, top, w, h))
    for ref, colour in (
        (20.0, QColor(200, 0, 0)),
        (-30.0, QColor(0, 140, 0)),
        (0.0, QColor(120, 120, 120)),
    ):
        painter.setPen(QPen(colour, 1, Qt.PenStyle.DashLine))
        painter.drawLine(xy(0, ref), xy(max_day, ref))
        painter.drawText(
            QRectF(MARGIN, xy(0, ref).y() - 12, 75, 24),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{ref:+.0f} %",
        )
    painter.setPen(QPen(QColor(20, 60, 200), 3))
    for (d0, p0, _), (d1, p1, _) in zip(points, points[1:], strict=False):
        painter.drawLine(xy(d0, p0), xy(d1, p1))
    for day, pct, label in points:
        painter.drawEllipse(xy(day, pct), 6, 6)
        painter.drawText(xy(day, pct) + QPointF(8, -8), f"{label} {pct:+.1f} %")
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(
        QRectF(left, top + h + 6, w, 30),
        int(Qt.AlignmentFlag.AlignCenter),
        f"days from baseline (0–{max_day})",
    )
    c.y = top + height


def _key_images(c: _Canvas, t: PatientTimeline, images: Mapping[str, Path]) -> list[str]:
    notes: list[str] = []
    tiles = []
    labels = {tp.id: tp for tp in t.timepoints}
    marks = method_marks(method_notes(t))  # a semi-automatic one names its footnote
    for m in sorted(t.measurements, key=lambda m: (labels[m.timepoint_id].order, m.lesion_id)):
        lesion = t.lesion(m.lesion_id)
        if lesion is None or lesion.kind is not LesionKind.TARGET:
            continue
        label = labels[m.timepoint_id].label
        caption = f"{lesion.code} at {label}: {cell_text(m, lesion.nodal)} mm{marks.get(id(m), '')}"
        if m.geometry is None:
            continue
        path = images.get(m.geometry.sop_instance_uid)
        if path is None:
            notes.append(
                f"key image of {caption} skipped: image {m.geometry.sop_instance_uid} "
                "not found (pass --images DIR)"
            )
            continue
        try:
            tiles.append((render_slice(path, m.geometry, lesion.code), caption))
        except KeyImageError as exc:
            notes.append(f"key image of {caption} skipped: {exc}")
    if not tiles and not notes:
        return notes
    c.writer.newPage()
    c.y = MARGIN
    c.text("Key images", 11, bold=True)
    size = (c.width - 2 * MARGIN - 30) / 2
    for i, (image, caption) in enumerate(tiles):
        if i % 2 == 0:
            c.need(size + 40)
            row_top = c.y
        x = MARGIN + (i % 2) * (size + 30)
        c.painter.drawImage(QRectF(x, row_top, size, size), image)
        c.font(8)
        c.painter.setPen(QColor(0, 0, 0))
        c.painter.drawText(
            QRectF(x, row_top + size + 2, size, 30), int(Qt.AlignmentFlag.AlignCenter), caption
        )
        if i % 2 == 1 or i == len(tiles) - 1:
            c.y = row_top + size + 40
    for note in notes:
        c.text(f"Note: {note}", 7)
    return notes


def write_patient_report(
    timeline: PatientTimeline,
    path: str | Path,
    images: Mapping[str, Path] | None = None,
    audit_head: tuple[int, str] | None = None,
) -> Sequence[str]:
    """Write the PDF report of one patient.

    Parameters
    ----------
    timeline
        The patient's records and result, as read from the store.
    path
        The PDF to write.
    images
        Image files by SOP Instance UID, for the key images.
    audit_head
        ``(seq, hash)`` of the audit trail's head when the report was made (recorded in
        the witness too), printed under the title.

    Returns
    -------
    list of str
        Notes about what was left out (key images whose files were not found).
    """
    ensure_app()
    canvas = _Canvas(str(path))
    try:
        _header(canvas, timeline, audit_head)
        liver = patient_liver_response(timeline)
        _table(canvas, timeline, liver)
        _reasons(canvas, timeline)
        _liver(canvas, liver)
        _signatures(canvas, timeline)
        _spider(canvas, timeline)
        notes = _key_images(canvas, timeline, images or {})
    finally:
        canvas.painter.end()
    return notes
