"""Cohort plots (waterfall, spider, swimmer) with pyqtgraph, exported as PNG or SVG."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers pg.exporters
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator

from app.cohort.metrics import CohortSummary
from app.reports.qt import ensure_app

#: Bar and marker colours by best overall response.
RESPONSE_COLOURS = {
    "CR": (0, 110, 40),
    "iCR": (0, 110, 40),
    "PR": (60, 170, 80),
    "iPR": (60, 170, 80),
    "SD": (240, 170, 0),
    "iSD": (240, 170, 0),
    "non-CR/non-PD": (200, 200, 80),
    "PD": (200, 30, 30),
    "iUPD": (240, 110, 60),
    "iCPD": (200, 30, 30),
    "NED": (90, 90, 200),
    "NE": (150, 150, 150),
}
_SYMBOLS = {
    "CR": "star",
    "iCR": "star",
    "PR": "t1",
    "iPR": "t1",
    "PD": "x",
    "iCPD": "x",
    "iUPD": "d",
}


def _colour(response: str | None) -> tuple[int, int, int]:
    return RESPONSE_COLOURS.get(response or "NE", (150, 150, 150))


def _by_colour(
    items: Iterable[tuple[Any, Any]],
) -> dict[tuple[int, int, int], list[tuple[Any, Any]]]:
    """``(key, patient)`` pairs grouped by the colour of the patient's best overall response."""
    groups: dict[tuple[int, int, int], list[tuple[Any, Any]]] = {}
    for key, patient in items:
        groups.setdefault(_colour(patient.best_overall_response), []).append((key, patient))
    return groups


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    ensure_app()
    widget = pg.PlotWidget(background="w")
    widget.resize(1000, 620)
    item = widget.getPlotItem()
    item.setTitle(title, color="k")
    item.setLabel("bottom", x_label, color="k")
    item.setLabel("left", y_label, color="k")
    item.showGrid(x=False, y=True, alpha=0.2)
    item.setContentsMargins(10, 30, 20, 10)
    for axis in ("bottom", "left"):
        item.getAxis(axis).enableAutoSIPrefix(False)  # never "patients (x0.001)"
        item.getAxis(axis).setPen("k")
        item.getAxis(axis).setTextPen("k")
    return widget


#: Above this many patients bars have no outline and only every n-th subject is named.
MANY = 150
#: At most this many subject ids on an axis (more would overlap).
MAX_LABELS = {"bottom": 40, "left": 50}


