"""CaliperRoi and BidirectionalCaliperRoi: lengths in mm, labels, perpendicularity while editing."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore

from viewer.image.calipers import CALIPER_COLOR, SELECTED_COLOR, BidirectionalCaliperRoi, CaliperRoi
from viewer.image.overlays import MeasurementOverlay, make_geometry, same_geometry
from viewer.image.tools import perpendicular_short_axis

pytestmark = pytest.mark.qt

SPACING = (0.6, 0.9)  # x (column) and y (row) millimetres: anisotropic on purpose


def to_lps(x: float, y: float) -> tuple[float, float, float]:
    return (x * SPACING[0] - 100.0, y * SPACING[1] + 20.0, 55.0)


@pytest.fixture
def view_box(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    vb = widget.addViewBox()
    yield vb  # the widget must outlive the test, or Qt deletes the ViewBox
    widget.close()


def _cos(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_caliper_length_uses_anisotropic_spacing(view_box):
    roi = CaliperRoi((10, 10), (40, 50), to_lps=to_lps, caption="T1")
    view_box.addItem(roi)
    expected = math.hypot(30 * 0.6, 40 * 0.9)
    assert roi.length_mm == pytest.approx(expected)
    assert roi.label_text == f"T1 {expected:.1f} mm"
    assert roi.end_points() == ((10.0, 10.0), (40.0, 50.0))


def test_caliper_label_follows_handle_moves(view_box):
    roi = CaliperRoi((0, 0), (10, 0), to_lps=to_lps)
    view_box.addItem(roi)
    changed: list[object] = []
    finished: list[object] = []
    roi.sigRegionChanged.connect(changed.append)
    roi.sigRegionChangeFinished.connect(finished.append)
    roi.set_end_points((0, 0), (0, 20), finish=True)
    assert roi.length_mm == pytest.approx(18.0)
    assert roi.label_text == "18.0 mm"
    assert changed
    assert len(finished) == 1


def test_caliper_selection_colour(view_box):
    roi = CaliperRoi((0, 0), (10, 0), to_lps=to_lps)
    assert roi.pen.color().getRgb()[:3] == CALIPER_COLOR
    roi.set_selected(True)
    assert roi.selected
    assert roi.pen.color().getRgb()[:3] == SELECTED_COLOR


def test_bidirectional_starts_perpendicular_in_mm(view_box):
    short = perpendicular_short_axis((10, 10), (50, 40), SPACING)
    roi = BidirectionalCaliperRoi(
        ((10, 10), (50, 40)), short, to_lps=to_lps, pixel_mm=SPACING, caption="N1"
    )
    view_box.addItem(roi)
    (l0, l1), (s0, s1) = roi.axes_points()
    long_mm = np.subtract(to_lps(*l1), to_lps(*l0))
    short_mm = np.subtract(to_lps(*s1), to_lps(*s0))
    assert abs(_cos(long_mm, short_mm)) < 1e-9
    assert roi.short_axis_mm == pytest.approx(roi.long_axis_mm / 2)
    # in pixels it is NOT perpendicular, because the pixels are not square
    assert abs(_cos(np.subtract(l1, l0), np.subtract(s1, s0))) > 0.05


def test_bidirectional_forces_a_crooked_short_axis_perpendicular(view_box):
    roi = BidirectionalCaliperRoi(
        ((0, 0), (100, 0)), ((45, -10), (55, 10)), to_lps=to_lps, pixel_mm=SPACING
    )
    (l0, l1), (s0, s1) = roi.axes_points()
    assert s0[0] == pytest.approx(50)
    assert s1[0] == pytest.approx(50)


@pytest.mark.parametrize("handle", [0, 1])
def test_moving_a_long_axis_handle_carries_the_short_axis(view_box, handle):
    roi = BidirectionalCaliperRoi(
        ((0, 0), (100, 0)), ((30, -20), (30, 10)), to_lps=to_lps, pixel_mm=SPACING
    )
    view_box.addItem(roi)
    short_before = roi.short_axis_mm
    finished: list[object] = []
    roi.sigRegionChangeFinished.connect(finished.append)
    roi.movePoint(
        roi.getHandles()[handle], QtCore.QPointF(70, 80) if handle else QtCore.QPointF(-20, 30)
    )
    (l0, l1), (s0, s1) = roi.axes_points()
    long_mm = np.subtract(to_lps(*l1), to_lps(*l0))
    short_mm = np.subtract(to_lps(*s1), to_lps(*s0))
    assert abs(_cos(long_mm, short_mm)) < 1e-9
    assert roi.short_axis_mm == pytest.approx(short_before)
    assert len(finished) == 1


def test_moving_a_short_axis_handle_stays_perpendicular_and_slides(view_box):
    roi = BidirectionalCaliperRoi(
        ((0, 0), (100, 0)), ((50, -10), (50, 10)), to_lps=to_lps, pixel_mm=SPACING
    )
    view_box.addItem(roi)
    roi.movePoint(roi.getHandles()[3], QtCore.QPointF(60, 30))
    (l0, l1), (s0, s1) = roi.axes_points()
    assert s0 == pytest.approx((60, -10))
    assert s1 == pytest.approx((60, 30))
    assert roi.short_axis_mm == pytest.approx(40 * 0.9)
    assert roi.long_axis_mm == pytest.approx(100 * 0.6)


def test_overlay_caption_strips_the_length():
    assert MeasurementOverlay(1, "T1 23.4 mm", None).caption == "T1"  # type: ignore[arg-type]
    assert MeasurementOverlay(1, "N2", None).caption == "N2"  # type: ignore[arg-type]


def test_same_geometry_tolerance(ct_chest):
    a = make_geometry(ct_chest, 3, ((10, 10), (20, 20)))
    b = make_geometry(ct_chest, 3, ((10, 10), (20, 20.0001)))
    c = make_geometry(ct_chest, 3, ((10, 10), (20, 21)))
    d = make_geometry(ct_chest, 3, ((10, 10), (20, 20)), ((15, 12), (15, 18)))
    assert same_geometry(a, b)
    assert not same_geometry(a, c)
    assert not same_geometry(a, d)
    assert a.long_axis.start_lps_mm == pytest.approx(ct_chest.index_to_lps(3, 10, 10))


def _box(point, anchor, size):
    """Screen box (x0, y0, x1, y1) of a label of *size* anchored at *point* (pixels)."""
    x0, y0 = point[0] - anchor[0] * size[0], point[1] - anchor[1] * size[1]
    return x0, y0, x0 + size[0], y0 + size[1]


@pytest.mark.parametrize("angle", range(0, 360, 15))
@pytest.mark.parametrize("t", [0.0, 0.5, 1.0])
def test_bidirectional_label_boxes_never_overlap(angle, t):
    from viewer.image.labels import bidirectional_label_anchors

    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    long_axis = ((0.0, 0.0), (6 * c, 6 * s))  # a few pixels: a tiny lesion
    foot = (6 * c * t, 6 * s * t)
    short_axis = ((foot[0] - 2 * s, foot[1] + 2 * c), (foot[0] + s, foot[1] - c))
    sizes = ((96.0, 22.0), (64.0, 22.0))
    (le, la), (se, sa) = bidirectional_label_anchors(long_axis, short_axis, (1.0, 1.0), *sizes)
    a = _box(long_axis[le], la, sizes[0])
    b = _box(short_axis[se], sa, sizes[1])
    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
    assert overlap_x <= 0 or overlap_y <= 0
    # each label keeps clear of its own end point
    for (x0, y0, x1, y1), p in ((a, long_axis[le]), (b, short_axis[se])):
        assert not (x0 < p[0] < x1 and y0 < p[1] < y1)
