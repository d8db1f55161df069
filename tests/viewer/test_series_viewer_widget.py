"""SeriesViewerWidget on a real chest CT: scrolling, window/level, drawing, editing, overlays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from recist.model import DrawnGeometry
from viewer.image.overlays import MeasurementOverlay, make_geometry
from viewer.image.view import SeriesViewerWidget

pytestmark = [pytest.mark.qt, pytest.mark.usefixtures("every_mouse_move_counts")]

Qt = QtCore.Qt


def to_viewport(widget: SeriesViewerWidget, x: float, y: float) -> QtCore.QPoint:
    """Widget (viewport) pixel of display/image point (x=column, y=row)."""
    scene = widget.view_box.mapViewToScene(QtCore.QPointF(x, y))
    return widget.graphics_view.mapFromScene(scene)


def drag(
    qtbot, widget: SeriesViewerWidget, start, end, button=Qt.MouseButton.LeftButton, steps=5
) -> None:
    """Press at image point *start*, move in *steps* to *end*, release."""
    viewport = widget.graphics_view.viewport()
    p0 = to_viewport(widget, *start)
    p1 = to_viewport(widget, *end)
    qtbot.mousePress(viewport, button, pos=p0)
    for i in range(1, steps + 1):
        p = p0 + (p1 - p0) * (i / steps)
        qtbot.mouseMove(viewport, pos=p)
        qtbot.wait(5)
    qtbot.mouseRelease(viewport, button, pos=p1)


def double_click(qtbot, widget: SeriesViewerWidget, point) -> None:
    """A left double-click at image *point*, as the platform sends it: press, release,
    double-click, release.  ``qtbot.mouseDClick`` sends the double-click event alone
    and leaves QTest's global button state "left pressed" for every later test."""
    viewport = widget.graphics_view.viewport()
    pos = to_viewport(widget, *point)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=pos)


