"""Calipers on the image: a line (``CaliperRoi``) and a bidirectional pair.

Both live in display pixel coordinates (voxel centres at integers) and show
their length in millimetres, computed from the real geometry through a
``to_lps(x, y)`` function the view supplies (pixel spacing and direction
cosines; anisotropic pixels are handled).  The bidirectional caliper keeps its
short axis perpendicular to the long axis *in millimetres* while either is
edited.

Both stay on the image: every end point is clamped to the image bounds
(``bounds``, see :func:`image_bounds`) while it is drawn, while a handle is
dragged and while the whole caliper is moved (issue 11, point 2).

A caliper can be *locked* (:meth:`CaliperRoi.set_locked`): its handles and its line then
take no drag, which goes to the image's tool instead (the Smart caliper measures where a
drag across a lesion starts on another lesion's caliper, instead of moving that caliper).

A caption whose last word is ``SA`` (e.g. ``"T2 SA"``, see
:func:`caption_for`) marks a lymph node: RECIST counts its short axis, so the
caption goes with the short-axis length (``"T2 SA 12.0 mm"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ROI import Handle
from PySide6 import QtCore, QtGui

from viewer.image.labels import bidirectional_label_anchors
from viewer.image.volume import VolumeLike

Point2 = tuple[float, float]
ToLps = Callable[[float, float], tuple[float, float, float]]
Bounds = tuple[float, float, float, float]
"""``(x_min, y_min, x_max, y_max)`` in display pixels."""

#: The last word of a caption that puts it on the short axis (a node's counted length).
SHORT_AXIS_MARK = "SA"


def image_bounds(shape: tuple[int, int]) -> Bounds:
    """The display-pixel bounds of an image of ``(rows, columns)`` (voxel centres at integers)."""
    rows, cols = shape
    return (-0.5, -0.5, cols - 0.5, rows - 0.5)


def clamp_point(point: Point2, bounds: Bounds | None) -> Point2:
    """*point* moved onto the image when it lies outside *bounds* (None: unchanged)."""
    if bounds is None:
        return (float(point[0]), float(point[1]))
    x0, y0, x1, y1 = bounds
    return (float(min(max(point[0], x0), x1)), float(min(max(point[1], y0), y1)))


def caption_for(code: str, nodal: bool) -> str:
    """The caption of a lesion's caliper: its code, and ``SA`` for a node (short axis counts)."""
    return f"{code} {SHORT_AXIS_MARK}" if nodal else code


def field_of_view_mm(volume: VolumeLike | None) -> float | None:
    """The larger side of *volume*'s axial image in millimetres (None when unknown)."""
    if volume is None:
        return None
    try:
        rows, cols = volume.voxels.shape[1:3]
        return float(max(rows * volume.spacing_mm[1], cols * volume.spacing_mm[2]))
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


#: Caliper colours: yellow at rest, green when selected or being drawn.
CALIPER_COLOR = (255, 215, 0)
SELECTED_COLOR = (60, 255, 90)
_HANDLE_COLOR = (255, 255, 255)


def _pens(selected: bool) -> tuple[QtGui.QPen, QtGui.QPen]:
    color = SELECTED_COLOR if selected else CALIPER_COLOR
    pen = pg.mkPen(color, width=2)
    hover = pg.mkPen(SELECTED_COLOR, width=3)
    return pen, hover


def _label_item() -> pg.TextItem:
    item = pg.TextItem(color=CALIPER_COLOR, anchor=(0, 1), fill=pg.mkBrush(0, 0, 0, 170))
    font = QtGui.QFont()
    font.setPointSize(10)
    font.setBold(True)
    item.setFont(font)
    return item


def _text_size(label: pg.TextItem) -> tuple[float, float]:
    r = label.textItem.boundingRect()
    return float(r.width()), float(r.height())


def segment_length_mm(to_lps: ToLps, start: Point2, end: Point2) -> float:
    """Length in millimetres between two display points."""
    return math.dist(to_lps(*start), to_lps(*end))


