"""The Smart caliper in the main window (issue 16): key M, one click measures a real metastasis.

Real CT: ``crlm-ct-1006`` (colorectal liver metastases); a metastasis of about 8 mm sits at
slice 38 (0-based, caudal first), row 247, column 147.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6 import QtCore

from recist.model import Measurement, Method, Segment
from tests.viewer.test_workflow import add_timepoint, to_viewport
from viewer.main_window.window import MainWindow
from viewer.response.panel import HEADERS

pytestmark = pytest.mark.qt

METASTASIS = (38, 247, 147)  # slice, row, column


def _open(qtbot, window: MainWindow, shared_data, slice_index: int = METASTASIS[0]) -> None:
    """CRLM-CT-1006 at a new patient's baseline, on *slice_index*, the whole image in view."""
    window.add_patient("CRLM-1006")
    window.open_folder(str(shared_data / "crlm-ct-1006"))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=20000
    )
    add_timepoint(qtbot, window, "baseline")
    window.viewer.set_slice(slice_index)
    window.viewer.view_box.autoRange(padding=0.0)


def _baseline_then_c3(qtbot, window: MainWindow, shared_data) -> tuple[object, Measurement]:
    """The metastasis measured with one click at the baseline, then a C3 timepoint with that
    lesion chosen in the Next caliper bar; (the click's LPS point, the baseline measurement)."""
    _open(qtbot, window, shared_data)
    point = window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (baseline,) = window.session.measurements()
    add_timepoint(qtbot, window, "C3")  # the same series stands in for the follow-up scan
    window.assign_bar.select_lesion(baseline.lesion_id)
    return point, baseline


def _click(qtbot, window: MainWindow, row: float, col: float) -> None:
    qtbot.mouseClick(
        window.viewer.graphics_view.viewport(),
        QtCore.Qt.MouseButton.LeftButton,
        pos=to_viewport(window, col, row),
    )


def test_key_m_then_one_click_stores_a_semi_automatic_caliper_with_its_contour(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    _open(qtbot, window, shared_data)
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_M)
    assert window.viewer.tool == "smart"
    assert window.tool_actions["smart"].isChecked()
    _click(qtbot, window, METASTASIS[1], METASTASIS[2])
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (m,) = window.session.measurements()
    assert m.method is Method.SEMI_AUTO
    assert 5.0 <= (m.long_axis_mm or 0) <= 14.0
    assert m.short_axis_mm is not None
    assert m.short_axis_mm <= m.long_axis_mm
    contour = window.session.segmentation_for(m.id)
    assert contour is not None
    assert 0.1 < contour.volume_ml < 2.0
    assert window.viewer.contours  # outlined on the image
    assert "Ctrl+Z rejects" in window.smart_caliper.last_message
    assert window.viewer.slice_index == m.geometry.slice_index
    # Undo rejects the proposal
    window.session.undo()
    assert window.session.measurements() == []
    assert window.viewer.contours == []