def wheel(
    widget: SeriesViewerWidget, notches: int, modifiers=Qt.KeyboardModifier.NoModifier
) -> None:
    viewport = widget.graphics_view.viewport()
    pos = QtCore.QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QtGui.QWheelEvent(
        pos,
        viewport.mapToGlobal(pos),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(viewport, event)


def pixel_length_mm(start, end, spacing_xy) -> float:
    return math.hypot((end[0] - start[0]) * spacing_xy[0], (end[1] - start[1]) * spacing_xy[1])


def test_opens_on_the_middle_slice_with_the_liver_window(viewer, ct_chest):
    assert viewer.slice_index == ct_chest.voxels.shape[0] // 2
    assert (viewer.window_center, viewer.window_width) == (30.0, 150.0)
    np.testing.assert_array_equal(viewer.displayed_slice, ct_chest.voxels[viewer.slice_index])
    # int16 goes to the screen as uint16 offset by 32768 (the fast lookup-table path)
    shown = viewer.image_item.image
    assert shown.dtype == np.uint16
    np.testing.assert_array_equal(
        shown.astype(np.int32) - 32768, ct_chest.voxels[viewer.slice_index]
    )
    assert tuple(viewer.image_item.levels) == pytest.approx((-45.0 + 32768, 105.0 + 32768))


def test_wheel_scrolls_slices_and_ctrl_wheel_zooms(qtbot, viewer, ct_chest):
    start = viewer.slice_index
    with qtbot.waitSignal(viewer.slice_changed) as blocker:
        wheel(viewer, -2)  # towards the reader: next slices
    assert blocker.args == [start + 2]
    np.testing.assert_array_equal(viewer.displayed_slice, ct_chest.voxels[start + 2])
    wheel(viewer, 1)
    assert viewer.slice_index == start + 1
    before = viewer.view_box.viewRange()
    wheel(viewer, 3, Qt.KeyboardModifier.ControlModifier)
    assert viewer.slice_index == start + 1
    after = viewer.view_box.viewRange()
    assert (after[0][1] - after[0][0]) < (before[0][1] - before[0][0])


def test_keys_scroll_and_clamp(qtbot, viewer, ct_chest):
    n = ct_chest.voxels.shape[0]
    view = viewer.graphics_view
    view.setFocus()
    start = viewer.slice_index
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert viewer.slice_index == start + 2
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert viewer.slice_index == start + 1
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert viewer.slice_index == n - 1
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert viewer.slice_index == n - 1
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert viewer.slice_index == 0


@pytest.mark.parametrize("button", [Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton])
def test_right_or_middle_drag_changes_window_level(qtbot, viewer, button):
    center, width = viewer.window_center, viewer.window_width
    drag(qtbot, viewer, (200, 200), (300, 300), button=button)
    assert viewer.window_width > width
    assert viewer.window_center > center
    lo, hi = viewer.image_item.levels
    assert (lo + hi) / 2 - 32768 == pytest.approx(viewer.window_center)
    assert hi - lo == pytest.approx(viewer.window_width)
    assert "W " in viewer.annotation("bottom_right")


def test_window_tool_uses_the_left_button(qtbot, viewer):
    viewer.set_tool("window")
    width = viewer.window_width
    drag(qtbot, viewer, (300, 200), (200, 200))
    assert viewer.window_width < width


def test_presets(viewer, ct_chest):
    viewer.apply_preset("lung")
    assert (viewer.window_center, viewer.window_width) == (-600.0, 1500.0)
    viewer.apply_preset("bone")
    assert (viewer.window_center, viewer.window_width) == (500.0, 2000.0)
    viewer.apply_preset("soft tissue")
    assert (viewer.window_center, viewer.window_width) == (40.0, 400.0)
    viewer.apply_preset("auto")
    image = ct_chest.voxels[viewer.slice_index]
    lo, hi = np.percentile(image, [1, 99])
    assert viewer.window_width == pytest.approx(hi - lo, rel=0.02)
    with pytest.raises(KeyError, match="unknown window preset"):
        viewer.apply_preset("brain-ish")


def test_draw_line_emits_geometry_in_mm(qtbot, viewer, ct_chest):
    viewer.set_tool("line")
    start, end = (180.0, 220.0), (260.0, 300.0)
    with qtbot.waitSignal(viewer.measurement_drawn) as blocker:
        drag(qtbot, viewer, start, end)
    geometry = blocker.args[0]
    assert isinstance(geometry, DrawnGeometry)
    assert geometry.slice_index == viewer.slice_index
    assert geometry.series_instance_uid == ct_chest.series_instance_uid
    assert geometry.sop_instance_uid == ct_chest.sop_instance_uids[viewer.slice_index]
    assert geometry.short_axis is None
    seg = geometry.long_axis
    # the mouse lands on whole screen pixels: compare with the pixel end points actually recorded
    assert seg.start_px == pytest.approx(start, abs=1.0)
    assert seg.end_px == pytest.approx(end, abs=1.0)
    spacing = (ct_chest.spacing_mm[2], ct_chest.spacing_mm[1])
    assert seg.length_mm == pytest.approx(
        pixel_length_mm(seg.start_px, seg.end_px, spacing), abs=0.1
    )
    assert seg.length_mm == pytest.approx(pixel_length_mm(start, end, spacing), abs=1.5)
    z = ct_chest.index_to_lps(viewer.slice_index, 0, 0)[2]
    assert seg.start_lps_mm[2] == pytest.approx(z)


def test_draw_line_on_anisotropic_pixels(qtbot, ct_chest_anisotropic):
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 640)
    widget.set_volume(ct_chest_anisotropic)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit_to_window()
    widget.set_tool("line")
    with qtbot.waitSignal(widget.measurement_drawn) as blocker:
        drag(qtbot, widget, (100.0, 100.0), (100.0, 200.0))  # vertical: rows, 0.9 mm
    seg = blocker.args[0].long_axis
    assert seg.length_mm == pytest.approx(
        pixel_length_mm(seg.start_px, seg.end_px, (0.6, 0.9)), abs=0.1
    )
    assert seg.length_mm == pytest.approx(90.0, abs=1.5)