class CaliperHandle(Handle):
    """A caliper's end point; while ``locked`` it takes no drag and does not light up.

    A drag that starts on a locked handle goes on to the items beneath it (the caliper's
    line, then the image's tool).  pyqtgraph's handle takes every left drag, and its hover
    already claims the next drag, so both are refused here.
    """

    locked = False

    def hoverEvent(self, ev: Any) -> None:  # noqa: N802 - pyqtgraph override
        """Light up and claim the next drag, unless locked."""
        if self.locked and not self.isMoving:
            self.currentPen = self.pen
            self.update()
            return
        super().hoverEvent(ev)

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802 - pyqtgraph override
        """Move the end point, unless locked (then the drag goes on to what lies beneath)."""
        if self.locked and not self.isMoving:
            ev.ignore()
            return
        super().mouseDragEvent(ev)


class _Highlightable:
    """Caption and selection shared by both calipers (mixed in before the pyqtgraph ROI)."""

    _caption: str
    _selected: bool
    _locked: bool = False
    _movable_unlocked: bool | None = None

    if TYPE_CHECKING:  # pyqtgraph's ROI, which follows this mixin in the MRO
        handles: list[dict[str, Any]]

        def setPen(self, pen: QtGui.QPen) -> None: ...  # noqa: N802  (pyqtgraph's ROI)

        def mapToParent(self, point: QtCore.QPointF) -> QtCore.QPointF: ...  # noqa: N802

        translatable: bool
        handleSize: float  # noqa: N815  (pyqtgraph's ROI)
        handlePen: QtGui.QPen  # noqa: N815
        handleHoverPen: QtGui.QPen  # noqa: N815
        _antialias: bool

        @property
        def labels(self) -> tuple[pg.TextItem, ...]: ...  # each caliper's own length labels

    @property
    def caption(self) -> str:
        """Text before the length (e.g. ``"T1"``)."""
        return self._caption

    @property
    def selected(self) -> bool:
        """Whether the caliper is highlighted."""
        return self._selected

    @property
    def locked(self) -> bool:
        """Whether the reader's drags leave the caliper alone (see :meth:`set_locked`)."""
        return self._locked

    def set_locked(self, locked: bool) -> None:
        """Lock (no handle or line takes a drag; clicks still select it) or unlock it."""
        if self._movable_unlocked is None:
            self._movable_unlocked = bool(self.translatable)
        self._locked = locked
        self.translatable = self._movable_unlocked and not locked
        for info in self.handles:
            if isinstance(info["item"], CaliperHandle):
                info["item"].locked = locked

    def addHandle(self, info: dict[str, Any], index: int | None = None) -> Any:  # noqa: N802
        """pyqtgraph's addHandle with a :class:`CaliperHandle` (lockable) as the item."""
        if info.get("item") is None:
            info["item"] = CaliperHandle(
                self.handleSize,
                typ=info["type"],
                pen=self.handlePen,
                hoverPen=self.handleHoverPen,
                parent=self,
                antialias=self._antialias,
            )
            info["item"].locked = self._locked
        return super().addHandle(info, index)  # type: ignore[misc]  # pyqtgraph's ROI follows in the MRO

    @property
    def counts_short_axis(self) -> bool:
        """True for a node's caliper (caption ending in ``SA``)."""
        return self._caption.split()[-1:] == [SHORT_AXIS_MARK]

    def _parent_points(self) -> list[Point2]:
        """Every handle in display (parent) coordinates."""
        pts = [self.mapToParent(h["item"].pos()) for h in self.handles]
        return [(p.x(), p.y()) for p in pts]

    def translate(self, *args: Any, **kwargs: Any) -> None:
        """Move the whole caliper, never beyond the image bounds (pyqtgraph override)."""
        bounds = getattr(self, "_bounds", None)
        delta = pg.Point(args[0]) if len(args) == 1 else pg.Point(args[0], args[1])
        if bounds is not None:
            xs, ys = zip(*self._parent_points(), strict=True)
            x0, y0, x1, y1 = bounds
            delta = pg.Point(
                min(max(delta.x(), x0 - min(xs)), x1 - max(xs)),
                min(max(delta.y(), y0 - min(ys)), y1 - max(ys)),
            )
        kwargs.setdefault("snap", False)
        super().translate(delta, **kwargs)  # type: ignore[misc]  # pyqtgraph's ROI follows in the MRO

    def set_selected(self, selected: bool) -> None:
        """Highlight (green) or not (yellow)."""
        self._selected = selected
        pen, _ = _pens(selected)
        self.setPen(pen)
        for label in self.labels:
            label.setColor(SELECTED_COLOR if selected else CALIPER_COLOR)


