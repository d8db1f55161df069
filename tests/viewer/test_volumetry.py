"""Liver volumetry and virtual resection in the main window (issue 16).

Real CT: ``crlm-ct-1006`` (colorectal liver metastases, 51 slices of 5 mm); slice 30, row 260,
column 110 is in the right liver lobe.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from PySide6 import QtCore

from app.segmentation import volumetry
from app.segmentation.resection import resection_from_cut, tumours_touching, union_of_boxes
from recist.endpoints import FlrSource
from tests.viewer.test_smart_caliper import METASTASIS, _click
from tests.viewer.test_smart_caliper import _open as open_crlm
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

SEED = (30, 260, 110)  # slice, row, column
CUT = ((150.0, 140.0), (380.0, 140.0))  # (row, column) ends of a cut through the liver


def _open(qtbot, window: MainWindow, shared_data) -> None:
    open_crlm(qtbot, window, shared_data, SEED[0])


def _segment(qtbot, window: MainWindow) -> None:
    action = window.findChild(QtCore.QObject, "action_liver_volumetry")
    assert action is not None  # Tools → Liver volumetry…
    action.trigger()
    panel = window.volumetry
    assert panel.isVisible()
    assert panel.mode == "seed"
    window.viewer.set_slice(SEED[0])
    _click(qtbot, window, SEED[1], SEED[2])
    assert panel.task is not None  # off the GUI thread
    assert panel.progress.isVisible()
    assert panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: panel.liver is not None, timeout=30000)
    assert not panel.progress.isVisible()


def test_seed_then_cut_shows_the_volumes_and_the_function_s_flr_then_sends_it(
    qtbot, window: MainWindow, shared_data
) -> None:
    _open(qtbot, window, shared_data)
    assert window.session.measured_flr_percent() is None
    _segment(qtbot, window)
    panel = window.volumetry
    total = panel.result.total_liver_ml
    assert 800.0 < total < 3000.0
    assert panel.labels["total_liver_ml"].text() == f"{total:.1f} mL"
    assert panel.labels["flr_percent"].text() == "—"  # no cut yet
    assert window.viewer.contours  # the liver is outlined
    assert not panel.send_button.isEnabled()

    # the cut: two clicks on the axial slice
    panel.cut_button.click()
    _click(qtbot, window, *CUT[0])
    _click(qtbot, window, *CUT[1])
    assert len(panel.cut_points) == 2
    r = panel.result
    assert 0.0 < r.flr_percent < 100.0
    assert 0.0 < r.resected_ml < total
    liver = panel.liver.region.mask
    shape, spacing = liver.shape, window.viewer.volume.spacing_mm
    resected = resection_from_cut(shape, spacing, *panel.cut_points)
    expected = volumetry(liver, spacing, resected)
    assert r.flr_percent == pytest.approx(expected.flr_percent)
    assert panel.labels["flr_percent"].text() == f"{expected.flr_percent:.1f} %"
    assert len(window.viewer.contours) == 2  # remnant and resected outlined

    # the other side is resected: the remnant and the resection swap
    panel.swap_button.click()
    assert panel.result.resected_ml == pytest.approx(expected.remnant_ml)

    # hand-over: stored (audited) and in the conversion record
    assert panel.send_button.isEnabled()
    panel.send_button.click()
    flr = window.session.measured_flr_percent()
    assert flr == Decimal(str(round(panel.result.flr_percent, 1))).quantize(Decimal("0.1"))
    assert window.session.endpoints.conversion_form().flr_pct == str(flr)
    stored = window.session.endpoints.records().conversion
    assert stored is not None
    assert stored.flr_source is FlrSource.MEASURED  # not "entered": the report says "(measured)"
    assert window.session.liver_volumetry() is not None
    assert "sent to the conversion record" in panel.last_message
    db = window.session.database
    assert [e.action for e in db.audit_events(entity="conversion_record")] == ["create"]
    # a moved cut is sent again: the stored resection and the record are updated (audited)
    panel.swap_button.click()
    panel.send_button.click()
    assert window.session.measured_flr_percent() == Decimal(
        str(round(panel.result.flr_percent, 1))
    ).quantize(Decimal("0.1"))
    assert window.session.endpoints.conversion_form().flr_pct == str(
        window.session.measured_flr_percent()
    )
    assert [e.action for e in db.audit_events(entity="conversion_record")][-1] == "update"

    # the patient opened again: the open panel shows the stored liver with the same cut
    sent = panel.result.flr_percent
    cut = list(panel.cut_points)
    window.session.open_patient("CRLM-1006")
    assert panel.liver is not None
    assert panel.resection == "cut"
    assert np.allclose(panel.cut_points, cut, atol=0.01)
    assert panel.flip is False  # swapped twice
    assert panel.result.flr_percent == pytest.approx(sent, abs=0.05)
    assert panel.labels["flr_percent"].text() == f"{sent:.1f} %"


def test_cancel_stops_the_segmentation_and_keeps_nothing(
    qtbot, window: MainWindow, shared_data
) -> None:
    _open(qtbot, window, shared_data)
    window.findChild(QtCore.QObject, "action_liver_volumetry").trigger()
    panel = window.volumetry
    task = panel.segment_at(window.viewer.display_to_lps(SEED[2], SEED[1]))
    assert task is not None
    panel.cancel_button.click()
    assert task.is_cancelled
    assert panel.task is None
    assert not panel.progress.isVisible()
    assert "cancelled" in panel.last_message
    task.wait(30.0)
    qtbot.wait(50)  # a late result of the cancelled task is ignored
    assert panel.liver is None
    assert panel.labels["total_liver_ml"].text() == "—"


def test_a_seed_in_air_is_refused_with_the_reason(qtbot, window: MainWindow, shared_data) -> None:
    _open(qtbot, window, shared_data)
    panel = window.volumetry
    panel.open()
    panel.segment_at(window.viewer.display_to_lps(8.0, 8.0))
    qtbot.waitUntil(lambda: panel.task is None, timeout=20000)
    assert "in air" in panel.last_message
    assert panel.liver is None


def test_union_of_boxes_clips_to_the_grid() -> None:
    box = np.ones((2, 3, 3), dtype=bool)
    out = union_of_boxes((4, 4, 4), [((3, 2, -1), box)])
    assert out.sum() == 1 * 2 * 2
    assert out[3, 2:4, 0:2].all()


def test_tumours_touching_the_liver_are_added_to_it() -> None:
    liver = np.zeros((3, 10, 10), dtype=bool)
    liver[:, 2:6, 2:6] = True
    near = ((1, 6, 3), np.ones((1, 2, 2), dtype=bool))  # touches the liver's edge
    far = ((1, 8, 8), np.ones((1, 2, 2), dtype=bool))
    out = tumours_touching(liver, [near, far])
    assert out.sum() == 4
    assert out[1, 6:8, 3:5].all()


def test_a_smart_caliper_metastasis_counts_as_tumour(
    qtbot, window: MainWindow, shared_data
) -> None:
    _open(qtbot, window, shared_data)
    window.set_tool("smart")
    window.viewer.set_slice(METASTASIS[0])
    window.smart_caliper.measure_at(window.viewer.display_to_lps(METASTASIS[2], METASTASIS[1]))
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    _segment(qtbot, window)
    panel = window.volumetry
    panel.set_cut(*CUT)
    r = panel.result
    (m,) = window.session.measurements()
    contour = window.session.segmentation_for(m.id)
    assert 0.1 < r.tumour_ml < 2.0
    assert r.tumour_ml == pytest.approx(contour.volume_ml)  # the lesion's own volume
    assert panel.labels["tumour_ml"].text() == f"{r.tumour_ml:.1f} mL"
    boxes = panel.tumour_boxes()
    liver = panel.liver.region.mask
    tumours = tumours_touching(liver, boxes)
    spacing = window.viewer.volume.spacing_mm
    resected = resection_from_cut(liver.shape, spacing, *CUT)
    from app.segmentation.resection import lesion_tumour_volume

    own = lesion_tumour_volume(
        spacing, resected, [(contour.mask.offset, contour.mask.mask, contour.volume_ml)]
    )
    expected = volumetry(liver | tumours, spacing, resected, tumours, tumour_volume=own)
    assert r.flr_percent == pytest.approx(expected.flr_percent)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    assert r.total_liver_ml == pytest.approx((liver | tumours).sum() * voxel_ml)


def test_dragging_an_end_of_the_cut_line_moves_the_cut(
    qtbot, window: MainWindow, shared_data
) -> None:
    _open(qtbot, window, shared_data)
    _segment(qtbot, window)
    panel = window.volumetry
    panel.set_cut(*CUT)
    before = panel.result.flr_percent
    item = panel._cut_item
    handle = item.getHandles()[1]
    item.movePoint(handle, QtCore.QPointF(200.0, 380.0), finish=True)  # (x = column, y = row)
    assert panel.cut_points[1] == pytest.approx((380.0, 200.0), abs=0.5)
    assert panel.result.flr_percent != pytest.approx(before)
    # another patient: the liver and the cut are forgotten (nothing to send)
    window.add_patient("OTHER-1")
    assert panel.liver is None
    assert panel.cut_points == []
    assert not panel.send_button.isEnabled()
    assert panel.labels["flr_percent"].text() == "—"


def test_another_timepoint_does_not_show_or_send_this_timepoint_s_liver(
    qtbot, window: MainWindow, shared_data
) -> None:
    """The baseline's liver and cut stayed in the dock at C3 and "Send" stored them as C3's
    (seen on the demo: baseline FLR shown beside the follow-up, stored with C3's timepoint id)."""
    from tests.viewer.test_workflow import add_timepoint

    _open(qtbot, window, shared_data)
    _segment(qtbot, window)
    panel = window.volumetry
    panel.set_cut(*CUT)
    assert panel.send_button.isEnabled()
    panel.send_button.click()
    (baseline,) = window.session.timepoints()
    stored = window.session.liver_volumetry()
    assert stored is not None
    assert stored.timepoint_id == baseline.id
    add_timepoint(qtbot, window, "C3")  # the same series attached to C3
    assert panel.liver is None
    assert panel.result is None
    assert panel.labels["flr_percent"].text() == "—"
    assert not panel.send_button.isEnabled()
    assert not panel.send_to_conversion()
    assert window.session.liver_volumetry().id == stored.id  # nothing stored at C3
    # back at the baseline: its stored liver and cut are shown again
    window.session.select_timepoint(baseline.id)
    assert panel.liver is not None
    assert panel.labels["flr_percent"].text() == f"{stored.values['flr_percent']:.1f} %"


def test_a_liver_segmenting_when_the_timepoint_changes_is_dropped(
    qtbot, window: MainWindow, shared_data
) -> None:
    from tests.viewer.test_workflow import add_timepoint

    _open(qtbot, window, shared_data)
    window.volumetry.open()
    panel = window.volumetry
    task = panel.segment_at(window.viewer.display_to_lps(SEED[2], SEED[1]))
    assert task is not None
    add_timepoint(qtbot, window, "C3")  # same series, another timepoint, while it runs
    task.wait(30.0)
    qtbot.wait(50)
    assert panel.liver is None
    assert panel.task is None


def test_esc_cancels_the_liver_segmentation(qtbot, window: MainWindow, shared_data) -> None:
    _open(qtbot, window, shared_data)
    panel = window.volumetry
    panel.open()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.viewer.setFocus()
    task = panel.segment_at(window.viewer.display_to_lps(SEED[2], SEED[1]))
    assert task is not None
    qtbot.keyClick(window.viewer.graphics_view, QtCore.Qt.Key.Key_Escape)
    assert task.is_cancelled
    assert panel.task is None
    task.wait(30.0)
    qtbot.wait(50)
    assert panel.liver is None


def test_the_tumour_volume_follows_a_new_contour_and_names_lesions_measured_by_hand(
    qtbot, window: MainWindow, shared_data
) -> None:
    """The demo: "Tumour 0.0 mL" beside liver metastases measured by hand, and a Smart caliper
    contour added with the liver shown left the tumour volume and the FLR as they were (Send
    sent them) until the cut was moved."""
    from tests.viewer.test_workflow import drag

    _open(qtbot, window, shared_data)
    _segment(qtbot, window)
    panel = window.volumetry
    panel.set_cut(*CUT)
    assert panel.result.tumour_ml == 0.0
    assert panel.uncounted_label.text() == ""
    # voxels, not the lesions' partial-volume volumes: said where the figure is
    assert "partial-volume" in panel.labels["tumour_ml"].toolTip()
    # a metastasis measured by hand: named, not counted
    window.set_tool("bidirectional")
    window.viewer.set_slice(METASTASIS[0])
    window.assign_bar.set_organ("liver")
    row, col = METASTASIS[1], METASTASIS[2]
    drag(qtbot, window, (col - 5, row), (col + 5, row))
    drag(qtbot, window, (col, row - 4), (col, row + 4))
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=5000)
    (by_hand,) = window.session.measurements()
    code = next(x.code for x in window.session.lesions() if x.id == by_hand.lesion_id)
    assert code in panel.uncounted_label.text()
    before = panel.result
    # the same lesion with the Smart caliper: counted at once, the FLR follows
    window.assign_bar.select_lesion(by_hand.lesion_id)
    window.smart_caliper.measure_at(window.viewer.display_to_lps(col, row))
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    qtbot.waitUntil(lambda: panel.result.tumour_ml > 0.1, timeout=5000)
    assert panel.result.flr_percent != before.flr_percent
    assert panel.labels["tumour_ml"].text() == f"{panel.result.tumour_ml:.1f} mL"
    assert panel.uncounted_label.text() == ""
    # and undone: back to what it was
    window.session.undo()
    assert panel.result.tumour_ml == 0.0
    assert panel.result.flr_percent == pytest.approx(before.flr_percent)