def test_draw_bidirectional_short_axis_perpendicular_half_length(qtbot, viewer, ct_chest):
    viewer.set_tool("bidirectional")
    with qtbot.waitSignal(viewer.measurement_drawn) as blocker:
        drag(qtbot, viewer, (200.0, 250.0), (280.0, 290.0))
    geometry = blocker.args[0]
    long_axis, short_axis = geometry.long_axis, geometry.short_axis
    assert short_axis is not None
    assert short_axis.length_mm == pytest.approx(long_axis.length_mm / 2, abs=0.1)
    u = np.subtract(long_axis.end_lps_mm, long_axis.start_lps_mm)
    v = np.subtract(short_axis.end_lps_mm, short_axis.start_lps_mm)
    assert abs(np.dot(u, v)) / (np.linalg.norm(u) * np.linalg.norm(v)) < 1e-6
    mid_long = np.add(long_axis.start_px, long_axis.end_px) / 2
    mid_short = np.add(short_axis.start_px, short_axis.end_px) / 2
    np.testing.assert_allclose(mid_long, mid_short, atol=1e-6)


def test_drawing_is_emitted_once(qtbot, viewer):
    viewer.set_tool("line")
    drawn: list[object] = []
    viewer.measurement_drawn.connect(drawn.append)
    drag(qtbot, viewer, (100.0, 100.0), (150.0, 120.0), steps=10)
    assert len(drawn) == 1


def _overlay(
    volume, slice_index, long_px, short_px=None, mid=7, label="T1 23.4 mm", selected=False
):
    return MeasurementOverlay(
        mid, label, make_geometry(volume, slice_index, long_px, short_px), selected
    )


def test_overlays_show_on_their_own_slice(qtbot, viewer, ct_chest):
    k = viewer.slice_index
    viewer.set_overlays([_overlay(ct_chest, k, ((100, 100), (200, 100)))])
    items = viewer.overlay_items
    assert list(items) == [7]
    assert items[7].label_text.startswith("T1 ")
    assert items[7].length_mm == pytest.approx(100 * ct_chest.spacing_mm[2], abs=0.05)
    viewer.set_slice(k + 1)
    assert viewer.overlay_items == {}
    viewer.set_slice(k)
    assert list(viewer.overlay_items) == [7]
    viewer.set_orientation("coronal")
    assert viewer.overlay_items == {}


def test_overlays_of_another_series_are_not_shown(viewer, ct_chest):
    k = viewer.slice_index
    here = _overlay(ct_chest, k, ((100, 100), (200, 100)), mid=1)
    g = here.geometry
    elsewhere = MeasurementOverlay(
        2,
        "T2",
        DrawnGeometry("1.2.3.4", g.sop_instance_uid, k, g.long_axis),
    )
    viewer.set_overlays([here, elsewhere])
    assert list(viewer.overlay_items) == [1]