class CaliperRoi(_Highlightable, pg.LineSegmentROI):
    """A caliper line with two free handles and a length label in millimetres.

    Parameters
    ----------
    start, end : tuple of float
        End points in display pixels ``(x, y)``.
    to_lps : callable
        ``to_lps(x, y) -> (x_mm, y_mm, z_mm)``, display pixel to patient LPS.
    caption : str
        Text before the length, e.g. ``"T1"``.
    selected : bool
        Draw highlighted.
    movable : bool
        Whether the reader may drag it.
    bounds : tuple of float, optional
        The image bounds (:func:`image_bounds`); end points never leave them.
    """

    def __init__(
        self,
        start: Point2,
        end: Point2,
        *,
        to_lps: ToLps,
        caption: str = "",
        selected: bool = False,
        movable: bool = True,
        bounds: Bounds | None = None,
    ) -> None:
        pen, hover = _pens(selected)
        self._bounds = bounds
        start, end = clamp_point(start, bounds), clamp_point(end, bounds)
        super().__init__(
            positions=(start, end),
            pen=pen,
            hoverPen=hover,
            handlePen=pg.mkPen(_HANDLE_COLOR),
            handleHoverPen=pg.mkPen(SELECTED_COLOR),
            movable=movable,
        )
        self._to_lps = to_lps
        self._caption = caption
        self._selected = selected
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.LeftButton)
        self._label = _label_item()
        self._label.setParentItem(self)
        self.sigRegionChanged.connect(self._on_region_changed)
        self._on_region_changed()

    # pyqtgraph wants these names; the rest of the class uses ours
    def end_points(self) -> tuple[Point2, Point2]:
        """The two end points in display (parent) coordinates."""
        pts = [self.mapToParent(h.pos()) for h in self.getHandles()]
        return (pts[0].x(), pts[0].y()), (pts[1].x(), pts[1].y())

    def set_end_points(self, start: Point2, end: Point2, *, finish: bool = False) -> None:
        """Move both handles (display coordinates); emits the region signals."""
        h0, h1 = self.getHandles()
        self.movePoint(h0, QtCore.QPointF(*start), finish=False)
        self.movePoint(h1, QtCore.QPointF(*end), finish=finish)

    def movePoint(  # noqa: N802
        self,
        handle: Handle,
        pos: QtCore.QPointF,
        modifiers: QtCore.Qt.KeyboardModifier | None = None,
        finish: bool = True,
        coords: str = "parent",
    ) -> None:
        """Move one end point, clamped to the image bounds (pyqtgraph override)."""
        p = pg.Point(pos)
        if coords == "scene":
            p = self.mapSceneToParent(p)
        x, y = clamp_point((p.x(), p.y()), self._bounds)
        super().movePoint(handle, QtCore.QPointF(x, y), modifiers, finish, "parent")

    @property
    def length_mm(self) -> float:
        """Current length in millimetres."""
        return segment_length_mm(self._to_lps, *self.end_points())

    @property
    def label_text(self) -> str:
        """The text shown beside the caliper (a node's single line is its short axis)."""
        length = f"{self.length_mm:.1f} mm"
        return f"{self._caption} {length}" if self._caption else length

    @property
    def labels(self) -> tuple[pg.TextItem]:
        """The length label."""
        return (self._label,)

    def _on_region_changed(self, *_: object) -> None:
        (x0, y0), (x1, y1) = self.end_points()
        self._label.setText(self.label_text)
        # the label sits at the right-hand end, so it never covers the lesion's centre
        anchor = QtCore.QPointF(*((x1, y1) if x1 >= x0 else (x0, y0)))
        self._label.setPos(self.mapFromParent(anchor))


