"""Issue 12 in the main window: View menu and toolbar, comparison reading (1x2), presets on
number keys, "custom" in the preset box, reformat calipers refused in the status bar.

Uses the demo study (``app.main.open_demo``) but none of its specific slices: another
change replaces the demo images.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6 import QtCore

from app.main import open_demo
from recist.model import LesionKind
from tests.viewer.test_series_viewer_widget import drag
from viewer.image.presets import PRESET_NAMES
from viewer.image.prior import PriorSliceWidget
from viewer.image.view import SeriesViewerWidget
from viewer.main_window.comparison import NO_EARLIER, ComparisonReading
from viewer.main_window.window import MainWindow

pytestmark = [pytest.mark.qt, pytest.mark.usefixtures("every_mouse_move_counts")]

Qt = QtCore.Qt


@pytest.fixture
def demo(qtbot, window: MainWindow) -> MainWindow:
    """The demo patient open at its last (follow-up) timepoint, no lesion selected."""
    open_demo(window.session, window.library)
    qtbot.waitUntil(lambda: window.viewer.volume is not None)
    window.session.select_timepoint(window.session.timepoints()[-1].id)
    window.lesion_table.select_lesion(None)
    qtbot.wait(50)
    return window


def test_view_menu_and_toolbar_switch_layouts(qtbot, demo: MainWindow):
    menus = {a.text().replace("&", ""): a.menu() for a in demo.menuBar().actions()}
    assert "View" in menus
    titles = [a.text() for a in menus["View"].actions()]
    assert {"Layout", "Plane", "Window preset", "Cine"} <= set(titles)
    actions = demo.view_actions.layout_actions
    assert actions["2x2"].shortcut().toString() == "Ctrl+4"
    actions["2x2"].trigger()
    qtbot.wait(50)
    assert demo.layout_view.layout_name == "2x2"
    assert demo.layout_view.coronal.isVisible()
    assert demo.layout_view.coronal.volume is demo.viewer.volume
    assert demo.view_actions.layout_box.currentData() == "2x2"
    box = demo.view_actions.layout_box
    box.activated.emit(box.findData("1x1"))
    assert demo.layout_view.layout_name == "1x1"
    assert not demo.prior.isVisible()
    coronal = demo.view_actions.plane_actions["coronal"]
    assert coronal.shortcut().toString() == "Alt+2"  # not F2: that edits a lesion table cell
    coronal.trigger()
    assert demo.viewer.orientation == "coronal"
    demo.view_actions.plane_actions["axial"].trigger()
    assert demo.viewer.orientation == "axial"


def test_follow_up_opens_current_and_comparison_side_by_side(qtbot, demo: MainWindow):
    assert demo.layout_view.layout_name == "1x2"
    qtbot.waitUntil(lambda: demo.prior.isVisible())
    # visible before any lesion is selected, with its own overlay, at the current pane's size
    assert demo.lesion_table.selected_lesion_id() is None
    assert demo.prior.volume is not None
    assert abs(demo.prior.width() - demo.viewer.width()) <= 2
    assert demo.prior.viewer.annotation("bottom_right").startswith("W ")
    assert demo.prior.viewer.annotation("bottom_left").startswith("Axial ")
    baseline = demo.session.timepoints()[0].label
    assert demo.prior.caption.text().startswith(baseline)


def test_comparison_pane_follows_the_patient_position(qtbot, demo: MainWindow):
    viewer, prior = demo.viewer, demo.prior
    qtbot.waitUntil(lambda: prior.volume is not None)
    for index in (1, viewer.slice_count - 2, viewer.slice_count // 2):
        viewer.set_slice(index)
        rows, cols = viewer.volume.voxels.shape[1:]
        z = viewer.volume.index_to_lps(index, rows / 2, cols / 2)[2]
        pv = prior.volume
        prior_z = pv.index_to_lps(prior.slice_index, rows / 2, cols / 2)[2]
        spacing = abs(pv.index_to_lps(1, 0, 0)[2] - pv.index_to_lps(0, 0, 0)[2])
        assert abs(prior_z - z) <= spacing / 2 + 1e-6  # same z, not the same index
        assert f"slice {prior.slice_index + 1}/" in prior.caption.text()  # caption follows


def test_selecting_a_lesion_shows_it_in_both_panes(qtbot, demo: MainWindow):
    session = demo.session
    lesion = next(
        x
        for x in session.lesions()
        if session.measurement_for(x.id) is not None
        and session.previous_measurement(x.id) is not None
        and session.measurement_for(x.id).geometry is not None
    )
    demo.lesion_table.select_lesion(lesion.id)
    qtbot.waitUntil(lambda: demo.prior.has_prior)
    qtbot.wait(50)
    assert demo.prior.slice_index == demo.prior.key_slice  # the lesion's image then
    assert lesion.code in demo.prior.caption.text()
    assert demo.prior.caliper_label.startswith(f"{lesion.code} ")  # labelled on the image
    current = session.measurement_for(lesion.id)
    assert demo.viewer.volume.sop_instance_uids[demo.viewer.slice_index] == (
        current.geometry.sop_instance_uid
    )  # and now
    # scrolling keeps the two together (the offset between the lesion's positions is kept)
    key = demo.prior.key_slice
    start = demo.viewer.slice_index
    demo.viewer.set_slice(start + 1 if start + 1 < demo.viewer.slice_count else start - 1)
    demo.viewer.set_slice(start)
    assert demo.prior.slice_index == key


def test_without_a_selected_lesion_the_comparison_pane_draws_its_calipers(qtbot, demo: MainWindow):
    """Scrolling before any lesion is selected shows the baseline calipers on their images
    (before, the comparison pane drew a caliper only for a selected lesion)."""
    session = demo.session
    baseline = session.timepoints()[0]
    measured = [m for m in session.measurements(baseline.id) if m.geometry is not None]
    assert not demo.prior.has_prior  # no lesion selected
    codes = {x.id: x.code for x in session.lesions()}
    for m in measured:
        index = demo.prior.volume.sop_instance_uids.index(m.geometry.sop_instance_uid)
        demo.prior.viewer.set_slice(index)
        assert f"{codes[m.lesion_id]} {m.long_axis_mm:.1f} mm" in demo.prior.caliper_labels
    off = next(
        i
        for i in range(demo.prior.viewer.slice_count)
        if all(
            demo.prior.volume.sop_instance_uids[i] != m.geometry.sop_instance_uid for m in measured
        )
    )
    demo.prior.viewer.set_slice(off)
    assert demo.prior.caliper_labels == []


def test_compare_with_previous_timepoint(qtbot, demo: MainWindow):
    demo.prior.set_compare_with("previous")
    qtbot.wait(20)
    earlier = demo.session.timepoints()[-2].label
    assert demo.prior.caption.text().startswith(earlier)
    with pytest.raises(ValueError, match="unknown comparison"):
        demo.prior.set_compare_with("last year")


def test_baseline_has_nothing_to_compare_with(qtbot, demo: MainWindow):
    demo.session.select_timepoint(demo.session.timepoints()[0].id)
    qtbot.wait(20)
    assert demo.layout_view.layout_name == "1x1"  # the reader did not choose a layout
    assert demo.prior.caption.text() == NO_EARLIER


def test_number_keys_apply_presets_and_the_box_says_custom_after_a_drag(qtbot, demo: MainWindow):
    # a series opens with its own DICOM window, and the box says so (not "custom")
    volume = demo.viewer.volume
    assert (demo.viewer.window_center, demo.viewer.window_width) == (
        volume.window_center,
        volume.window_width,
    )
    assert demo.preset_box.currentText() == "dicom"
    actions = demo.view_actions.preset_actions
    assert [a.shortcut().toString() for a in actions.values()][:3] == ["1", "2", "3"]
    assert list(actions) == list(PRESET_NAMES)
    actions["lung"].trigger()
    assert demo.viewer.preset_name == "lung"
    assert demo.preset_box.currentText() == "lung"
    assert (demo.viewer.window_center, demo.viewer.window_width) == (-600.0, 1500.0)
    demo.layout_view.set_layout("1x1")
    qtbot.wait(50)
    drag(qtbot, demo.viewer, (200, 200), (260, 280), button=Qt.MouseButton.RightButton)
    assert demo.preset_box.currentText() == "custom"
    actions["dicom"].trigger()
    assert demo.preset_box.currentText() in ("dicom", "liver")  # the demo files' own window


def test_caliper_on_a_reformat_is_refused_in_the_status_bar(qtbot, demo: MainWindow):
    demo.view_actions.choose_layout("2x2")
    demo.set_tool("bidirectional")
    qtbot.wait(50)
    coronal = demo.layout_view.coronal
    assert coronal.tool == "bidirectional"
    coronal.fit_to_window()
    qtbot.wait(20)
    before = len(demo.session.measurements())
    rows = coronal.image_shape[0]
    drag(qtbot, coronal, (150, rows // 2), (250, rows // 2))
    assert "axial" in demo.statusBar().currentMessage()
    assert len(demo.session.measurements()) == before


def test_cine_key_and_frame_rate_box(qtbot, demo: MainWindow):
    va = demo.view_actions
    assert va.cine_action.shortcut().toString() == "C"
    va.fps_box.setValue(40)
    assert demo.layout_view.cine.fps == 40
    va.faster_action.trigger()
    assert demo.layout_view.cine.fps == 41
    va.cine_action.trigger()
    assert demo.layout_view.cine.running
    va.cine_action.trigger()
    assert not demo.layout_view.cine.running


# -- the comparison timepoint, on a made-up chart ------------------------------------------


def _chart(sums_by_order: list[float]) -> SimpleNamespace:
    tps = [
        SimpleNamespace(id=i + 1, order=i, label=f"TP{i}", series_instance_uid=None)
        for i in range(4)
    ]
    t1 = SimpleNamespace(id=10, code="T1", kind=LesionKind.TARGET, nodal=False)

    def measurement_for(lesion_id, timepoint_id=None):
        mm = sums_by_order[timepoint_id - 1]
        return SimpleNamespace(long_axis_mm=mm, short_axis_mm=None, geometry=None)

    return SimpleNamespace(
        current_timepoint=tps[-1],
        timepoints=lambda: tps,
        lesions=lambda: [t1],
        measurement_for=measurement_for,
    )


@pytest.mark.parametrize(
    ("choice", "sums", "expected"),
    [
        ("baseline", [50.0, 30.0, 40.0, 45.0], "TP0"),
        ("previous", [50.0, 30.0, 40.0, 45.0], "TP2"),
        ("nadir", [50.0, 30.0, 40.0, 45.0], "TP1"),
        ("nadir", [20.0, 30.0, 40.0, 45.0], "TP0"),  # the baseline may be the nadir
    ],
)
def test_comparison_timepoint_choice(qtbot, choice, sums, expected):
    prior = PriorSliceWidget()
    qtbot.addWidget(prior)
    viewer = SeriesViewerWidget()
    qtbot.addWidget(viewer)
    reading = ComparisonReading(_chart(sums), None, viewer, prior)
    prior.set_compare_with(choice)
    assert reading.timepoint().label == expected


def test_protocol_setting_in_the_settings_file_allows_reformat_calipers(qtbot, tmp_path):
    from PySide6.QtWidgets import QComboBox, QMainWindow

    from viewer.image.layout import ViewerLayout
    from viewer.main_window.layouts import REFORMAT_SETTING, ViewActions

    ini = tmp_path / "window.ini"
    window = QMainWindow()
    qtbot.addWidget(window)
    layout = ViewerLayout(SeriesViewerWidget(), PriorSliceWidget())
    ViewActions(window, layout, QComboBox(), str(ini))
    assert not any(view.allow_reformat_calipers for view in layout.planes)  # RECIST default
    ini.write_text(f"[{REFORMAT_SETTING.split('/')[0]}]\n{REFORMAT_SETTING.split('/')[1]}=true\n")
    ViewActions(window, layout, QComboBox(), str(ini))
    assert all(view.allow_reformat_calipers for view in layout.planes)