def test_editing_a_handle_emits_measurement_edited_once(qtbot, viewer, ct_chest):
    k = viewer.slice_index
    viewer.set_overlays([_overlay(ct_chest, k, ((150, 150), (250, 150)))])
    edited: list[tuple[int, DrawnGeometry]] = []
    viewer.measurement_edited.connect(lambda mid, g: edited.append((mid, g)))
    drag(qtbot, viewer, (250, 150), (250, 220), steps=6)
    assert len(edited) == 1
    mid, geometry = edited[0]
    assert mid == 7
    assert geometry.long_axis.start_px == pytest.approx((150, 150))
    assert geometry.long_axis.end_px == pytest.approx((250, 220), abs=1.0)
    spacing = ct_chest.spacing_mm[1]
    expected = math.dist(geometry.long_axis.start_px, geometry.long_axis.end_px) * spacing
    assert geometry.long_axis.length_mm == pytest.approx(expected, abs=0.1)
    # a click on the handle without moving it is not an edit
    p = to_viewport(viewer, *geometry.long_axis.end_px)
    qtbot.mouseClick(viewer.graphics_view.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert len(edited) == 1


def test_bidirectional_short_axis_stays_perpendicular_when_the_long_axis_moves(
    qtbot, viewer, ct_chest
):
    k = viewer.slice_index
    overlay = _overlay(ct_chest, k, ((150, 200), (250, 200)), ((200, 180), (200, 220)), mid=3)
    viewer.set_overlays([overlay])
    edited: list[DrawnGeometry] = []
    viewer.measurement_edited.connect(lambda _mid, g: edited.append(g))
    drag(qtbot, viewer, (250, 200), (230, 260), steps=6)
    assert len(edited) == 1
    g = edited[0]
    u = np.subtract(g.long_axis.end_lps_mm, g.long_axis.start_lps_mm)
    v = np.subtract(g.short_axis.end_lps_mm, g.short_axis.start_lps_mm)
    assert abs(np.dot(u, v)) / (np.linalg.norm(u) * np.linalg.norm(v)) < 1e-6
    assert g.short_axis.length_mm == pytest.approx(40 * ct_chest.spacing_mm[1], abs=0.1)
    # now drag one short-axis handle outwards and a little sideways: still perpendicular, longer
    end = np.array(g.short_axis.end_px)
    outwards = (end - np.array(g.short_axis.start_px)) / np.linalg.norm(
        end - np.array(g.short_axis.start_px)
    )
    target = end + 15 * outwards + 3 * np.array([outwards[1], -outwards[0]])
    drag(qtbot, viewer, tuple(end), tuple(target), steps=6)
    assert len(edited) == 2
    g2 = edited[1]
    u = np.subtract(g2.long_axis.end_lps_mm, g2.long_axis.start_lps_mm)
    v = np.subtract(g2.short_axis.end_lps_mm, g2.short_axis.start_lps_mm)
    assert abs(np.dot(u, v)) / (np.linalg.norm(u) * np.linalg.norm(v)) < 1e-6
    assert g2.short_axis.length_mm > g.short_axis.length_mm
    assert g2.long_axis.start_px == pytest.approx(g.long_axis.start_px)


def test_delete_key_requests_deletion_of_the_selected_overlay(qtbot, viewer, ct_chest):
    k = viewer.slice_index
    viewer.set_overlays(
        [
            _overlay(ct_chest, k, ((100, 100), (200, 100)), mid=1),
            _overlay(ct_chest, k, ((100, 300), (200, 300)), mid=2, selected=True),
        ]
    )
    viewer.graphics_view.setFocus()
    with qtbot.waitSignal(viewer.delete_requested) as blocker:
        qtbot.keyClick(viewer.graphics_view, Qt.Key.Key_Delete)
    assert blocker.args == [2]
    # clicking the other caliper selects it
    selections: list[int | None] = []
    viewer.measurement_selected.connect(selections.append)
    qtbot.mouseClick(
        viewer.graphics_view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=to_viewport(viewer, 150, 100),
    )
    with qtbot.waitSignal(viewer.delete_requested) as blocker:
        qtbot.keyClick(viewer.graphics_view, Qt.Key.Key_Delete)
    assert blocker.args == [1]
    # clicking empty image deselects: Delete does nothing
    qtbot.mouseClick(
        viewer.graphics_view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=to_viewport(viewer, 400, 450),
    )
    with qtbot.assertNotEmitted(viewer.delete_requested):
        qtbot.keyClick(viewer.graphics_view, Qt.Key.Key_Delete)
    assert selections == [1, None]


def test_orientation_labels_for_axial_coronal_sagittal(viewer):
    labels = {name: viewer.annotation(name) for name in ("left", "right", "top", "bottom")}
    assert labels == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    viewer.set_orientation("coronal")
    assert [viewer.annotation(n) for n in ("left", "right", "top", "bottom")] == [
        "R",
        "L",
        "S",
        "I",
    ]
    viewer.set_orientation("sagittal")
    assert [viewer.annotation(n) for n in ("left", "right", "top", "bottom")] == [
        "A",
        "P",
        "S",
        "I",
    ]


def test_reformat_shape_and_head_up(viewer, ct_chest):
    viewer.set_orientation("coronal")
    n_s, n_r, n_c = ct_chest.voxels.shape
    assert viewer.slice_count == n_r
    assert viewer.image_shape == (n_s, n_c)
    # the slice index grows towards the head in this series, so the top row is the last slice
    np.testing.assert_array_equal(
        viewer.displayed_slice[0], ct_chest.voxels[-1, viewer.slice_index, :]
    )
    assert viewer.pixel_mm == pytest.approx((ct_chest.spacing_mm[2], ct_chest.spacing_mm[0]))
    viewer.set_orientation("axial")
    assert viewer.slice_count == n_s


def test_patient_and_slice_text(viewer, ct_chest):
    top_left = viewer.annotation("top_left")
    assert ct_chest.patient_name in top_left
    assert ct_chest.patient_id in top_left
    assert "2007-04-25" in top_left
    assert ct_chest.series_description in viewer.annotation("top_right")
    assert f"{viewer.slice_index + 1}/{ct_chest.voxels.shape[0]}" in viewer.annotation(
        "bottom_left"
    )
    assert viewer.annotation("bottom_right").splitlines()[0] == "W 150  L 30"


def test_cursor_shows_hu_and_position(qtbot, viewer, ct_chest):
    # first elsewhere: a move to where an earlier test left the cursor sends no event
    qtbot.mouseMove(viewer.graphics_view.viewport(), pos=to_viewport(viewer, 200, 200))
    qtbot.mouseMove(viewer.graphics_view.viewport(), pos=to_viewport(viewer, 256, 300))
    text = viewer.annotation("bottom_left")
    value = int(ct_chest.voxels[viewer.slice_index, 300, 256])
    assert f"(256, 300)  {value} HU" in text
    assert "LPS" in text


def test_render_png_writes_a_non_black_image(viewer, tmp_path, ct_chest):
    viewer.set_overlays([_overlay(ct_chest, viewer.slice_index, ((100, 100), (200, 150)))])
    path = tmp_path / "view.png"
    viewer.render_png(str(path))
    assert path.stat().st_size > 1000
    image = QtGui.QImage(str(path))
    assert image.width() == viewer.width()
    array = np.frombuffer(
        image.convertToFormat(QtGui.QImage.Format.Format_RGB32).constBits(), np.uint8
    )
    assert (array.reshape(-1, 4)[:, :3].max(axis=1) > 50).mean() > 0.1
    # the yellow caliper is there
    rgb = array.reshape(image.height(), image.width(), 4)[..., :3]  # BGRA
    yellow = (rgb[..., 2] > 200) & (rgb[..., 1] > 180) & (rgb[..., 0] < 80)
    assert yellow.sum() > 30


def test_bad_tool_plane_and_preset_names_are_rejected(viewer):
    with pytest.raises(ValueError, match="unknown tool"):
        viewer.set_tool("lasso")
    with pytest.raises(ValueError, match="unknown plane"):
        viewer.set_orientation("oblique")


def test_zoom_tool_and_pan(qtbot, viewer):
    viewer.set_tool("zoom")
    before = viewer.view_box.viewRange()
    drag(qtbot, viewer, (256, 300), (256, 200))  # drag up: zoom in
    after = viewer.view_box.viewRange()
    assert (after[0][1] - after[0][0]) < (before[0][1] - before[0][0])
    viewer.set_tool("pan")
    x_range = viewer.view_box.viewRange()[0]
    drag(qtbot, viewer, (256, 256), (200, 256))
    moved = viewer.view_box.viewRange()[0]
    assert moved[0] > x_range[0]  # the image follows the hand: the view moves right
    assert (moved[1] - moved[0]) == pytest.approx(x_range[1] - x_range[0])
    viewer.resize(700, 700)  # a zoomed view keeps its zoom when the window changes size
    QtWidgets.QApplication.processEvents()
    assert (viewer.view_box.viewRange()[0][1] - viewer.view_box.viewRange()[0][0]) < 400
    double_click(qtbot, viewer, (256, 256))
    # the fit is synchronous: no waiting
    assert viewer.fit_mode == "image"
    fitted = viewer.view_box.viewRange()
    assert fitted[0][0] <= -0.5 + 1e-6
    assert fitted[0][1] >= 511.5 - 1e-6
    double_click(qtbot, viewer, (256, 256))  # again: the body
    assert viewer.fit_mode == "body"
    # this chest CT's body spans the image's width: the body view is the whole width too
    assert viewer.view_box.viewRange()[0] == pytest.approx(fitted[0], abs=1e-6)


def test_background_loading_is_redrawn_as_slices_arrive(qtbot, ct_chest):
    class Loading:
        def __init__(self, volume):
            self._v = volume
            self.voxels = np.zeros_like(volume.voxels)
            self.slices_loaded, self.is_complete = 0, False

        def __getattr__(self, name):
            return getattr(self._v, name)

    loading = Loading(ct_chest)
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.set_volume(loading)
    k = widget.slice_index
    assert not widget.displayed_slice.any()
    loading.voxels[:] = ct_chest.voxels
    loading.slices_loaded, loading.is_complete = ct_chest.voxels.shape[0], True
    qtbot.waitUntil(lambda: widget.displayed_slice.any(), timeout=3000)
    np.testing.assert_array_equal(widget.displayed_slice, ct_chest.voxels[k])


def test_oblique_mr_opens_with_the_auto_window(qtbot, shared_data):
    from tests.viewer.conftest import read_volume

    mr = read_volume(shared_data / "mr-brain-24")
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.set_volume(mr)
    assert mr.voxels.dtype == np.float32
    image = mr.voxels[widget.slice_index]
    lo, hi = np.percentile(image, [1, 99])
    assert widget.window_width == pytest.approx(hi - lo, rel=0.05)
    # rows tilt ~10 degrees towards the feet, columns ~3.5 degrees: dominant letters still A/P, R/L
    assert widget.annotation("top").startswith("A")
    assert widget.annotation("left").startswith("R")
    assert widget.annotation("right").startswith("L")
    drawn: list[DrawnGeometry] = []
    widget.measurement_drawn.connect(drawn.append)
    widget.finish_drawing(((10.0, 20.0), (110.0, 20.0)))
    (geometry,) = drawn
    assert geometry.long_axis.length_mm == pytest.approx(100 * mr.spacing_mm[2], abs=0.01)


def test_dragging_a_caliper_body_moves_both_ends_once(qtbot, viewer, ct_chest):
    k = viewer.slice_index
    viewer.set_overlays([_overlay(ct_chest, k, ((150, 150), (250, 150)))])
    edited: list[DrawnGeometry] = []
    viewer.measurement_edited.connect(lambda _mid, g: edited.append(g))
    drag(qtbot, viewer, (200, 150), (200, 190), steps=6)
    assert len(edited) == 1
    seg = edited[0].long_axis
    shift = seg.start_px[1] - 150
    assert shift == pytest.approx(40, abs=2)
    assert seg.end_px[1] - 150 == pytest.approx(shift)
    assert seg.length_mm == pytest.approx(100 * ct_chest.spacing_mm[2], abs=0.05)


def test_shows_a_volume_from_storage_dicom(qtbot, shared_data, ct_chest):
    from storage.dicom import load_series

    volume = load_series(shared_data / "ct-chest-30")
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.set_volume(volume)
    np.testing.assert_array_equal(widget.displayed_slice, ct_chest.voxels[widget.slice_index])
    assert [widget.annotation(n) for n in ("left", "right", "top", "bottom")] == [
        "R",
        "L",
        "A",
        "P",
    ]
    drawn: list[DrawnGeometry] = []
    widget.measurement_drawn.connect(drawn.append)
    widget.finish_drawing(((100.0, 100.0), (100.0, 200.0)))
    (geometry,) = drawn
    assert geometry.sop_instance_uid == volume.sop_instance_uids[widget.slice_index]
    assert geometry.long_axis.length_mm == pytest.approx(100 * volume.spacing_mm[1], abs=1e-6)


def _label_rects(
    qtbot, widget: SeriesViewerWidget, mid: int
) -> tuple[QtCore.QRectF, QtCore.QRectF]:
    """Scene (screen pixel) rectangles of a bidirectional caliper's two labels, as painted."""
    widget.grab()  # paints: the labels' screen-pixel transforms follow the current zoom
    long_label, short_label = widget.overlay_items[mid].labels
    return long_label.sceneBoundingRect(), short_label.sceneBoundingRect()


@pytest.mark.parametrize("angle", [0, 20, 45, 70, 90, 110, 135, 160, 180, 225, 300])
def test_labels_of_a_small_bidirectional_caliper_do_not_overlap(qtbot, viewer, ct_chest, angle):
    k = viewer.slice_index
    half_px = 5.0 / ct_chest.spacing_mm[2]  # a 10 mm long axis
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    start, end = (250 - half_px * c, 300 - half_px * s), (250 + half_px * c, 300 + half_px * s)
    short = (
        (250 - 0.3 * half_px * s, 300 + 0.3 * half_px * c),
        (250 + 0.3 * half_px * s, 300 - 0.3 * half_px * c),
    )
    viewer.set_overlays([_overlay(ct_chest, k, (start, end), short, label="T1 10.0 mm")])
    long_rect, short_rect = _label_rects(qtbot, viewer, 7)
    assert not long_rect.intersects(short_rect)
    assert long_rect.width() > 20
    assert short_rect.width() > 20
    # zoomed in four times: same label size on screen, still apart
    viewer.view_box.scaleBy((0.25, 0.25), center=QtCore.QPointF(250, 300))
    long_zoomed, short_zoomed = _label_rects(qtbot, viewer, 7)
    assert not long_zoomed.intersects(short_zoomed)
    assert long_zoomed.width() == pytest.approx(long_rect.width(), abs=1.0)
    assert long_zoomed.height() == pytest.approx(long_rect.height(), abs=1.0)


def test_ct_opens_fitted_to_the_body(qtbot, ct_wholebody):
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 640)
    widget.set_volume(ct_wholebody)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.fit_mode == "body"
    image = ct_wholebody.voxels[widget.slice_index]
    # on this slice the trunk spans rows 240-413; below it lies the patient table (its
    # curved sides reach row 416), above it a few pixels of cable: neither is body
    body = image > -500
    body[:230] = False
    body[414:] = False
    rows = np.flatnonzero(body.any(axis=1))
    cols = np.flatnonzero(body.any(axis=0))
    (x0, x1), (y0, y1) = widget.view_box.viewRange()
    # smaller than the 512 x 512 image (the wide table left out): the body is larger on screen
    assert x1 - x0 < 0.7 * 512
    assert y1 - y0 < 0.7 * 512
    # and all of the body (every voxel above -500 HU) is in view
    assert x0 <= cols[0] - 0.5
    assert x1 >= cols[-1] + 0.5
    assert y0 <= rows[0] - 0.5
    assert y1 >= rows[-1] + 0.5
    # a resize keeps the body fitted
    widget.resize(500, 700)
    QtWidgets.QApplication.processEvents()
    (x0, x1), _ = widget.view_box.viewRange()
    assert x0 <= cols[0] - 0.5
    assert x1 >= cols[-1] + 0.5
    assert x1 - x0 < 0.7 * 512
    # double-click: the whole image; again: the body
    double_click(qtbot, widget, (256, 300))
    assert widget.fit_mode == "image"
    assert widget.view_box.viewRange()[0][0] <= -0.5 + 1e-6
    double_click(qtbot, widget, (256, 300))
    assert widget.fit_mode == "body"


