"""The cohort view's live plots: waterfall, spider and swimmer, on the dark theme.

Each ``draw_*`` function clears a ``pg.PlotWidget`` and draws one plot from a
cohort summary (duck-typed: the ``patients`` of ``app.cohort.metrics.CohortSummary``
with ``subject_id``, ``best_overall_response``, ``best_pct_change``, ``spider``,
``responses``, ``last_day``).  The files written on export come from
``app.reports.plots`` (white background, for reports); these are for the screen.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from viewer.style import RESPONSE_COLOURS, response_colour

BACKGROUND = "#171a1e"
TEXT = "#aeb6c0"
AXIS = "#4a5260"
#: Thresholds drawn as guides on % change plots: (value, label, colour).
GUIDES: tuple[tuple[float, str, str], ...] = (
    (20.0, "+20 % (PD)", "#e5534b"),
    (-30.0, "−30 % (PR)", "#3fb68b"),
)
#: Swimmer markers by timepoint response.
SYMBOLS = {
    "CR": "star",
    "iCR": "star",
    "PR": "t1",
    "iPR": "t1",
    "PD": "x",
    "iCPD": "x",
    "iUPD": "d",
}
#: Swimmer legend: (text, symbol, responses drawn with it).
MARKER_LEGEND: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("CR", "star", frozenset({"CR", "iCR"})),
    ("PR", "t1", frozenset({"PR", "iPR"})),
    ("iUPD", "d", frozenset({"iUPD"})),
    ("PD", "x", frozenset({"PD", "iCPD"})),
)


def make_plot(name: str, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A dark, non-interactive-menu plot with labelled axes."""
    plot = pg.PlotWidget(background=BACKGROUND)
    plot.setObjectName(name)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    item = plot.getPlotItem()
    item.setTitle(title, color=TEXT, size="10pt")
    item.setLabel("bottom", x_label, color=TEXT)
    item.setLabel("left", y_label, color=TEXT)
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTextPen(TEXT)
        item.getAxis(axis).setPen(AXIS)
    return plot


def _colour(response: str | None) -> Any:
    return response_colour(response or "NE")


def _guides(plot: pg.PlotWidget, positions: tuple[float, float] = (0.02, 0.02)) -> None:
    """The 0 line and the dashed +20 %/−30 % guides, labelled at ``positions`` (0 left, 1 right)."""
    plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(AXIS, width=1)))
    for (value, text, colour), where in zip(GUIDES, positions, strict=True):
        plot.addItem(
            pg.InfiniteLine(
                pos=value,
                angle=0,
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                label=text,
                labelOpts={"position": where, "color": colour, "anchors": [(where, 1), (where, 1)]},
            )
        )


def _legend_box(plot: pg.PlotWidget, offset: tuple[int, int] = (10, 10)) -> Any:
    """The plot's legend, emptied (created on first use; one per plot, reused on redraw)."""
    item = plot.getPlotItem()
    if item.legend is None:
        item.addLegend(
            offset=offset,
            labelTextColor=TEXT,
            brush=pg.mkBrush(23, 26, 30, 220),
            pen=pg.mkPen(AXIS),
        )
    item.legend.clear()
    return item.legend


def _legend(
    plot: pg.PlotWidget, responses: set[str | None], offset: tuple[int, int] = (10, 10)
) -> Any:
    legend = _legend_box(plot, offset)
    order = list(RESPONSE_COLOURS)
    for response in sorted(
        {r or "NE" for r in responses}, key=lambda r: order.index(r) if r in order else 99
    ):
        sample = pg.ScatterPlotItem(
            [], [], symbol="s", size=11, brush=pg.mkBrush(_colour(response)), pen=None
        )
        legend.addItem(sample, f"BOR {response}")
    return legend


def waterfall_order(summary: Any) -> list[Any]:
    """Patients with a best % change, largest growth first (the waterfall's left to right)."""
    measured = [p for p in summary.patients if p.best_pct_change is not None]
    return sorted(measured, key=lambda p: (-p.best_pct_change, p.subject_id))