def test_the_demo_s_tumour_volume_is_t1_s_own_volume_in_the_dock_the_flr_and_the_record(
    qtbot, window: MainWindow
) -> None:
    """Seen on the demo: T1 measured with the Smart caliper at baseline showed 7.9 mL (its
    partial-volume corrected volume); the volumetry dock showed "Tumour 5.0 mL" (the voxels
    of its contour) without saying so, and the FLR % subtracted 5.0 mL.  Now the dock, the
    FLR, the stored values and the conversion record use the lesion's own 7.9 mL, split by
    the cut as its voxels are, and the row says what it counted."""
    from app.demo import DEMO_LESIONS, slice_at
    from app.main import open_demo

    open_demo(window.session, window.library)
    session = window.session
    (baseline,) = [t for t in session.timepoints() if t.label == "baseline"]
    session.select_timepoint(baseline.id)
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and window.viewer.volume.is_complete,
        timeout=30000,
    )
    volume = window.viewer.volume
    t1_demo = next(d for d in DEMO_LESIONS if d.code == "T1")
    window.viewer.set_slice(slice_at(volume, t1_demo.z_mm))
    t1 = next(x for x in session.lesions() if x.code == "T1")
    window.assign_bar.select_lesion(t1.id)
    (c0, r0), (c1, r1) = t1_demo.baseline
    window.smart_caliper.measure_at(window.viewer.display_to_lps((c0 + c1) / 2, (r0 + r1) / 2))
    qtbot.waitUntil(lambda: window.smart_caliper.task is None, timeout=20000)
    contour = session.segmentation_for(session.measurement_for(t1.id).id)
    assert contour is not None
    own_ml = contour.volume_ml
    voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    voxels_ml = contour.mask.mask.sum() * voxel_ml
    assert own_ml > voxels_ml + 1.0  # 7.9 mL against 5.0 mL of voxels
    assert f"{own_ml:.1f} mL" in window.smart_caliper.last_message

    panel = window.volumetry
    panel.open()
    panel.segment_at(window.viewer.display_to_lps(110.0, 225.0))  # liver, beside T1
    qtbot.waitUntil(lambda: panel.liver is not None, timeout=30000)
    # one figure for the liver: the status bar's is the dock's total (T1's voxels outside
    # the segmented liver added), not the segmentation's alone
    total = panel.labels["total_liver_ml"].text()
    assert f"liver {total} (" in panel.last_message
    panel.set_cut((150.0, 120.0), (380.0, 120.0))  # through T1 (columns 104-136)
    r = panel.result
    assert r.tumour_ml == pytest.approx(own_ml)
    from app.segmentation.liver import TUMOUR_FROM_LESION_VOLUMES

    assert r.tumour_basis == TUMOUR_FROM_LESION_VOLUMES
    assert r.tumour_resected_ml > 0.5
    assert r.tumour_remnant_ml > 0.5
    liver = panel.liver.region.mask
    tumours = tumours_touching(liver, panel.tumour_boxes())
    whole = liver | tumours
    resected = resection_from_cut(whole.shape, volume.spacing_mm, *panel.cut_points)
    t1_mask = union_of_boxes(whole.shape, [(contour.mask.offset, contour.mask.mask)])
    share = (t1_mask & resected).sum() / t1_mask.sum()
    assert r.tumour_resected_ml == pytest.approx(own_ml * share)
    left = (whole & ~resected).sum() * voxel_ml
    assert r.remnant_ml == pytest.approx(left - r.tumour_remnant_ml)
    assert r.flr_percent == pytest.approx(r.remnant_ml / (r.total_liver_ml - own_ml) * 100)
    # the dock shows the lesion's figure and says what it is
    assert panel.labels["tumour_ml"].text() == f"{own_ml:.1f} mL"
    assert panel.row_labels["tumour_ml"].text() == "Tumour (lesion volumes)"
    tip = panel.labels["tumour_ml"].toolTip()
    assert "partial-volume" in tip
    assert f"{r.tumour_resected_ml:.1f} mL in the resection" in tip
    # sent: the stored figures and the conversion record's FLR are these
    panel.send_button.click()
    stored = session.liver_volumetry()
    assert stored.values["tumour_ml"] == round(own_ml, 1)
    assert stored.values["tumour_basis"] == TUMOUR_FROM_LESION_VOLUMES
    assert stored.values["flr_percent"] == round(r.flr_percent, 1)
    assert session.endpoints.conversion_form().flr_pct == str(session.measured_flr_percent())
    assert float(session.measured_flr_percent()) == pytest.approx(r.flr_percent, abs=0.05)


