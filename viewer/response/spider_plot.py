"""Spider plot: the sum of target diameters over time, as % change from baseline.

Dashed reference lines mark the RECIST 1.1 thresholds the reader compares
against by eye (+20 % progression, −30 % partial response); each point is
coloured by the timepoint's overall response.  The thresholds are drawn, not
applied: the response itself comes from the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from viewer.style import ACCENT, response_colour

#: Percentages drawn as dashed guide lines, with their labels.
GUIDES: tuple[tuple[float, str], ...] = ((20.0, "+20 %"), (-30.0, "−30 %"))


class SpiderPlotWidget(QWidget):
    """Plot of % change of the sum from baseline per timepoint.

    Parameters
    ----------
    parent : QWidget, optional
        Parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="#171a1e")
        self.plot.setObjectName("spiderPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.plot.setLabel("left", "sum, % from baseline")
        self.plot.setTitle("Sum of diameters", color="#aeb6c0", size="9pt")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen("#aeb6c0")
            self.plot.getAxis(axis).setPen("#4a5260")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.points: list[tuple[str, float]] = []
        self.set_points([], [], [])

    def set_points(
        self, labels: Sequence[str], percentages: Sequence[float | None], responses: Sequence[Any]
    ) -> None:
        """Draw one point per timepoint.

        Parameters
        ----------
        labels : sequence of str
            Timepoint labels (x axis ticks), in order.
        percentages : sequence of float or None
            % change of the sum from baseline; None leaves a gap (incomplete timepoint).
        responses : sequence
            Overall response per timepoint (colours the point).
        """
        plot = self.plot
        plot.clear()
        for value, text in GUIDES:
            line = pg.InfiniteLine(
                pos=value,
                angle=0,
                pen=pg.mkPen("#6b7280", width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                label=text,
                labelOpts={"position": 0.02, "color": "#8b949e", "anchors": [(0, 1), (0, 1)]},
            )
            plot.addItem(line)
        plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#4a5260", width=1)))
        self.points = [
            (lb, float(p)) for lb, p in zip(labels, percentages, strict=False) if p is not None
        ]
        xs = [i for i, p in enumerate(percentages) if p is not None]
        ys = [float(p) for p in percentages if p is not None]
        if xs:
            plot.plot(xs, ys, pen=pg.mkPen(ACCENT, width=2))
            brushes = [pg.mkBrush(response_colour(responses[i])) for i in xs]
            plot.addItem(
                pg.ScatterPlotItem(xs, ys, size=11, brush=brushes, pen=pg.mkPen("#171a1e"))
            )
        axis = plot.getAxis("bottom")
        axis.setTicks([list(enumerate(labels))])
        low = min([*ys, -40.0]) - 10
        high = max([*ys, 30.0]) + 10
        plot.setYRange(low, high, padding=0)
        plot.setXRange(-0.3, max(len(labels) - 1, 1) + 0.3, padding=0)