def test_a_click_in_air_is_refused_with_the_reason_and_stores_nothing(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    _open(qtbot, window, shared_data)
    window.set_tool("smart")
    task = window.smart_caliper.measure_at(window.viewer.display_to_lps(8.0, 8.0))
    assert task is not None
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    assert "in air" in window.smart_caliper.last_message
    assert window.session.measurements() == []


def test_cancel_stops_the_segmentation(qtbot, window: MainWindow, shared_data) -> None:
    _open(qtbot, window, shared_data)
    task = window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    assert task is not None
    window.smart_caliper.cancel_button.click()
    assert task.wait(20)
    qtbot.wait(50)
    assert window.smart_caliper.task is None
    assert window.session.measurements() == []
    assert "cancelled" in window.smart_caliper.last_message


def test_follow_up_the_selected_lesion_is_measured_again_with_one_click(
    qtbot,
    window: MainWindow,
    shared_data,  # noqa: F811
) -> None:
    point, baseline = _baseline_then_c3(qtbot, window, shared_data)
    window.viewer.set_slice(METASTASIS[0])
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (follow_up,) = window.session.measurements()
    assert follow_up.lesion_id == baseline.lesion_id
    assert follow_up.timepoint_id != baseline.timepoint_id
    assert follow_up.method is Method.SEMI_AUTO
    assert follow_up.long_axis_mm == baseline.long_axis_mm


def test_follow_up_a_click_beside_the_selected_lesion_finds_it(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    _, baseline = _baseline_then_c3(qtbot, window, shared_data)
    window.viewer.set_slice(METASTASIS[0])
    # 7 voxels (5.6 mm) to the side: in the liver just outside the 8 mm metastasis
    beside = window.viewer.display_to_lps(float(METASTASIS[2] + 7), float(METASTASIS[1]))
    window.smart_caliper.measure_at(beside)
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    (follow_up,) = window.session.measurements()
    assert follow_up.lesion_id == baseline.lesion_id
    assert follow_up.long_axis_mm is not None
    assert baseline.long_axis_mm is not None
    assert abs(follow_up.long_axis_mm - baseline.long_axis_mm) <= 1.0


def test_key_0_records_the_chosen_lesion_as_disappeared(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    from recist.model import MeasurementStatus

    _open(qtbot, window, shared_data)
    window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (baseline,) = window.session.measurements()
    add_timepoint(qtbot, window, "C3")
    window.assign_bar.select_lesion(baseline.lesion_id)
    window.activateWindow()  # the timepoint dialog had it
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_0)
    (gone,) = window.session.measurements()
    assert gone.lesion_id == baseline.lesion_id
    assert gone.status is MeasurementStatus.ABSENT
    assert "disappeared" in window.smart_caliper.last_message
    assert "disappeared" in window.statusBar().currentMessage()
    window.session.undo()  # Ctrl+Z: the message saying it was recorded goes with it
    assert "disappeared" not in window.statusBar().currentMessage()


def test_a_smart_click_on_a_caliper_measures_the_lesion_under_it(qtbot, viewer) -> None:
    """A caliper drawn across a lesion lies where the reader clicks with the Smart caliper:
    the click still asks for the smart measurement there (before, the caliper took the click
    and nothing happened)."""
    from tests.viewer.test_series_viewer_widget import to_viewport
    from viewer.image.overlays import MeasurementOverlay, make_geometry

    index = viewer.slice_index
    line = ((200.0, 250.0), (260.0, 250.0))
    viewer.set_overlays(
        [MeasurementOverlay(7, "T1 40.0 mm", make_geometry(viewer.volume, index, line))]
    )
    viewer.set_tool("smart")
    asked: list[tuple[float, float, float]] = []
    viewer.smart_caliper_requested.connect(asked.append)
    qtbot.mouseClick(
        viewer.graphics_view.viewport(),
        QtCore.Qt.MouseButton.LeftButton,
        pos=to_viewport(viewer, 230.0, 250.0),
    )
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=3000)
    expected = viewer.display_to_lps(230.0, 250.0)
    assert asked[0] == pytest.approx(expected, abs=1.0)
    assert viewer.selected_measurement_id == 7


def test_the_liver_response_follows_a_smart_caliper_at_follow_up(
    qtbot,
    window: MainWindow,
    shared_data,  # noqa: F811
) -> None:
    """Found on the demo: after a Smart caliper replaced a C3 measurement, the overall row said
    -50.9 % and the liver column still "PR (-51.7 %)", the liver response of before the edit."""
    _open(qtbot, window, shared_data)
    window.assign_bar.set_organ("liver")
    point = window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (base,) = window.session.measurements()
    add_timepoint(qtbot, window, "C3")
    half = replace(base.geometry, long_axis=_halved(base.geometry.long_axis), short_axis=None)
    window.session.record_measurement(half, lesion_id=base.lesion_id)
    panel = window.response_panel
    assert _cell(panel, "C3", "Liver") == "PR (-50.0 %)"
    window.assign_bar.select_lesion(base.lesion_id)
    window.viewer.set_slice(METASTASIS[0])
    window.smart_caliper.measure_at(point)  # replaces the C3 measurement: the same size again
    qtbot.waitUntil(lambda: _cell(panel, "C3", "Δ baseline") == "+0.0 %", timeout=20000)
    assert _cell(panel, "C3", "Liver") == "SD (+0.0 %)"


def _halved(segment: Segment) -> Segment:
    """*segment* from its first end to its middle."""
    (r0, c0), (r1, c1) = segment.start_px, segment.end_px
    (x0, y0, z0), (x1, y1, z1) = segment.start_lps_mm, segment.end_lps_mm
    middle_px = ((r0 + r1) / 2, (c0 + c1) / 2)
    middle_mm = ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2)
    return Segment(segment.start_px, middle_px, segment.start_lps_mm, middle_mm)


def _cell(panel, label: str, header: str) -> str:  # noqa: ANN001
    """The text the response panel shows in column *header* of timepoint *label*."""
    row = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())].index(label)
    item = panel.table.item(row, HEADERS.index(header))
    return item.text() if item is not None else ""


