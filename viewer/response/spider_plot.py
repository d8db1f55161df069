"""Spider plot: the sum of target diameters over time, as % change from baseline.

Dashed reference lines mark the RECIST 1.1 thresholds the reader compares
against by eye (+20 % progression, −30 % partial response); each point is
coloured by the timepoint's overall response.  The thresholds are drawn, not
applied: the response itself comes from the engine.

The plot (a pyqtgraph ``PlotWidget``: tens of milliseconds) is built after the
panel's first paint, so the main window shows without waiting for it; reading
:attr:`SpiderPlotWidget.plot` builds it at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from viewer.style import ACCENT, response_colour

#: The size hints of the pyqtgraph PlotWidget, which the empty panel takes until it is built.
_PLOT_SIZE_HINT, _PLOT_MINIMUM_SIZE_HINT = QSize(600, 480), QSize(68, 68)
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
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._plot: pg.PlotWidget | None = None
        self._shown: tuple[list[str], list[float | None], list[Any]] = ([], [], [])
        self.points: list[tuple[str, float]] = []

    @property
    def plot(self) -> pg.PlotWidget:
        """The pyqtgraph plot (built now if the panel has not been painted yet)."""
        return self._plot if self._plot is not None else self._build()

    def sizeHint(self) -> QSize:  # noqa: D102, N802  (Qt's name)
        return super().sizeHint() if self._plot is not None else QSize(_PLOT_SIZE_HINT)

    def minimumSizeHint(self) -> QSize:  # noqa: D102, N802  (Qt's name)
        if self._plot is not None:
            return super().minimumSizeHint()
        return QSize(_PLOT_MINIMUM_SIZE_HINT)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802  (Qt's name)
        """The first paint (an empty frame) schedules building the plot, after this paint."""
        super().paintEvent(event)
        if self._plot is None:
            QTimer.singleShot(0, self, self._build)

    def _build(self) -> pg.PlotWidget:
        if self._plot is not None:
            return self._plot
        plot = self._plot = pg.PlotWidget(background="#171a1e")
        plot.setObjectName("spiderPlot")
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=False, y=True, alpha=0.15)
        plot.setLabel("left", "sum, % from baseline")
        plot.setTitle("Sum of diameters", color="#aeb6c0", size="9pt")
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#aeb6c0")
            plot.getAxis(axis).setPen("#4a5260")
        self._layout.addWidget(plot)
        if self.isVisible():
            plot.show()  # now, not when the layout would (one event loop later)
        self.updateGeometry()
        self._draw(*self._shown)
        return plot

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
        self._shown = (list(labels), list(percentages), list(responses))
        self.points = [
            (lb, float(p)) for lb, p in zip(labels, percentages, strict=False) if p is not None
        ]
        if self._plot is not None:
            self._draw(*self._shown)

    def _draw(
        self, labels: Sequence[str], percentages: Sequence[float | None], responses: Sequence[Any]
    ) -> None:
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
