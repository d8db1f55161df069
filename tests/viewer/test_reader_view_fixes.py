"""Reader-facing defects found on the demo: the view follows the selected lesion to another
timepoint; a click on the lesion table's empty area deselects; the comparison pane's caliper
labels are kept off the orientation letters and inside the view."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6 import QtCore
from PySide6.QtCore import Qt

from app.demo import DEMO_LESIONS, slice_at
from app.main import open_demo
from viewer.image.volume import slice_of
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt


def _demo(qtbot: Any, window: MainWindow) -> None:
    open_demo(window.session, window.library)
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and window.prior.volume is not None,
        timeout=30000,
    )


def _lesion(window: MainWindow, code: str) -> Any:
    return next(x for x in window.session.lesions() if x.code == code)


def _settled(qtbot: Any, box: Any) -> None:
    """Wait until the view's range stops changing (a pane being laid out is fitted again)."""
    ranges: list[Any] = []

    def still() -> bool:
        ranges.append(box.viewRange())
        return len(ranges) > 3 and ranges[-1] == ranges[-2] == ranges[-3]

    qtbot.waitUntil(still, timeout=5000)


def _z(code: str) -> float:
    return next(d.z_mm for d in DEMO_LESIONS if d.code == code)


def test_another_timepoint_shows_the_selected_lesions_slice_there(
    qtbot, window: MainWindow
) -> None:
    """T2 selected at C3, the reader scrolls away and chooses baseline: baseline's T2 image
    (before, the first measured image of baseline, T1's); no lesion selected: no move."""
    _demo(qtbot, window)
    session = window.session
    baseline, c3 = session.timepoints()
    t2 = _lesion(window, "T2")
    window.lesion_table.select_lesion(t2.id)
    window.viewer.set_slice(0)
    session.select_timepoint(baseline.id)
    volume = window.viewer.volume
    assert volume.series_instance_uid == baseline.series_instance_uid
    measured = session.measurement_for(t2.id, baseline.id)
    assert window.lesion_table.selected_lesion_id() == t2.id
    assert window.viewer.slice_index == slice_of(volume, measured.geometry)
    assert window.viewer.slice_index != slice_at(volume, _z("T1"))

    window.viewer.set_slice(3)  # and back to C3: T2's C3 image
    session.select_timepoint(c3.id)
    assert window.viewer.slice_index == slice_of(
        window.viewer.volume, session.measurement_for(t2.id, c3.id).geometry
    )

    window.lesion_table.select_lesion(None)  # nothing selected: the view is not moved to one
    session.select_timepoint(baseline.id)
    assert window.viewer.slice_index == slice_at(window.viewer.volume, _z("T1"))  # as before


def test_a_lesion_not_measured_there_is_shown_at_its_position(qtbot, window: MainWindow) -> None:
    """T2 has no baseline caliper: choosing baseline with T2 selected shows the baseline slice
    nearest the patient position of T2's C3 caliper (no comparison pane shows it there)."""
    _demo(qtbot, window)
    session = window.session
    baseline, _c3 = session.timepoints()
    t2 = _lesion(window, "T2")
    session.delete_measurement(session.measurement_for(t2.id, baseline.id).id)
    window.lesion_table.select_lesion(t2.id)
    window.viewer.set_slice(0)
    session.select_timepoint(baseline.id)
    assert window.lesion_table.selected_lesion_id() == t2.id
    assert window.viewer.slice_index == slice_at(window.viewer.volume, _z("T2"))