def test_the_result_is_the_clicked_lesions_when_another_is_chosen_while_it_segments(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    """A reader clicks (Smart caliper) and presses N before the proposal comes back: the
    proposal still measures the lesion the click was for (it once replaced the next lesion's
    measurement with it)."""
    from recist.model import LesionKind

    _open(qtbot, window, shared_data)
    point = window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (first,) = window.session.measurements()
    window.assign_bar.select_new(LesionKind.TARGET)
    assert window.assign_bar.choice().lesion_id is None
    window.smart_caliper.measure_at(point)
    window.assign_bar.select_lesion(first.lesion_id)  # chosen while the task runs
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    qtbot.waitUntil(lambda: len(window.session.measurements()) == 2, timeout=5000)
    by_lesion = {m.lesion_id: m for m in window.session.measurements()}
    assert by_lesion[first.lesion_id] == first  # the chosen lesion's caliper is untouched
    assert len(window.session.lesions()) == 2  # the click made a new target


def test_a_proposal_is_not_stored_at_a_timepoint_chosen_while_it_segments(
    qtbot,
    window: MainWindow,
    shared_data,
) -> None:
    """The follow-up shows the same series (attached to both timepoints): switching to the
    baseline while the follow-up's click segments must not store the result at the baseline."""
    _open(qtbot, window, shared_data)
    (baseline,) = window.session.timepoints()
    add_timepoint(qtbot, window, "C3")
    volume = window.viewer.volume
    task = window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    assert task is not None
    window.session.select_timepoint(baseline.id)  # while the task runs
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    qtbot.wait(50)
    assert window.viewer.volume is volume  # the same series on screen
    assert window.session.measurements() == []
    assert "timepoint changed" in window.smart_caliper.last_message


def test_esc_cancels_a_running_segmentation(qtbot, window: MainWindow, shared_data) -> None:
    _open(qtbot, window, shared_data)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.viewer.setFocus()
    task = window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    assert task is not None
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_Escape)
    assert task.is_cancelled
    assert task.wait(20)
    qtbot.wait(50)
    assert window.session.measurements() == []
    assert "cancelled" in window.smart_caliper.last_message
    assert not window.smart_caliper.cancel_button.isVisible()
    # nothing running: Esc is the image's again (it cancels a caliper being drawn)
    fired: list[bool] = []
    window.smart_caliper.cancel_key.triggered.connect(lambda *_: fired.append(True))
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_Escape)
    assert fired == []


def test_follow_up_of_a_hand_drawn_caliper_finds_the_lesion_beside_the_click() -> None:
    """The demo's T1 was measured by hand at baseline (no contour, no mean HU); at C3 a click
    10 mm below the middle of that caliper was refused ("no lesion edge found")."""
    from pathlib import Path

    from app.segmentation.follow_up import EarlierLesion
    from storage.dicom import load_series
    from viewer.main_window.smart_caliper import _measure

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo"
    followup = load_series(demo / "followup")
    earlier = EarlierLesion((-94.24, 39.6, -296.44), 27.6)  # T1's baseline caliper, by hand
    click = tuple(float(v) for v in followup.index_to_lps(5, 268, 124))
    found = _measure(followup, click, earlier)(lambda _: None, lambda: False)
    assert 9.0 <= found.long_axis_mm <= 16.0  # T1 at C3: 12.7 mm by hand
    assert found.slice_index in (4, 5, 6)


def test_the_status_bar_gives_the_stored_diameters(qtbot, window: MainWindow) -> None:
    """The demo's T1 at baseline: the proposal's short axis, rounded from the contour, read
    19.0 mm in the status bar while the stored caliper (19.05 mm) read 19.1 in the table."""
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "baseline"
    window.add_patient("DEMO-T1")
    window.open_folder(str(demo))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=20000
    )
    add_timepoint(qtbot, window, "baseline")
    window.smart_caliper.measure_at((-95.2, 39.6, -301.4))
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (m,) = window.session.measurements()
    assert m.long_axis_mm is not None
    assert m.short_axis_mm is not None
    shown = f"{m.long_axis_mm:.1f} × {m.short_axis_mm:.1f} mm"
    assert shown in window.smart_caliper.last_message


def test_key_0_at_the_baseline_is_refused(qtbot, window: MainWindow, shared_data) -> None:
    """At the baseline, 0 set the chosen target absent (0 mm): the follow-up became PD."""
    from recist.model import MeasurementStatus

    _open(qtbot, window, shared_data)
    window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    (m,) = window.session.measurements()
    window.assign_bar.select_lesion(m.lesion_id)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.viewer.setFocus()
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_0)
    (same,) = window.session.measurements()
    assert same.status is MeasurementStatus.MEASURED
    assert same.long_axis_mm == m.long_axis_mm
    assert "follow-up" in window.smart_caliper.last_message