class BidirectionalCaliperRoi(_Highlightable, pg.ROI):
    """Long axis plus a perpendicular short axis (four free handles).

    Handles 0-1 are the long axis, 2-3 the short axis.  Moving a long-axis
    handle carries the short axis along (same fraction along the long axis,
    same lengths either side); moving a short-axis handle slides it along the
    long axis and changes that half's length, always perpendicular in mm.

    Parameters
    ----------
    long_axis, short_axis : tuple of two points
        End points in display pixels; the short axis is made perpendicular.
    to_lps : callable
        Display pixel to patient LPS millimetres.
    pixel_mm : tuple of float
        Millimetres per display pixel ``(x, y)``, the metric for "perpendicular".
    caption : str
        Text before the long-axis length; one ending in ``SA`` (a node) goes
        before the short-axis length instead.
    selected, movable, bounds
        As for :class:`CaliperRoi`; a short-axis half that would leave the
        image is shortened (it stays perpendicular).
    """

    def __init__(
        self,
        long_axis: tuple[Point2, Point2],
        short_axis: tuple[Point2, Point2],
        *,
        to_lps: ToLps,
        pixel_mm: tuple[float, float],
        caption: str = "",
        selected: bool = False,
        movable: bool = True,
        bounds: Bounds | None = None,
    ) -> None:
        pen, hover = _pens(selected)
        self._bounds = bounds
        long_axis = (clamp_point(long_axis[0], bounds), clamp_point(long_axis[1], bounds))
        super().__init__(
            (0, 0),
            (1, 1),
            pen=pen,
            hoverPen=hover,
            handlePen=pg.mkPen(_HANDLE_COLOR),
            handleHoverPen=pg.mkPen(SELECTED_COLOR),
            movable=movable,
            rotatable=False,
            resizable=False,
        )
        self._to_lps = to_lps
        self._scale = np.array(pixel_mm, dtype=float)
        self._caption = caption
        self._selected = selected
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.LeftButton)
        for p in (*long_axis, *short_axis):
            self.addFreeHandle(p)
        self._long_label = _label_item()
        self._short_label = _label_item()
        for label in (self._long_label, self._short_label):
            label.setParentItem(self)
        # short axis as (fraction t along the long axis, mm to either side)
        self._t, self._a, self._b = self._short_params(self._points_mm())
        self._apply(self._place_short(self._points_mm()))
        self.sigRegionChanged.connect(self._on_region_changed)
        self._on_region_changed()

    # -- geometry in millimetre-scaled local coordinates -------------------------
    def _points_mm(self) -> list[np.ndarray]:
        return [np.array([h["pos"].x(), h["pos"].y()]) * self._scale for h in self.handles]

    @staticmethod
    def _frame(points: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        d = points[1] - points[0]
        length = float(np.hypot(*d))
        u = d / length if length > 1e-9 else np.array([1.0, 0.0])
        return points[0], u, np.array([-u[1], u[0]]), length

    def _short_params(self, points: list[np.ndarray]) -> tuple[float, float, float]:
        origin, u, n, length = self._frame(points)
        mid = (points[2] + points[3]) / 2
        t = float(np.clip(np.dot(mid - origin, u) / length, 0.0, 1.0)) if length > 1e-9 else 0.5
        return t, float(np.dot(points[2] - origin, n)), float(-np.dot(points[3] - origin, n))

    def _place_short(self, points: list[np.ndarray]) -> list[np.ndarray]:
        origin, u, n, length = self._frame(points)
        centre = origin + self._t * length * u
        self._a = self._fit_half(centre, n, self._a)
        self._b = self._fit_half(centre, -n, self._b)
        return [points[0], points[1], centre + self._a * n, centre - self._b * n]

    def _fit_half(self, centre: np.ndarray, direction: np.ndarray, half: float) -> float:
        """*half* (mm along *direction* from *centre*) shortened so its end stays on the image."""
        if self._bounds is None:
            return half
        pos = np.array([self.pos().x(), self.pos().y()])
        lo = (np.array(self._bounds[:2]) - pos) * self._scale
        hi = (np.array(self._bounds[2:]) - pos) * self._scale
        step = direction if half >= 0 else -direction
        limit = abs(half)
        for k in (0, 1):
            if step[k] > 1e-12:
                limit = min(limit, max(0.0, (hi[k] - centre[k]) / step[k]))
            elif step[k] < -1e-12:
                limit = min(limit, max(0.0, (lo[k] - centre[k]) / step[k]))
        return float(np.copysign(limit, half))

    def _apply(self, points_mm: list[np.ndarray]) -> None:
        for h, p in zip(self.handles, points_mm, strict=True):
            local = pg.Point(*(p / self._scale))
            h["item"].setPos(local)
            h["pos"] = local

    def movePoint(  # noqa: N802
        self,
        handle: Handle,
        pos: QtCore.QPointF,
        modifiers: QtCore.Qt.KeyboardModifier | None = None,
        finish: bool = True,
        coords: str = "parent",
    ) -> None:
        """Move one handle and re-impose perpendicularity (pyqtgraph override)."""
        index = self.indexOfHandle(handle)
        p = pg.Point(pos)
        if coords == "scene":
            p = self.mapSceneToParent(p)
        p = pg.Point(*clamp_point((p.x(), p.y()), self._bounds))
        local = self.mapFromParent(p)
        points = self._points_mm()
        moved = np.array([local.x(), local.y()]) * self._scale
        if index in (0, 1):
            points[index] = moved
        else:
            origin, u, n, length = self._frame(points)
            if length > 1e-9:
                self._t = float(np.clip(np.dot(moved - origin, u) / length, 0.0, 1.0))
            offset = float(np.dot(moved - origin, n))
            if index == 2:
                self._a = offset
            else:
                self._b = -offset
        self._apply(self._place_short(points))
        self.freeHandleMoved = True
        self.stateChanged(finish=finish)

    # -- public API ----------------------------------------------------------------
    def axes_points(self) -> tuple[tuple[Point2, Point2], tuple[Point2, Point2]]:
        """``(long_axis, short_axis)`` end points in display (parent) coordinates."""
        pts = [self.mapToParent(h["pos"]) for h in self.handles]
        xy = [(p.x(), p.y()) for p in pts]
        return (xy[0], xy[1]), (xy[2], xy[3])

    @property
    def long_axis_mm(self) -> float:
        """Long axis length in millimetres."""
        return segment_length_mm(self._to_lps, *self.axes_points()[0])

    @property
    def short_axis_mm(self) -> float:
        """Short axis length in millimetres."""
        return segment_length_mm(self._to_lps, *self.axes_points()[1])

    @property
    def labels(self) -> tuple[pg.TextItem, pg.TextItem]:
        """The long-axis and short-axis length labels."""
        return self._long_label, self._short_label

    def _on_region_changed(self, *_: object) -> None:
        (l0, l1), (s0, s1) = self.axes_points()
        long_text, short_text = f"{self.long_axis_mm:.1f} mm", f"{self.short_axis_mm:.1f} mm"
        if self.counts_short_axis:  # a node: the caption goes with the length that counts
            short_text = f"{self._caption} {short_text}"
        elif self._caption:
            long_text = f"{self._caption} {long_text}"
        self._long_label.setText(long_text)
        self._short_label.setText(short_text)
        (long_end, long_anchor), (short_end, short_anchor) = bidirectional_label_anchors(
            (l0, l1),
            (s0, s1),
            tuple(self._scale),
            _text_size(self._long_label),
            _text_size(self._short_label),
        )
        for label, anchor, end in (
            (self._long_label, long_anchor, (l0, l1)[long_end]),
            (self._short_label, short_anchor, (s0, s1)[short_end]),
        ):
            label.setAnchor(anchor)
            label.setPos(self.mapFromParent(QtCore.QPointF(*end)))
        self.prepareGeometryChange()
        self.update()

    # -- drawing -----------------------------------------------------------------------
    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        """Draw both axes."""
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setPen(self.currentPen)
        pts = [h["item"].pos() for h in self.handles]
        p.drawLine(pts[0], pts[1])
        p.drawLine(pts[2], pts[3])

    def shape(self) -> QtGui.QPainterPath:
        """A thin band around each axis, for hover and click."""
        path = QtGui.QPainterPath()
        pts = [h["item"].pos() for h in self.handles]
        for a, b in ((pts[0], pts[1]), (pts[2], pts[3])):
            d = b - a
            if d.manhattanLength() == 0:
                continue
            pxv = self.pixelVectors(pg.Point(d))[1]
            if pxv is None:
                continue
            pxv = pxv * 4
            band = QtGui.QPolygonF([a + pxv, b + pxv, b - pxv, a - pxv, a + pxv])
            path.addPolygon(band)
        return path

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        """The bounds of both axes."""
        return self.shape().boundingRect()