def test_fit_to_body_is_the_whole_image_for_mr(qtbot, shared_data):
    from tests.viewer.conftest import read_volume

    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.set_volume(read_volume(shared_data / "mr-brain-24"))
    widget.fit_to_body()
    assert widget.fit_mode == "image"


def test_escape_cancels_a_caliper_being_drawn(qtbot, viewer):
    viewer.set_tool("bidirectional")
    viewport = viewer.graphics_view.viewport()
    viewer.graphics_view.setFocus()
    p0, p1 = to_viewport(viewer, 200, 250), to_viewport(viewer, 280, 290)
    with qtbot.assertNotEmitted(viewer.measurement_drawn):
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=p0)
        for i in range(1, 4):
            qtbot.mouseMove(viewport, pos=p0 + (p1 - p0) * (i / 6))
        assert viewer.provisional_item is not None
        qtbot.keyClick(viewer.graphics_view, Qt.Key.Key_Escape)
        assert viewer.provisional_item is None
        for i in range(4, 7):
            qtbot.mouseMove(viewport, pos=p0 + (p1 - p0) * (i / 6))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=p1)
    assert viewer.provisional_item is None
    assert viewer.overlay_items == {}
    # the next caliper draws as usual
    with qtbot.waitSignal(viewer.measurement_drawn):
        drag(qtbot, viewer, (200.0, 250.0), (280.0, 290.0))