def test_the_contours_come_back_with_their_series(qtbot, window: MainWindow, shared_data) -> None:
    """Another series shown (the Series panel) and then this one again: the Smart caliper's
    outline was gone until a measurement changed."""
    from pathlib import Path

    from storage.dicom import load_series

    _open(qtbot, window, shared_data)
    volume = window.viewer.volume
    window.smart_caliper.measure_at(
        window.viewer.display_to_lps(float(METASTASIS[2]), float(METASTASIS[1]))
    )
    qtbot.waitUntil(lambda: bool(window.viewer.contours), timeout=20000)
    other = load_series(Path(__file__).resolve().parents[2] / "resources" / "demo" / "followup")
    window.show_volume(other)
    assert window.viewer.volume is other
    assert window.viewer.contours == []  # not this series' contour
    window.show_volume(volume)
    assert window.viewer.volume is volume
    assert len(window.viewer.contours) == 1


def test_a_smart_click_on_a_reformat_says_why_it_measures_nothing(
    qtbot, window: MainWindow, shared_data
) -> None:
    _open(qtbot, window, shared_data)
    window.set_tool("smart")
    window.viewer.set_orientation("coronal")  # Alt+2
    viewport = window.viewer.graphics_view.viewport()
    qtbot.mouseClick(viewport, QtCore.Qt.MouseButton.LeftButton, pos=viewport.rect().center())
    qtbot.wait(50)
    assert window.smart_caliper.task is None
    assert "axial slice" in window.statusBar().currentMessage()
    assert window.session.measurements() == []


class _Loading:
    """A series still loading: only slice ``k`` decoded, the others zeros, until ``wait``."""

    def __init__(self, volume, k: int) -> None:  # noqa: ANN001
        self._volume = volume
        self.voxels = volume.voxels.copy()
        self.voxels[:k] = 0
        self.voxels[k + 1 :] = 0
        self.is_complete = False
        self.waited = 0

    def wait(self, timeout: float | None = None) -> None:
        self.waited += 1
        self.voxels[...] = self._volume.voxels  # the loader finishes
        self.is_complete = True

    def __getattr__(self, name: str):  # noqa: ANN204 - geometry of the real series
        return getattr(self._volume, name)


def test_a_click_while_the_series_loads_waits_for_its_slices() -> None:
    """A Smart caliper click on a slice already shown while the rest of the series loaded
    segmented the slices not decoded yet as 0 HU tissue."""
    from pathlib import Path

    from storage.dicom import load_series
    from viewer.main_window.smart_caliper import _measure

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo" / "baseline"
    volume = load_series(demo)
    click = tuple(float(v) for v in volume.index_to_lps(5, 257, 120))  # T1 at baseline
    whole = _measure(volume, click)(lambda _: None, lambda: False)
    loading = _Loading(volume, 5)
    found = _measure(loading, click)(lambda _: None, lambda: False)
    assert loading.waited >= 1
    assert found.long_axis_mm == whole.long_axis_mm
    assert found.volume_ml == pytest.approx(whole.volume_ml)


def test_key_0_on_a_smart_caliper_lesion_removes_its_outline(
    qtbot, window: MainWindow, shared_data
) -> None:
    point, baseline = _baseline_then_c3(qtbot, window, shared_data)
    window.smart_caliper.measure_at(point)
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    assert len(window.viewer.contours) == 1
    window.smart_caliper.set_disappeared()  # key 0
    assert window.viewer.contours == []  # it stayed outlined, a lesion recorded as gone
    window.session.undo()
    assert len(window.viewer.contours) == 1


def test_follow_up_of_a_smart_caliper_lesion_tries_past_a_seed_on_its_rim() -> None:
    """The demo's T1, Smart-caliper-measured at baseline (83.7 HU), at C3 from a click 9 mm
    below it: the seed that best matched 83.7 HU lay on the lesion's rim (a mean between the
    darker lesion and the liver) and was refused, "no edge around the point"."""
    from pathlib import Path

    from app.segmentation.follow_up import EarlierLesion
    from storage.dicom import load_series
    from viewer.main_window.smart_caliper import _measure

    followup = load_series(Path(__file__).resolve().parents[2] / "resources" / "demo" / "followup")
    earlier = EarlierLesion((-91.621, 33.57, -301.44), 28.6, mean_hu=83.7)
    click = tuple(float(v) for v in followup.index_to_lps(5, 266, 116))
    found = _measure(followup, click, earlier)(lambda _: None, lambda: False)
    assert 9.0 <= found.long_axis_mm <= 16.0  # T1 at C3: 12.7 mm by hand
