"""What a mouse drag does on the image, per tool.

Right and middle drags always adjust window/level (as in Slicer, OHIF and
syngo); the left button follows the active tool.  Drawing tools create a
provisional caliper while dragging and hand its end points to the widget on
release.  End points are clamped to the image.

A bidirectional caliper's short axis is proposed through the middle of the
long axis, half as long, except when the reader must place it: for a lymph
node the short axis is the length RECIST counts, so it starts unset.  The
first drag then draws the long axis only, and a second drag draws the short
axis (kept perpendicular); only then is the caliper emitted.  Escape cancels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PySide6 import QtCore

from viewer.image.calipers import BidirectionalCaliperRoi, CaliperRoi, Point2, image_bounds

if TYPE_CHECKING:  # pyqtgraph has no type information: Any for mypy
    from pyqtgraph.GraphicsScene.mouseEvents import MouseDragEvent

TOOLS: tuple[str, ...] = (
    "pointer",
    "line",
    "bidirectional",
    "pan",
    "zoom",
    "window",
    "smart",
    "brush",  # the contour brush: viewer.image.brush takes the mouse (issue 16)
)
_DRAW_TOOLS = ("line", "bidirectional")
_Left = QtCore.Qt.MouseButton.LeftButton
_WINDOW_BUTTONS = (QtCore.Qt.MouseButton.RightButton, QtCore.Qt.MouseButton.MiddleButton)
_MIN_LENGTH_PX = 1.0
#: Caption of a node's long axis while the reader still has to drag its short axis.
PLACE_SHORT_AXIS = "LA · now drag the short axis"


def perpendicular_short_axis(
    start: tuple[float, float], end: tuple[float, float], pixel_mm: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """A short axis through the midpoint of ``start-end``, perpendicular in mm, half as long.

    Parameters
    ----------
    start, end : tuple of float
        Long axis end points, display pixels.
    pixel_mm : tuple of float
        Millimetres per display pixel ``(x, y)``.

    Returns
    -------
    tuple of two points
        Short axis end points, display pixels.
    """
    scale = np.asarray(pixel_mm, dtype=float)
    a, b = np.asarray(start) * scale, np.asarray(end) * scale
    d = b - a
    length = float(np.hypot(*d))
    if length == 0:
        return start, end
    n = np.array([-d[1], d[0]]) / length
    mid = (a + b) / 2
    half = length / 4
    p, q = (mid + half * n) / scale, (mid - half * n) / scale
    return (float(p[0]), float(p[1])), (float(q[0]), float(q[1]))


class DragSurface(Protocol):
    """What the tool dragger needs from the image view (``SeriesViewerWidget`` is one)."""

    @property
    def volume(self) -> Any: ...
    @property
    def tool(self) -> str: ...
    @property
    def orientation(self) -> str: ...
    @property
    def window_center(self) -> float: ...
    @property
    def window_width(self) -> float: ...
    @property
    def pixel_mm(self) -> tuple[float, float]: ...
    @property
    def image_shape(self) -> tuple[int, int]: ...
    @property
    def view_box(self) -> Any: ...
    @property
    def provisional_item(self) -> CaliperRoi | BidirectionalCaliperRoi | None: ...
    def set_window(self, center: float, width: float) -> None: ...
    def display_to_lps(self, x: float, y: float) -> tuple[float, float, float]: ...
    def show_provisional(self, item: CaliperRoi | BidirectionalCaliperRoi | None) -> None: ...
    def finish_drawing(self, long_px: Any, short_px: Any = None) -> None: ...
    def request_smart(self, x: float, y: float) -> None: ...
    @property
    def allow_reformat_calipers(self) -> bool: ...
    @property
    def crosshair_enabled(self) -> bool: ...
    def refuse_drawing(self) -> None: ...
    def pick_position(self, x: float, y: float) -> None: ...


class ToolDragger:
    """Turns ViewBox drag events into window/level, zoom and drawing for *widget*."""

    def __init__(self, widget: DragSurface) -> None:
        self._widget = widget
        self._window_start: tuple[float, float] = (0.0, 1.0)
        self._drawing: CaliperRoi | None = None
        self._draw_start: tuple[float, float] = (0.0, 0.0)
        self._long_axis: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._waiting: CaliperRoi | None = None
        self._short_drag = False
        self.reader_places_short_axis: Callable[[], bool] = lambda: False
        """Whether the next bidirectional caliper waits for a short axis drawn by the reader."""

    def handle(self, ev: MouseDragEvent) -> bool:
        """Handle one drag event; False lets the ViewBox pan."""
        widget = self._widget
        if widget.volume is None:
            return False
        tool = widget.tool
        if ev.button() in _WINDOW_BUTTONS or (ev.button() == _Left and tool == "window"):
            self._drag_window(ev)
            return True
        if ev.button() != _Left:
            return False
        if tool in _DRAW_TOOLS:
            if widget.orientation == "axial" or widget.allow_reformat_calipers:
                self._drag_draw(ev)
            elif ev.isStart():  # RECIST measures on axial images: say so, draw nothing
                widget.refuse_drawing()
            return True
        if tool == "pointer" and widget.crosshair_enabled:
            p = widget.view_box.mapSceneToView(ev.scenePos())
            widget.pick_position(float(p.x()), float(p.y()))
            return True
        if tool == "zoom":
            self._drag_zoom(ev)
            return True
        if tool == "smart" and widget.orientation == "axial":
            if ev.isFinish():  # a drag across the lesion: its middle is the seed
                a, b = self._clipped(ev.buttonDownScenePos()), self._clipped(ev.scenePos())
                widget.request_smart((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)
            return True
        return False

    def cancel(self) -> None:
        """Abandon the caliper being drawn: the rest of the drag draws and emits nothing."""
        self._drawing = None
        self._long_axis = self._waiting = None
        self._short_drag = False

    @property
    def waiting_for_short_axis(self) -> bool:
        """True between a node's long axis and its short axis."""
        return self._long_axis is not None and self._widget.provisional_item is self._waiting

    def _drag_window(self, ev: MouseDragEvent) -> None:
        widget = self._widget
        if ev.isStart():
            self._window_start = (widget.window_center, widget.window_width)
        center0, width0 = self._window_start
        delta = ev.pos() - ev.buttonDownPos()
        sensitivity = max(width0, 50.0) / 200.0
        widget.set_window(
            center0 + delta.y() * sensitivity, max(1.0, width0 + delta.x() * sensitivity)
        )

    def _drag_zoom(self, ev: MouseDragEvent) -> None:
        vb = self._widget.view_box
        step = ev.pos() - ev.lastPos()
        factor = 1.01 ** step.y()  # drag up (negative y) enlarges, as in syngo
        centre = vb.mapSceneToView(ev.buttonDownScenePos())
        vb.scaleBy((factor, factor), center=centre)
        vb.sigRangeChangedManually.emit([True, True])

    def _clipped(self, scene_pos: QtCore.QPointF) -> tuple[float, float]:
        p = self._widget.view_box.mapSceneToView(scene_pos)
        rows, cols = self._widget.image_shape
        return (
            float(min(max(p.x(), -0.5), cols - 0.5)),
            float(min(max(p.y(), -0.5), rows - 0.5)),
        )

    def _drag_draw(self, ev: MouseDragEvent) -> None:
        widget = self._widget
        end = self._clipped(ev.scenePos())
        if (self.waiting_for_short_axis or self._short_drag) and widget.tool == "bidirectional":
            self._drag_short_axis(ev, end)
            return
        self._long_axis = self._waiting = None
        if ev.isStart():
            self._draw_start = self._clipped(ev.buttonDownScenePos())
            self._drawing = CaliperRoi(
                self._draw_start, end, to_lps=widget.display_to_lps, selected=True, movable=False
            )
            widget.show_provisional(self._drawing)
        elif self._drawing is not None:
            self._drawing.set_end_points(self._draw_start, end)
        if not ev.isFinish() or self._drawing is None:
            return
        start, self._drawing = self._draw_start, None
        if math.dist(start, end) < _MIN_LENGTH_PX:
            widget.show_provisional(None)
            return
        if widget.tool != "bidirectional":
            widget.finish_drawing((start, end), None)
            return
        if self.reader_places_short_axis():
            self._long_axis = (start, end)
            self._waiting = CaliperRoi(
                start,
                end,
                to_lps=widget.display_to_lps,
                caption=PLACE_SHORT_AXIS,
                selected=True,
                movable=False,
            )
            widget.show_provisional(self._waiting)
            return
        short = perpendicular_short_axis(start, end, widget.pixel_mm)
        self._finish_bidirectional((start, end), short)

    def _drag_short_axis(self, ev: MouseDragEvent, end: tuple[float, float]) -> None:
        """The second drag of a node's caliper: its short axis, perpendicular to the long axis."""
        if ev.isStart():
            self._draw_start = self._clipped(ev.buttonDownScenePos())
            self._short_drag = True
        start, long_axis = self._draw_start, self._long_axis
        if long_axis is None:
            return
        long_enough = math.dist(start, end) >= _MIN_LENGTH_PX
        if not ev.isFinish():
            if long_enough:
                self._widget.show_provisional(self._bidirectional(long_axis, (start, end)))
            return
        self._short_drag = False
        if not long_enough:  # a click: still waiting for the short axis
            self._widget.show_provisional(self._waiting)
            return
        self._long_axis = self._waiting = None
        self._finish_bidirectional(long_axis, (start, end))

    def _bidirectional(
        self, long_axis: tuple[Point2, Point2], short_axis: tuple[Point2, Point2]
    ) -> BidirectionalCaliperRoi:
        widget = self._widget
        return BidirectionalCaliperRoi(
            long_axis,
            short_axis,
            to_lps=widget.display_to_lps,
            pixel_mm=widget.pixel_mm,
            selected=True,
            movable=False,
            bounds=image_bounds(widget.image_shape),
        )

    def _finish_bidirectional(
        self, long_axis: tuple[Point2, Point2], short_axis: tuple[Point2, Point2]
    ) -> None:
        widget = self._widget
        roi = self._bidirectional(long_axis, short_axis)
        widget.show_provisional(roi)
        widget.finish_drawing(*roi.axes_points())  # perpendicular and on the image
