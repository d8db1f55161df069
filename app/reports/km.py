"""Kaplan–Meier plots of PFS and OS (pyqtgraph): step curve, 95 % CI band, censoring ticks,
median line and the number-at-risk table under the axis; exported as PNG or SVG.

:func:`draw_km` draws into any ``pg.PlotItem`` (the cohort window uses it too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.cohort.endpoints import AT_RISK_MONTHS, EndpointSummary
from app.cohort.km import KmCurve
from app.reports.plots import _plot, export_plot

KM_COLOURS = {"PFS": (30, 90, 180), "OS": (200, 80, 20)}
_TITLES = {"PFS": "Progression-free survival", "OS": "Overall survival"}
_AT_RISK_Y = -0.12


def _step_xy(curve: KmCurve, values: list[float]) -> tuple[list[float], list[float]]:
    """Step-function vertices from 0 through every time of *curve* with *values* after it."""
    xs, ys, last = [0.0], [1.0], 1.0
    for step, value in zip(curve.steps, values, strict=True):
        xs += [step.time, step.time]
        ys += [last, value]
        last = value
    return xs, ys


def median_text(curve: KmCurve) -> str:
    """``"median 12.5 months (95 % CI 10.4 to NR)"``."""

    def show(v: float | None) -> str:
        return "NR" if v is None else f"{v:.1f}"

    return (
        f"median {show(curve.median)} months "
        f"(95 % CI {show(curve.median_lower)} to {show(curve.median_upper)})"
    )


def draw_km(item: pg.PlotItem, curve: KmCurve, param: str, *, at_risk_row: int = 0) -> list[Any]:
    """Draw one curve with its CI band, censor ticks, median and a row of numbers at risk.

    Returns the items added (for tests and for removing them again).
    """
    colour = KM_COLOURS.get(param, (60, 60, 60))
    added: list[Any] = []
    xs, ys = _step_xy(curve, [float(s.survival) for s in curve.steps])
    _, lows = _step_xy(curve, [s.lower for s in curve.steps])
    _, highs = _step_xy(curve, [s.upper for s in curve.steps])
    low_item = pg.PlotDataItem(xs, lows, pen=pg.mkPen((*colour, 90), width=1))
    high_item = pg.PlotDataItem(xs, highs, pen=pg.mkPen((*colour, 90), width=1))
    band = pg.FillBetweenItem(low_item, high_item, brush=pg.mkBrush(*colour, 40))
    line = pg.PlotDataItem(
        xs,
        ys,
        pen=pg.mkPen(colour, width=2.5),
        name=f"{param}: {median_text(curve)} — {curve.events} events / {curve.n}",
    )
    ticks = curve.censor_times()
    censor = pg.ScatterPlotItem(
        [t for t, _ in ticks],
        [s for _, s in ticks],
        symbol="+",
        size=11,
        pen=pg.mkPen(colour, width=1.5),
        brush=None,
    )
    for graphic in (low_item, high_item, band, line, censor):
        item.addItem(graphic)
        added.append(graphic)
    if curve.median is not None:
        guide = pg.PlotDataItem(
            [0, curve.median, curve.median],
            [0.5, 0.5, 0],
            pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
        )
        item.addItem(guide)
        added.append(guide)
    y = _AT_RISK_Y - 0.07 * at_risk_row
    label = pg.TextItem(param, color=colour, anchor=(1.0, 0.5))
    label.setPos(-0.45, y)
    item.addItem(label)
    added.append(label)
    for months in AT_RISK_MONTHS:
        text = pg.TextItem(str(curve.at_risk(months)), color=colour, anchor=(0.5, 0.5))
        text.setPos(months, y)
        item.addItem(text)
        added.append(text)
    return added


def prepare_axes(item: pg.PlotItem, rows: int) -> None:
    """Axis ranges, ticks and the "number at risk" caption for *rows* curves."""
    bottom = _AT_RISK_Y - 0.07 * rows - 0.02
    item.setXRange(-1.6, max(AT_RISK_MONTHS) + 0.5, padding=0)
    item.setYRange(bottom, 1.05, padding=0)
    item.getAxis("left").setTicks([[(v / 10, f"{v * 10}") for v in range(0, 11, 2)]])
    item.getAxis("bottom").setTicks([[(m, str(m)) for m in AT_RISK_MONTHS]])
    caption = pg.TextItem("number at risk", color=(60, 60, 60), anchor=(0, 0.5))
    caption.setPos(0, _AT_RISK_Y + 0.05)
    item.addItem(caption)
    item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((150, 150, 150))))


def km_plot(summary: EndpointSummary, params: tuple[str, ...] = ("PFS", "OS")) -> pg.PlotWidget:
    """One figure with the curves of *params* (those with data)."""
    shown = [p for p in params if p in summary.km]
    title = " and ".join(_TITLES[p] for p in shown) or "No survival data"
    widget = _plot(title, "months since first dose", "survival probability (%)")
    item = widget.getPlotItem()
    item.addLegend(offset=(-10, 10), labelTextColor="k", brush=(255, 255, 255, 220))
    for row, param in enumerate(shown):
        draw_km(item, summary.km[param], param, at_risk_row=row)
    prepare_axes(item, len(shown))
    return widget


def write_km_plots(summary: EndpointSummary, out: Path, fmt: str = "png") -> list[Path]:
    """Write ``km_pfs``, ``km_os`` and ``km_pfs_os`` plots into *out*."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, params in (("km_pfs", ("PFS",)), ("km_os", ("OS",)), ("km_pfs_os", ("PFS", "OS"))):
        if any(p in summary.km for p in params):
            written.append(export_plot(km_plot(summary, params), out / f"{name}.{fmt}"))
    return written