def draw_waterfall(plot: pg.PlotWidget, summary: Any) -> list[Any]:
    """Bars of best % change of the target sum per patient, coloured by BOR; returns the bars."""
    plot.clear()
    patients = waterfall_order(summary)
    bars = []
    for i, p in enumerate(patients):
        bar = pg.BarGraphItem(
            x=[i],
            height=[p.best_pct_change],
            width=0.75,
            brush=pg.mkBrush(_colour(p.best_overall_response)),
            pen=pg.mkPen(BACKGROUND),
        )
        plot.addItem(bar)
        bars.append(bar)
    plot.getAxis("bottom").setTicks([[(i, p.subject_id) for i, p in enumerate(patients)]])
    _guides(plot, (0.98, 0.02))  # growth is on the left, shrinkage on the right
    _legend(plot, {p.best_overall_response for p in patients}, offset=(10, -10))
    low = min([-100.0, *(p.best_pct_change for p in patients)])
    high = max([40.0, *(p.best_pct_change for p in patients)])
    plot.setXRange(-0.7, max(len(patients), 1) - 0.3, padding=0)
    plot.setYRange(low - 5, high + 5, padding=0)
    return bars


def draw_spider(plot: pg.PlotWidget, summary: Any) -> list[Any]:
    """% change of the target sum over days from baseline, a line per patient; returns them."""
    plot.clear()
    _guides(plot)
    lines = []
    for p in summary.patients:
        if not p.spider:
            continue
        colour = _colour(p.best_overall_response)
        line = pg.PlotDataItem(
            [d for d, _ in p.spider],
            [v for _, v in p.spider],
            pen=pg.mkPen(colour, width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush=pg.mkBrush(colour),
            symbolPen=pg.mkPen(BACKGROUND),
            name=None,
        )
        line.setToolTip(p.subject_id)
        plot.addItem(line)
        lines.append(line)
    _legend(plot, {p.best_overall_response for p in summary.patients if p.spider}, offset=(10, -10))
    plot.enableAutoRange()
    return lines


def swimmer_order(summary: Any) -> list[Any]:
    """Patients by time on study, longest at the top."""
    return sorted(summary.patients, key=lambda p: (p.last_day, p.subject_id))


def draw_swimmer(plot: pg.PlotWidget, summary: Any) -> list[Any]:
    """A lane per patient (days on study, coloured by BOR) with response marks; returns them."""
    plot.clear()
    patients = swimmer_order(summary)
    lanes = []
    for i, p in enumerate(patients):
        colour = _colour(p.best_overall_response)
        lane = pg.BarGraphItem(
            x0=[0],
            y=[i],
            width=[max(p.last_day, 1)],
            height=0.55,
            brush=pg.mkBrush(colour.red(), colour.green(), colour.blue(), 170),
            pen=pg.mkPen(colour),
        )
        plot.addItem(lane)
        lanes.append(lane)
        for day, response in p.responses:
            if response in SYMBOLS:
                plot.addItem(
                    pg.ScatterPlotItem(
                        [day],
                        [i],
                        symbol=SYMBOLS[response],
                        size=13,
                        brush=pg.mkBrush("#e8ecf0"),
                        pen=pg.mkPen(BACKGROUND, width=1),
                    )
                )
    plot.getAxis("left").setTicks([[(i, p.subject_id) for i, p in enumerate(patients)]])
    legend = _legend(plot, {p.best_overall_response for p in patients}, offset=(-10, -10))
    shown = {r for p in patients for _, r in p.responses}
    for text, symbol, responses in MARKER_LEGEND:
        if shown & responses:
            marker = pg.ScatterPlotItem(
                [], [], symbol=symbol, size=11, brush=pg.mkBrush("#e8ecf0"), pen=None
            )
            legend.addItem(marker, text)
    last = max([p.last_day for p in patients] or [1])
    plot.setXRange(0, last * 1.3 + 1, padding=0)  # room on the right for the legend
    plot.setYRange(-0.8, max(len(patients), 1) - 0.2, padding=0)
    return lanes
