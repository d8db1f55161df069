"""The cohort view's Kaplan–Meier plot of PFS and OS, on the dark theme.

:func:`draw_km` clears a ``pg.PlotWidget`` and draws each curve of an endpoint
summary (duck-typed: ``app.cohort.km.KmCurve`` with ``steps`` of ``time``,
``survival``, ``lower``, ``upper``; ``median``; ``censor_times()``): the step
curve, its 95 % CI band, a tick at every censoring and a dashed guide to the
median.  The files written on export come from ``app.reports.km`` (white
background); this is the screen's.  The number at risk is a table beside it
(:class:`viewer.cohort.window.CohortWidget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from viewer.cohort.plots import _legend_box

KM_COLOURS = {"PFS": "#5fb3d9", "OS": "#f0883e"}
TITLES = {"PFS": "Progression-free survival", "OS": "Overall survival"}


def months_text(value: float | None) -> str:
    """Months to one decimal, ``NR`` (not reached) for None."""
    return "NR" if value is None else f"{value:.1f}"


def median_text(curve: Any) -> str:
    """``"median 9.3 months (95 % CI 6.1 to NR)"``, or ``"median not reached (...)"``."""
    median = "not reached" if curve.median is None else f"{curve.median:.1f} months"
    return (
        f"median {median} (95 % CI "
        f"{months_text(curve.median_lower)} to {months_text(curve.median_upper)})"
    )


def step_xy(curve: Any, values: list[float]) -> tuple[list[float], list[float]]:
    """Vertices of the step function from (0, 1) through every time of *curve*."""
    xs, ys, last = [0.0], [1.0], 1.0
    for step, value in zip(curve.steps, values, strict=True):
        xs += [step.time, step.time]
        ys += [last, value]
        last = value
    return xs, ys


def draw_km(
    plot: pg.PlotWidget, curves: Mapping[str, Any], last_month: float = 18
) -> dict[str, Any]:
    """Draw every curve of *curves* (``{"PFS": KmCurve, "OS": KmCurve}``); returns their lines.

    Returns
    -------
    dict of str to dict
        Per curve: ``line``, ``band``, ``censored`` (the tick scatter) and ``median``
        (the guide, or None when the median is not reached).
    """
    plot.clear()
    legend = _legend_box(plot, offset=(10, -10))  # bottom left: the curves start at the top
    drawn: dict[str, Any] = {}
    for param, curve in curves.items():
        colour = pg.mkColor(KM_COLOURS.get(param, "#aeb6c0"))
        faint = pg.mkColor(colour)
        faint.setAlpha(60)
        xs, ys = step_xy(curve, [float(s.survival) for s in curve.steps])
        _, lows = step_xy(curve, [s.lower for s in curve.steps])
        _, highs = step_xy(curve, [s.upper for s in curve.steps])
        low = pg.PlotDataItem(xs, lows, pen=pg.mkPen(faint, width=1))
        high = pg.PlotDataItem(xs, highs, pen=pg.mkPen(faint, width=1))
        band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(faint))
        line = pg.PlotDataItem(xs, ys, pen=pg.mkPen(colour, width=2.5))
        ticks = curve.censor_times()
        censored = pg.ScatterPlotItem(
            [t for t, _ in ticks],
            [v for _, v in ticks],
            symbol="+",
            size=12,
            pen=pg.mkPen(colour, width=1.5),
            brush=None,
        )
        for item in (low, high, band, line, censored):
            plot.addItem(item)
        guide = None
        if curve.median is not None:
            guide = pg.PlotDataItem(
                [0, curve.median, curve.median],
                [0.5, 0.5, 0],
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
            )
            plot.addItem(guide)
        legend.addItem(line, f"{param}: {median_text(curve)}, {curve.events} events / {curve.n}")
        drawn[param] = {"line": line, "band": band, "censored": censored, "median": guide}
    if curves:
        tick = pg.ScatterPlotItem([], [], symbol="+", size=12, pen=pg.mkPen("#e8ecf0"), brush=None)
        legend.addItem(tick, "censored")
    plot.getAxis("bottom").setTicks([[(m, str(m)) for m in range(0, int(last_month) + 1, 3)]])
    plot.getAxis("left").setTicks([[(v / 10, f"{v * 10}") for v in range(0, 11, 2)]])
    plot.setXRange(-0.3, last_month + 0.5, padding=0)
    plot.setYRange(0, 1.05, padding=0)
    return drawn
