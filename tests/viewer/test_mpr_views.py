"""Issue 12, image views: layouts, linked planes, cine, scale bar, presets, reformat refusal,
readouts and overlay text (``viewer/image/layout.py``, ``view.py``, ``presets.py``)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6 import QtCore, QtWidgets

from tests.viewer.test_series_viewer_widget import drag, to_viewport
from viewer.image.annotations import OutlinedLabel
from viewer.image.labels import spread_label_offsets
from viewer.image.layout import ViewerLayout
from viewer.image.overlays import MeasurementOverlay, make_geometry
from viewer.image.presets import PRESET_NAMES
from viewer.image.prior import PriorSliceWidget
from viewer.image.scalebar import nice_length_mm
from viewer.image.view import SeriesViewerWidget

pytestmark = [pytest.mark.qt, pytest.mark.usefixtures("every_mouse_move_counts")]

Qt = QtCore.Qt


@pytest.fixture
def layout(qtbot, ct_chest) -> ViewerLayout:
    main, prior = SeriesViewerWidget(), PriorSliceWidget()
    widget = ViewerLayout(main, prior)
    qtbot.addWidget(widget)
    widget.resize(1200, 900)
    widget.show()
    qtbot.waitExposed(widget)
    main.set_volume(ct_chest)
    return widget


# -- layouts -------------------------------------------------------------------------------


def test_layout_switch_shows_the_panes(qtbot, layout, ct_chest):
    assert layout.layout_name == "1x1"
    assert layout.main.isVisible()
    assert not layout.prior.isVisible()
    assert not layout.coronal.isVisible()

    layout.set_layout("1x2")
    qtbot.wait(50)
    assert layout.prior.isVisible()
    assert not layout.coronal.isVisible()

    layout.set_layout("2x2")
    qtbot.wait(50)
    assert all(w.isVisible() for w in (layout.main, layout.coronal, layout.sagittal, layout.prior))
    assert (layout.coronal.orientation, layout.sagittal.orientation) == ("coronal", "sagittal")
    assert layout.coronal.volume is ct_chest
    assert layout.sagittal.volume is ct_chest
    assert layout.main.orientation == "axial"
    widths = {round(w.width() / 10) for w in (layout.main, layout.coronal, layout.sagittal)}
    assert len(widths) == 1  # four equal panes

    layout.set_layout("1x1")
    qtbot.wait(50)
    assert not layout.coronal.isVisible()
    assert not layout.prior.isVisible()
    with pytest.raises(ValueError, match="unknown layout"):
        layout.set_layout("3x3")


def test_the_reformat_panes_are_built_for_2x2_with_the_main_panes_settings(qtbot, layout):
    """Issue 17: the window shows in 1x1 without the reformats; 2x2 builds them, set alike."""
    refused: list[str] = []
    layout.measurement_refused.connect(refused.append)
    layout.set_tool("pan")
    layout.set_reformat_calipers(True)
    layout.set_layout("1x2")
    assert layout._reformats is None  # not needed yet

    layout.set_layout("2x2")
    qtbot.wait(50)
    assert layout._reformats is not None
    for view in (layout.coronal, layout.sagittal):
        assert view.isVisible()
        assert view.parent() is layout
        assert (view.tool, view.allow_reformat_calipers, view.crosshair_enabled) == (
            "pan",
            True,
            True,
        )
    assert layout.crosshair_lps is not None
    layout.set_reformat_calipers(False)
    layout.coronal.measurement_refused.emit("no calipers on reformats")
    assert refused == ["no calipers on reformats"]  # relayed from a reformat built later
    assert not layout.sagittal.allow_reformat_calipers


def test_main_pane_shows_any_plane_in_1x1(layout):
    layout.set_plane("sagittal")
    assert layout.main.orientation == "sagittal"
    layout.set_layout("2x2")  # 2x2 keeps the main pane axial
    assert layout.main.orientation == "axial"


def test_1x2_panes_are_the_same_width(qtbot, layout):
    layout.set_layout("1x2")
    qtbot.wait(50)
    assert abs(layout.prior.width() - layout.main.width()) <= 2
    assert layout.prior.width() > 500  # not a 160 px strip


# -- crosshair -----------------------------------------------------------------------------


def test_scrolling_the_axial_plane_moves_the_crosshair_in_the_others(qtbot, layout):
    layout.set_layout("2x2")
    before = layout.coronal.crosshair_position
    assert before is not None
    assert layout.main.crosshair_position is not None
    layout.main.set_slice(layout.main.slice_index + 5)
    after = layout.coronal.crosshair_position
    assert after is not None
    assert after[1] != before[1]
    # the line is at the display row of the axial slice shown
    s = layout.main.slice_index
    n = layout.main.volume.voxels.shape[0]
    assert after[1] == pytest.approx(n - 1 - s)  # head up: the chest series runs feet to head
    assert layout.sagittal.crosshair_position[1] == pytest.approx(after[1])


def test_clicking_in_one_plane_moves_the_others(qtbot, layout):
    layout.set_layout("2x2")
    qtbot.wait(50)
    coronal = layout.coronal
    coronal.fit_to_window()
    qtbot.wait(20)
    axial_before, sagittal_before = layout.main.slice_index, layout.sagittal.slice_index
    n = coronal.volume.voxels.shape[0]
    target_row = n - 1 - 6  # display row of axial slice 6
    qtbot.mouseClick(
        coronal.graphics_view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=to_viewport(coronal, 100, target_row),
    )
    qtbot.waitUntil(lambda: layout.main.slice_index != axial_before)
    assert layout.main.slice_index == 6
    assert layout.sagittal.slice_index == pytest.approx(100, abs=1) != sagittal_before
    assert layout.main.crosshair_position[0] == pytest.approx(100, abs=1)


def test_pointer_drag_moves_the_crosshair(qtbot, layout):
    layout.set_layout("2x2")
    layout.set_tool("pointer")
    qtbot.wait(50)
    layout.main.fit_to_window()
    qtbot.wait(20)
    drag(qtbot, layout.main, (100, 100), (300, 250))
    assert layout.sagittal.slice_index == pytest.approx(300, abs=2)
    assert layout.coronal.slice_index == pytest.approx(250, abs=2)


# -- cine ----------------------------------------------------------------------------------


def test_cine_plays_the_slices_at_its_frame_rate(qtbot, layout):
    cine = layout.cine
    cine.set_fps(500)
    assert cine.fps == 60  # clamped
    cine.set_fps(50)
    start = layout.main.slice_index
    cine.set_running(True)
    assert cine.running
    qtbot.waitUntil(lambda: layout.main.slice_index != start, timeout=3000)
    cine.set_running(False)
    assert not cine.running
    layout.main.set_slice(layout.main.slice_count - 1)
    cine.step()
    assert layout.main.slice_index == 0  # wraps around


# -- scale bar, zoom readout, overlay text -------------------------------------------------


def test_scale_bar_and_zoom_readout_follow_the_zoom(qtbot, viewer):
    qtbot.wait(20)
    zoom = viewer.zoom
    assert zoom > 0
    assert f"Zoom {zoom * 100:.0f}%" in viewer.annotation("bottom_right")
    assert viewer.scale_bar.isVisible()
    assert viewer.scale_bar.label.endswith(" mm")
    length = viewer.scale_bar.length_mm
    viewer.view_box.scaleBy((0.25, 0.25))  # zoom in 4x
    qtbot.wait(20)
    assert viewer.zoom == pytest.approx(zoom * 4, rel=0.05)
    assert f"Zoom {viewer.zoom * 100:.0f}%" in viewer.annotation("bottom_right")
    assert viewer.scale_bar.length_mm < length
    assert nice_length_mm(0.5, 150) == 50
    assert nice_length_mm(0.01, 150) == 1


def test_overlay_text_is_outlined_and_readable_over_white(qtbot, viewer):
    label = viewer.graphics_view.findChild(QtWidgets.QLabel, "annotation_bottom_left")
    assert isinstance(label, OutlinedLabel)
    # over a white image, the label's own pixels hold black (the outline) and light text
    viewer.set_window(-2000, 10)  # every voxel above the window: white
    qtbot.wait(20)
    image = viewer.grab(label.geometry()).toImage()
    values = {
        image.pixelColor(x, y).lightness()
        for x in range(image.width())
        for y in range(image.height())
    }
    assert min(values) < 60  # the outline
    assert max(values) > 200


def test_readout_refreshes_after_scrolling_without_moving_the_mouse(qtbot, viewer):
    viewport = viewer.graphics_view.viewport()
    qtbot.mouseMove(viewport, pos=to_viewport(viewer, 244, 280))  # not where other tests point:
    qtbot.waitUntil(lambda: "HU" in viewer.annotation("bottom_left"))  # no move, no event
    before = viewer.annotation("bottom_left")
    z_before = before.split("LPS")[1]
    viewer.set_slice(viewer.slice_index + 3)  # a key or the wheel; the mouse stays put
    after = viewer.annotation("bottom_left")
    assert "HU" in after
    assert after.split("LPS")[1] != z_before  # the position's z follows the slice


def test_readout_refreshes_after_switching_series(qtbot, viewer, ct_chest):
    viewport = viewer.graphics_view.viewport()
    qtbot.mouseMove(viewport, pos=to_viewport(viewer, 230, 270))
    qtbot.mouseMove(viewport, pos=to_viewport(viewer, 250, 290))
    qtbot.waitUntil(lambda: "HU" in viewer.annotation("bottom_left"))
    shifted = dataclasses.replace(
        ct_chest, voxels=ct_chest.voxels + 7, series_instance_uid="1.2.3.4"
    )
    before = viewer.annotation("bottom_left")
    viewer.set_volume(shifted)
    after = viewer.annotation("bottom_left")
    assert "HU" in after
    assert after != before


def test_caliper_labels_of_different_lesions_do_not_overlap(qtbot, viewer, ct_chest):
    s = viewer.slice_index
    overlays = [
        MeasurementOverlay(i, f"T{i} 30.0 mm", make_geometry(ct_chest, s, [a, b]))
        for i, (a, b) in enumerate(
            [((200, 200), (240, 200)), ((200, 206), (240, 206)), ((201, 212), (241, 212))],
            start=1,
        )
    ]
    viewer.set_overlays(overlays)
    viewer.view_box.scaleBy((2.0, 2.0))  # zoomed out: the three labels would sit on each other
    qtbot.wait(50)
    boxes = [rect for _mid, rect in viewer._layer.label_boxes()]  # noqa: SLF001
    assert len(boxes) == 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.intersects(b), (a, b)


def test_spread_label_offsets_keeps_one_owner_together():
    boxes = [("a", 0, 0, 50, 10), ("a", 10, 5, 50, 10), ("b", 0, 2, 50, 10), ("c", 200, 0, 5, 5)]
    shifts = spread_label_offsets(boxes)
    assert shifts[0] == 0
    assert shifts[1] == 0
    assert shifts[2] >= 13  # below both of a's labels
    a0, a1, b = (y + dy for (_, _, y, _, _), dy in zip(boxes[:3], shifts[:3], strict=True))
    assert b >= max(a0, a1) + 10
    assert shifts[3] == 0  # far away


# -- presets -------------------------------------------------------------------------------


def test_dicom_window_is_preset_1_and_the_default_on_open(qtbot, ct_chest):
    head = dataclasses.replace(ct_chest, window_center=40.0, window_width=80.0)
    widget = SeriesViewerWidget()
    qtbot.addWidget(widget)
    widget.set_volume(head)
    assert PRESET_NAMES[0] == "dicom"
    assert (widget.window_center, widget.window_width) == (40.0, 80.0)  # not the liver's
    assert widget.preset_name == "dicom"
    widget.apply_preset("liver")
    assert (widget.window_center, widget.window_width) == (30.0, 150.0)
    widget.apply_preset("dicom")
    assert (widget.window_center, widget.window_width) == (40.0, 80.0)
    widget.set_volume(ct_chest)  # no window in the files: the modality's default
    assert widget.preset_name == "liver"


def test_window_drag_makes_the_preset_custom(qtbot, viewer):
    names = []
    viewer.preset_changed.connect(names.append)
    assert viewer.preset_name == "liver"
    drag(qtbot, viewer, (200, 200), (300, 300), button=Qt.MouseButton.RightButton)
    assert viewer.preset_name == "custom"
    assert names[-1] == "custom"
    viewer.apply_preset("custom")  # chosen in the box: leaves the window alone
    assert viewer.preset_name == "custom"


# -- measurements stay axial ---------------------------------------------------------------


def test_caliper_on_a_coronal_reformat_is_refused(qtbot, viewer):
    drawn, refused = [], []
    viewer.measurement_drawn.connect(drawn.append)
    viewer.measurement_refused.connect(refused.append)
    viewer.set_tool("bidirectional")
    viewer.set_orientation("coronal")
    viewer.fit_to_window()
    qtbot.wait(20)
    drag(qtbot, viewer, (200, 10), (300, 20))
    assert not drawn
    assert refused
    assert "axial" in refused[0]
    assert "RECIST" in refused[0]
    assert viewer.provisional_item is None


def test_protocol_setting_allows_calipers_on_reformats(qtbot, viewer, ct_chest):
    drawn = []
    viewer.measurement_drawn.connect(drawn.append)
    viewer.allow_reformat_calipers = True
    viewer.set_tool("line")
    viewer.set_orientation("coronal")
    viewer.fit_to_window()
    qtbot.wait(20)
    drag(qtbot, viewer, (200, 10), (300, 20))
    assert len(drawn) == 1
    g = drawn[0]
    a, b = g.long_axis.start_lps_mm, g.long_axis.end_lps_mm
    dz = abs(a[2] - b[2])
    assert dz == pytest.approx(10 * ct_chest.spacing_mm[0], rel=0.05)  # across axial slices
    assert g.sop_instance_uid in ct_chest.sop_instance_uids


def test_2x2_without_a_comparison_gives_its_room_to_the_axial_pane(qtbot, layout):
    layout.set_layout("2x2")
    layout.set_comparison_available(False)
    qtbot.wait(50)
    assert not layout.prior.isVisible()
    assert layout.coronal.isVisible()
    assert layout.sagittal.isVisible()
    assert layout.main.height() > 1.8 * layout.coronal.height()  # the whole left column
    layout.set_comparison_available(True)
    qtbot.wait(50)
    assert layout.prior.isVisible()
    assert abs(layout.main.height() - layout.coronal.height()) <= 2


def test_overlay_texts_do_not_overlap_in_a_narrow_pane(qtbot, viewer):
    viewer.resize(330, 500)
    qtbot.mouseMove(viewer.graphics_view.viewport(), pos=to_viewport(viewer, 100, 120))
    qtbot.waitUntil(lambda: "LPS" in viewer.annotation("bottom_left"))
    qtbot.wait(20)
    view = viewer.graphics_view
    names = ("top_left", "top_right", "top", "bottom_left", "bottom_right", "bottom")
    rects = {n: view.findChild(QtWidgets.QLabel, f"annotation_{n}").geometry() for n in names}
    for a in names:
        for b in names:
            if a < b:
                assert not rects[a].intersects(rects[b]), (a, b, rects[a], rects[b])
