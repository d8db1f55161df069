"""The cohort view's live plots: waterfall, spider and swimmer, on the dark theme.

Each ``draw_*`` function clears a ``pg.PlotWidget`` and draws one plot from a
cohort summary (duck-typed: the ``patients`` of ``app.cohort.metrics.CohortSummary``
with ``subject_id``, ``best_overall_response``, ``best_pct_change``, ``spider``,
``responses``, ``last_day``).  The files written on export come from
``app.reports.plots`` (white background, for reports); these are for the screen.

Each plot is a fixed number of graphics items whatever the cohort's size (one bar item
for the waterfall, one curve per best response for the spider, one lane and one marker item
for the swimmer), so a cohort of thousands draws in one go.  Subjects are named on a
:class:`SubjectAxis` (as many as fit) and in a tool tip on hover.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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


class SubjectAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph has no types: AxisItem is Any
    """An axis labelled with subject ids at integer positions, as many as fit without overlap.

    Few patients: every subject is labelled.  Many: every n-th, so the labels stay readable,
    and zooming in labels them all; hovering a bar, lane or point names its patient.
    """

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.names: list[str] = []
        self.enableAutoSIPrefix(False)

    def set_names(self, names: list[str]) -> None:
        """The subject id at position 0, 1, 2… (redraws the axis)."""
        self.names = list(names)
        self.picture = None
        self.update()

    def label_step(self, low: float, high: float, size: float) -> int:
        """Every how many positions a label fits in ``size`` pixels for ``[low, high]``."""
        span = max(high - low, 1e-9)
        if self.orientation in ("left", "right"):
            needed = 15.0  # one line of text
        else:
            needed = 7.0 * max((len(n) for n in self.names), default=4) + 10.0
        per_position = size / span
        return max(1, math.ceil(needed / max(per_position, 1e-9)))

    def tickValues(  # noqa: N802 - pyqtgraph's name
        self,
        minVal: float,
        maxVal: float,
        size: float,  # noqa: N803 - pyqtgraph's names
    ) -> list[tuple[float, list[float]]]:
        if not self.names:
            return []
        step = self.label_step(minVal, maxVal, size)
        first = max(0, math.ceil(minVal))
        last = min(len(self.names) - 1, math.floor(maxVal))
        first += (-first) % step
        return [(float(step), [float(v) for v in range(first, last + 1, step)])]

    def tickStrings(  # noqa: N802 - pyqtgraph's name
        self, values: list[float], scale: float, spacing: float
    ) -> list[str]:
        names = self.names
        return [names[int(v)] if 0 <= int(v) < len(names) else "" for v in values]


def make_plot(
    name: str, title: str, x_label: str, y_label: str, subject_axis: str | None = None
) -> pg.PlotWidget:
    """A dark, non-interactive-menu plot with labelled axes, never an SI prefix (×0.001).

    ``subject_axis`` (``"bottom"`` or ``"left"``): that axis is a :class:`SubjectAxis`.
    """
    axes = {subject_axis: SubjectAxis(subject_axis)} if subject_axis else {}
    plot = pg.PlotWidget(background=BACKGROUND, axisItems=axes)
    plot.setObjectName(name)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    item = plot.getPlotItem()
    item.setTitle(title, color=TEXT, size="10pt")
    item.setLabel("bottom", x_label, color=TEXT)
    item.setLabel("left", y_label, color=TEXT)
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
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


#: Above this many patients the bars are drawn without an outline (it would hide thin bars).
OUTLINE_LIMIT = 150


def _brushes(responses: list[str | None], alpha: int = 255) -> list[Any]:
    """One brush per response, shared between equal responses (few QBrush objects)."""
    cache: dict[str, Any] = {}
    out = []
    for response in responses:
        key = response or "NE"
        if key not in cache:
            colour = _colour(key)
            cache[key] = pg.mkBrush(colour.red(), colour.green(), colour.blue(), alpha)
        out.append(cache[key])
    return out


def _hover_points(
    x: list[float], y: list[float], tips: list[str], size: int = 12
) -> pg.ScatterPlotItem:
    """Invisible points that name their patient in a tool tip when hovered."""
    return pg.ScatterPlotItem(
        x=x,
        y=y,
        data=tips,
        size=size,
        brush=pg.mkBrush(0, 0, 0, 0),
        pen=None,
        hoverable=True,
        tip=lambda x, y, data: data,  # noqa: ARG005 - pyqtgraph passes x and y too
    )


def waterfall_order(summary: Any) -> list[Any]:
    """Patients with a best % change, largest growth first (the waterfall's left to right)."""
    measured = [p for p in summary.patients if p.best_pct_change is not None]
    return sorted(measured, key=lambda p: (-p.best_pct_change, p.subject_id))


def draw_waterfall(plot: pg.PlotWidget, summary: Any) -> pg.BarGraphItem:
    """One bar item: best % change of the target sum per patient, coloured by BOR."""
    plot.clear()
    patients = waterfall_order(summary)
    n = len(patients)
    heights = [float(p.best_pct_change) for p in patients]
    bars = pg.BarGraphItem(
        x=list(range(n)),
        height=heights,
        width=0.75 if n <= OUTLINE_LIMIT else 0.9,
        brushes=_brushes([p.best_overall_response for p in patients]),
        pen=pg.mkPen(BACKGROUND) if n <= OUTLINE_LIMIT else None,
    )
    plot.addItem(bars)
    plot.addItem(
        _hover_points(
            list(range(n)),
            heights,
            [
                f"{p.subject_id}: {h:+.1f} % (BOR {p.best_overall_response or 'NE'})"
                for p, h in zip(patients, heights, strict=True)
            ],
        )
    )
    axis = plot.getAxis("bottom")
    if isinstance(axis, SubjectAxis):
        axis.set_names([p.subject_id for p in patients])
    else:
        axis.setTicks([[(i, p.subject_id) for i, p in enumerate(patients)]])
    plot.getPlotItem().setLabel(
        "bottom", f"patients (n = {n}), largest growth on the left", color=TEXT
    )
    _guides(plot, (0.98, 0.02))  # growth is on the left, shrinkage on the right
    _legend(plot, {p.best_overall_response for p in patients}, offset=(10, -10))
    low = min([-100.0, *heights])
    high = max([40.0, *heights])
    plot.setXRange(-0.7, max(n, 1) - 0.3, padding=0)
    plot.setYRange(low - 5, high + 5, padding=0)
    return bars


def draw_spider(plot: pg.PlotWidget, summary: Any) -> list[pg.PlotCurveItem]:
    """% change of the target sum over days from baseline, a line per patient.

    Batched: one curve per best response (its patients' lines, disconnected between
    patients) and one point item, hovered for the patient's name: a dot at every visit for
    up to :data:`OUTLINE_LIMIT` patients; above, thin lines and an invisible point at each
    line's end (ten thousand dots would hide the lines and cost more than they show).
    Returns the curves.
    """
    plot.clear()
    _guides(plot)
    drawn = [p for p in summary.patients if p.spider]
    few = len(drawn) <= OUTLINE_LIMIT
    groups: dict[str, tuple[list[float], list[float], list[bool]]] = {}
    xs: list[float] = []
    ys: list[float] = []
    tips: list[str] = []
    colours: list[str | None] = []
    for p in drawn:
        gx, gy, connect = groups.setdefault(p.best_overall_response or "NE", ([], [], []))
        last = len(p.spider) - 1
        for k, (day, value) in enumerate(p.spider):
            gx.append(float(day))
            gy.append(float(value))
            connect.append(k < last)
            if few or k == last:
                xs.append(float(day))
                ys.append(float(value))
                tips.append(f"{p.subject_id}: day {day}, {value:+.1f} %")
                colours.append(p.best_overall_response)
    order = list(RESPONSE_COLOURS)
    curves = []
    for response in sorted(groups, key=lambda r: order.index(r) if r in order else 99):
        gx, gy, connect = groups[response]
        curve = pg.PlotCurveItem(
            x=np.asarray(gx),
            y=np.asarray(gy),
            connect=np.asarray(connect, dtype=bool),
            pen=pg.mkPen(_colour(response), width=2 if few else 1),
        )
        curve.setZValue(1)
        plot.addItem(curve)
        curves.append(curve)
    points = _hover_points(xs, ys, tips, size=6 if few else 8)
    if few:
        points.setBrush(_brushes(colours))
        points.setPen(pg.mkPen(BACKGROUND))
    points.setZValue(2)
    plot.addItem(points)
    _legend(plot, set(groups), offset=(10, -10))
    plot.enableAutoRange()
    return curves


def swimmer_order(summary: Any) -> list[Any]:
    """Patients by time on study, longest at the top."""
    return sorted(summary.patients, key=lambda p: (p.last_day, p.subject_id))


def draw_swimmer(plot: pg.PlotWidget, summary: Any) -> tuple[pg.BarGraphItem, pg.ScatterPlotItem]:
    """One lane item (days on study, coloured by BOR) and one marker item for the responses.

    The left axis names the subjects (every n-th when they do not all fit; zoom in for all),
    and hovering a lane end or a marker names the patient.  Returns ``(lanes, markers)``.
    """
    plot.clear()
    patients = swimmer_order(summary)
    n = len(patients)
    responses = [p.best_overall_response for p in patients]
    lanes = pg.BarGraphItem(
        x0=[0.0] * n,
        y=list(range(n)),
        width=[float(max(p.last_day, 1)) for p in patients],
        height=0.55 if n <= OUTLINE_LIMIT else 0.8,
        brushes=_brushes(responses, alpha=170),
        # (an empty list of pens trips pyqtgraph 0.14: None for an empty cohort)
        pens=[pg.mkPen(b.color()) for b in _brushes(responses)] or None
        if n <= OUTLINE_LIMIT
        else None,
        pen=None,
    )
    plot.addItem(lanes)
    mx: list[float] = []
    my: list[float] = []
    symbols: list[str] = []
    tips: list[str] = []
    for i, p in enumerate(patients):
        for day, response in p.responses:
            if response in SYMBOLS:
                mx.append(float(day))
                my.append(float(i))
                symbols.append(SYMBOLS[response])
                tips.append(f"{p.subject_id}: {response} on day {day}")
    markers = pg.ScatterPlotItem(
        x=mx,
        y=my,
        data=tips,
        symbol=symbols,
        size=13 if n <= OUTLINE_LIMIT else 7,
        brush=pg.mkBrush("#e8ecf0"),
        pen=pg.mkPen(BACKGROUND, width=1),
        hoverable=True,
        tip=lambda x, y, data: data,  # noqa: ARG005 - pyqtgraph passes x and y too
    )
    markers.setZValue(2)
    plot.addItem(markers)
    plot.addItem(
        _hover_points(
            [float(max(p.last_day, 1)) for p in patients],
            [float(i) for i in range(n)],
            [
                f"{p.subject_id}: {p.last_day} days on study, BOR {p.best_overall_response or 'NE'}"
                for p in patients
            ],
        )
    )
    axis = plot.getAxis("left")
    if isinstance(axis, SubjectAxis):
        axis.set_names([p.subject_id for p in patients])
    else:
        axis.setTicks([[(i, p.subject_id) for i, p in enumerate(patients)]])
    legend = _legend(plot, set(responses), offset=(-10, -10))
    shown = {r for p in patients for _, r in p.responses}
    for text, symbol, codes in MARKER_LEGEND:
        if shown & codes:
            marker = pg.ScatterPlotItem(
                [], [], symbol=symbol, size=11, brush=pg.mkBrush("#e8ecf0"), pen=None
            )
            legend.addItem(marker, text)
    last = max([p.last_day for p in patients] or [1])
    plot.setXRange(0, last * 1.3 + 1, padding=0)  # room on the right for the legend
    plot.setYRange(-0.8, max(n, 1) - 0.2, padding=0)
    return lanes, markers