def test_a_painted_resection_through_a_metastasis_stores_an_flr_the_database_reproduces(
    qtbot, window: MainWindow, shared_data
) -> None:
    """The stored FLR is computed again from the database: the liver and resection masks and
    the lesion contours it names, each with its stored (own) volume."""
    from app.segmentation.editing import Box
    from app.segmentation.resection import lesion_tumour_volume, touches

    _open(qtbot, window, shared_data)
    window.viewer.set_slice(METASTASIS[0])
    window.smart_caliper.measure_at(window.viewer.display_to_lps(METASTASIS[2], METASTASIS[1]))
    qtbot.waitUntil(lambda: bool(window.session.measurements()), timeout=20000)
    _segment(qtbot, window)
    panel = window.volumetry
    shape = panel.liver.region.mask.shape
    # resect the columns up to the metastasis' middle, on every slice
    painted = np.zeros((shape[0], shape[1], METASTASIS[2]), dtype=bool)
    painted[:] = True
    panel.set_painted(Box((0, 0, 0), painted))
    shown = panel.result
    assert 0.0 < shown.tumour_resected_ml < shown.tumour_ml  # the cut goes through it
    panel.send_button.click()

    session = window.session
    liver_row = session.liver_volumetry()
    resection = session.painted_resection(liver_row)
    ids = resection.values["tumour_segmentation_ids"]
    contours = [session.segmentation_for(m.id) for m in session.measurements()]
    tumours = [seg for seg in contours if seg is not None and seg.id in ids]
    assert len(tumours) == 1
    spacing = window.viewer.volume.spacing_mm
    liver = Box(liver_row.mask.offset, liver_row.mask.mask).full(shape)
    resected = Box(resection.mask.offset, resection.mask.mask).full(shape)
    inside = [s for s in tumours if touches(liver, s.mask.offset, s.mask.mask)]
    union = union_of_boxes(shape, [(s.mask.offset, s.mask.mask) for s in inside])
    own = lesion_tumour_volume(
        spacing, resected, [(s.mask.offset, s.mask.mask, s.volume_ml) for s in inside]
    )
    again = volumetry(liver | union, spacing, resected, union, tumour_volume=own)
    assert again.flr_percent == pytest.approx(liver_row.values["flr_percent"], abs=0.05)
    assert again.tumour_ml == pytest.approx(tumours[0].volume_ml)
    assert liver_row.values["tumour_ml"] == round(tumours[0].volume_ml, 1)
    assert liver_row.values["tumour_resected_ml"] == round(shown.tumour_resected_ml, 1)