def test_a_click_on_the_tables_empty_area_deselects_the_lesion(qtbot, window: MainWindow) -> None:
    """Below the last row: no lesion selected, the caliper no longer highlighted, the Next
    caliper bar back to a new lesion; nothing recorded changes."""
    _demo(qtbot, window)
    session = window.session
    table = window.lesion_table
    t1 = _lesion(window, "T1")
    table.select_lesion(t1.id)
    qtbot.waitUntil(lambda: bool(window.viewer._layer.items))
    assert window.viewer._layer.selected_id is not None
    before = [(m.id, m.long_axis_mm) for m in session.measurements()]
    lesions_before = list(session.lesions())
    last = table.visualRect(table.model().index(table.model().rowCount() - 1, 0))
    empty = QtCore.QPoint(last.center().x(), last.bottom() + 40)
    assert not table.indexAt(empty).isValid()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert table.selected_lesion_id() is None
    assert window.viewer._layer.selected_id is None
    assert window.assign_bar.choice().lesion_id is None  # the next caliper: a new lesion
    assert [(m.id, m.long_axis_mm) for m in session.measurements()] == before
    assert list(session.lesions()) == lesions_before


@pytest.mark.parametrize("selected", [True, False])
def test_comparison_labels_stay_off_the_letters_and_inside_the_view(
    qtbot, window: MainWindow, selected: bool
) -> None:
    """The baseline T1 caliper in the comparison pane, panned under "R": its label moves off
    the letter and stays inside the pane (before, it lay under "R", cut by the pane's edge);
    with T1 selected (its key slice) and without (the timepoint's calipers)."""
    _demo(qtbot, window)
    prior = window.prior
    t1 = _lesion(window, "T1")
    window.lesion_table.select_lesion(t1.id if selected else None)
    window.viewer.set_slice(slice_at(window.viewer.volume, _z("T1")))
    qtbot.waitUntil(lambda: bool(prior.caliper_labels), timeout=5000)
    _settled(qtbot, prior.viewer.view_box)  # the pane is laid out (and fitted) once shown
    baseline = window.session.timepoints()[0]
    geometry = window.session.measurement_for(t1.id, baseline.id).geometry
    (x0, y0), (x1, y1) = geometry.long_axis.start_px, geometry.long_axis.end_px
    end = QtCore.QPointF(*((x0, y0) if x0 > x1 else (x1, y1)))  # where the label starts
    box = prior.viewer.view_box
    view = prior.viewer.graphics_view
    letter = next(r for r in prior.viewer.label_keep_out()[0] if r.center().x() < view.width() / 4)
    target = box.mapSceneToView(QtCore.QPointF(letter.left() - 4, letter.center().y() + 4))
    (left, right), (top, bottom) = box.viewRange()
    tx, ty = end.x() - target.x(), end.y() - target.y()
    box.setRange(xRange=(left + tx, right + tx), yRange=(top + ty, bottom + ty), padding=0)
    visible = QtCore.QRectF(view.mapToScene(view.viewport().rect()).boundingRect())
    visible = visible.adjusted(-0.5, -0.5, 0.5, 0.5)

    def clear() -> bool:
        letters = prior.viewer.label_keep_out()[0]
        boxes = prior.label_boxes()
        return bool(boxes) and all(
            visible.contains(b) and not any(b.intersects(r) for r in letters) for b in boxes
        )

    qtbot.waitUntil(clear, timeout=2000)
    # the caliper itself did not move: its end is still at the letter
    assert abs(box.mapViewToScene(end).x() - (letter.left() - 4)) < 1.0


def test_selecting_a_lesion_on_a_reformat_shows_the_plane_through_it(
    qtbot, window: MainWindow
) -> None:
    """At C3 the comparison pane shows baseline's T2; selecting T2 on the coronal reformat
    shows the coronal plane through T2's caliper (before, T2's axial slice number was set as
    the coronal index: a plane far from the lesion)."""
    _demo(qtbot, window)
    session = window.session
    _, c3 = session.timepoints()
    session.select_timepoint(c3.id)
    window.lesion_table.select_lesion(None)
    window.viewer.set_orientation("coronal")
    t2 = _lesion(window, "T2")
    window.lesion_table.select_lesion(t2.id)
    shown = window.viewer.slice_index
    axis = session.measurement_for(t2.id, c3.id).geometry.long_axis
    middle = tuple((p + q) / 2 for p, q in zip(axis.start_lps_mm, axis.end_lps_mm, strict=True))
    window.viewer.set_position(middle)  # the plane through T2's middle
    assert window.viewer.orientation == "coronal"
    assert shown == window.viewer.slice_index