def test_a_refused_caliper_disappears(qtbot, viewer, ct_chest):
    viewer.set_tool("line")
    with qtbot.waitSignal(viewer.measurement_drawn):
        drag(qtbot, viewer, (200.0, 250.0), (280.0, 290.0))
    drawn = viewer.provisional_item
    assert drawn is not None
    assert drawn in viewer.view_box.addedItems
    viewer.discard_pending()  # the main window, when the controller refuses it
    assert viewer.provisional_item is None
    assert drawn not in viewer.view_box.addedItems
    viewer.discard_pending()  # harmless when there is nothing to discard
    # the next set_overlays also removes it (here: the measurement list did not change)
    viewer.set_tool("bidirectional")
    with qtbot.waitSignal(viewer.measurement_drawn):
        drag(qtbot, viewer, (200.0, 250.0), (280.0, 290.0))
    drawn = viewer.provisional_item
    assert drawn is not None
    viewer.set_overlays([])
    assert viewer.provisional_item is None
    assert drawn not in viewer.view_box.addedItems


def test_body_box_leaves_out_the_table_and_keeps_the_arms():
    from viewer.image.fit import body_box

    image = np.full((200, 200), -1000, np.int16)
    image[40:120, 60:140] = 40  # trunk
    image[60:90, 30:45] = 40  # an arm, apart from the trunk
    image[150:154, 10:190] = 200  # the table: long and thin
    image[5, 5] = 100  # a cable
    x0, y0, x1, y1 = body_box(image, "CT")
    assert x0 < 29.5
    assert x1 > 139.5
    assert y0 < 39.5
    assert y1 > 119.5
    assert x0 > 10
    assert x1 < 160
    assert y1 < 145
    assert body_box(image, "MR") is None
    assert body_box(np.full((50, 50), -1000, np.int16), "CT") is None