def _subject_ticks(item: pg.PlotItem, axis: str, patients: list[Any]) -> None:
    """Name the subjects on ``axis``: all of them when they fit, else every n-th."""
    step = max(1, -(-len(patients) // MAX_LABELS[axis]))
    item.getAxis(axis).setTicks(
        [[(i, p.subject_id) for i, p in enumerate(patients) if i % step == 0]]
    )


def _legend(item: pg.PlotItem, responses: set[str | None]) -> None:
    """A legend of the best-overall-response colours that occur."""
    legend = item.addLegend(offset=(-10, 10), labelTextColor="k", brush=(255, 255, 255, 200))
    for response in sorted(
        {r or "NE" for r in responses},
        key=lambda r: list(RESPONSE_COLOURS).index(r) if r in RESPONSE_COLOURS else 99,
    ):
        sample = pg.ScatterPlotItem(
            [], [], symbol="s", size=12, brush=pg.mkBrush(*_colour(response)), pen=pg.mkPen("k")
        )
        legend.addItem(sample, f"BOR {response}")


def _reference_lines(item: pg.PlotItem) -> None:
    for value, colour in ((20, (200, 0, 0)), (-30, (0, 140, 0))):
        item.addItem(
            pg.InfiniteLine(pos=value, angle=0, pen=pg.mkPen(colour, style=Qt.PenStyle.DashLine))
        )


def waterfall_plot(summary: CohortSummary) -> pg.PlotWidget:
    """Best % change of the target sum per patient, sorted, coloured by BOR."""
    widget = _plot(
        "Best change of target sum from baseline", "patients", "best change from baseline (%)"
    )
    item = widget.getPlotItem()
    patients = sorted(
        (p for p in summary.patients if p.best_pct_change is not None),
        key=lambda p: -(p.best_pct_change or 0.0),
    )
    # One bar item per colour, not per patient: a cohort of thousands draws at once.
    for colour, members in _by_colour(enumerate(patients)).items():
        item.addItem(
            pg.BarGraphItem(
                x=[i for i, _ in members],
                height=[p.best_pct_change for _, p in members],
                width=0.8,
                brush=colour,
                pen="k" if len(patients) <= MANY else None,
            )
        )
    _subject_ticks(item, "bottom", patients)
    item.setLabel("bottom", f"patients (n = {len(patients)}), largest growth on the left")
    _reference_lines(item)
    _legend(item, {p.best_overall_response for p in patients})
    return widget


def spider_plot(summary: CohortSummary) -> pg.PlotWidget:
    """% change of the target sum over time, one line per patient."""
    widget = _plot(
        "Change of target sum over time", "days from baseline", "change from baseline (%)"
    )
    item = widget.getPlotItem()
    # One line item per colour: the patients' lines joined, with no link between two patients.
    many = sum(1 for p in summary.patients if p.spider) > MANY  # thin lines: wide ones are slow
    for colour, members in _by_colour((p, p) for p in summary.patients if p.spider).items():
        days = [d for _, p in members for d, _v in p.spider]
        pct = [v for _, p in members for _d, v in p.spider]
        connect = np.ones(len(days), dtype=bool)
        ends = np.cumsum([len(p.spider) for _, p in members]) - 1
        connect[ends] = False  # no segment from a patient's last point to the next patient
        item.addItem(
            pg.PlotDataItem(
                days,
                pct,
                connect=connect,
                pen=pg.mkPen(colour, width=1 if many else 2),
                # exporters draw symbols one path at a time: none for a crowd of lines
                symbol=None if many else "o",
                symbolSize=6,
                symbolBrush=colour,
            )
        )
    _reference_lines(item)
    _legend(item, {p.best_overall_response for p in summary.patients})
    return widget


def swimmer_plot(summary: CohortSummary) -> pg.PlotWidget:
    """Time on study per patient with response markers (PR ▲, CR ★, PD ✕)."""
    widget = _plot("Time on study and responses", "days from baseline", "")
    item = widget.getPlotItem()
    patients = sorted(summary.patients, key=lambda p: p.last_day)
    # One lane item per colour and one marker item per symbol, not per patient.
    for colour, members in _by_colour(enumerate(patients)).items():
        item.addItem(
            pg.BarGraphItem(
                x0=[0] * len(members),
                y=[i for i, _ in members],
                width=[max(p.last_day, 1) for _, p in members],
                height=0.6,
                brush=(*colour, 160),
                pen="k" if len(patients) <= MANY else None,
            )
        )
    marks: dict[str, tuple[list[float], list[int]]] = {}
    for i, p in enumerate(patients):
        for day, response in p.responses:
            if response in _SYMBOLS:
                xs, ys = marks.setdefault(_SYMBOLS[response], ([], []))
                xs.append(day)
                ys.append(i)
    for symbol, (xs, ys) in marks.items():
        size = 12 if len(patients) <= MANY else 5
        item.addItem(pg.ScatterPlotItem(xs, ys, symbol=symbol, size=size, brush="k", pen="k"))
    _subject_ticks(item, "left", patients)
    item.setYRange(-1, max(len(patients), 1), padding=0)
    _legend(item, {p.best_overall_response for p in patients})
    return widget


def export_plot(widget: pg.PlotWidget, path: Path) -> Path:
    """Write a plot as PNG or SVG (by the file's suffix) with pyqtgraph's exporters."""
    item = widget.getPlotItem()
    widget.show()  # lays the plot out at its size (offscreen when headless)
    ensure_app().processEvents()
    if path.suffix.lower() == ".svg":
        try:
            pg.exporters.SVGExporter(item).export(str(path))
        except ValueError:
            # pyqtgraph 0.14's SVG exporter cannot parse the path data Qt 6.11 writes
            # ("x y" instead of "x,y"); Qt's own SVG generator draws the same scene.
            _qt_svg(widget, path)
    else:
        exporter = pg.exporters.ImageExporter(item)
        exporter.export(str(path))
    widget.close()
    return path


def _qt_svg(widget: pg.PlotWidget, path: Path) -> None:
    """Render the plot widget into an SVG file with QSvgGenerator."""
    source = widget.getPlotItem().sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setResolution(widget.logicalDpiX())
    generator.setSize(source.size().toSize())
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle(widget.getPlotItem().titleLabel.text)
    painter = QPainter(generator)
    try:
        widget.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def write_cohort_plots(summary: CohortSummary, out: Path, fmt: str = "png") -> list[Path]:
    """Write ``waterfall``, ``spider`` and ``swimmer`` plots into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        export_plot(build(summary), out / f"{name}.{fmt}")
        for name, build in (
            ("waterfall", waterfall_plot),
            ("spider", spider_plot),
            ("swimmer", swimmer_plot),
        )
    ]
