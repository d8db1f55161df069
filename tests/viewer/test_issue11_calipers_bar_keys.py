"""Issue 11 points 2, 3, 7 and 8 in the viewer: calipers stay on the image, "are you sure?",
RECIST roles in the Next caliper bar, nodes measured by their short axis, tool keys and text
fields, and the bar's one rule after a caliper."""

from __future__ import annotations

import math

import pytest
from PySide6 import QtCore
from PySide6.QtWidgets import QApplication, QMessageBox

import viewer.lesions.assign_bar as assign_bar
from app.main import DEMO_FOLDER
from recist.model import Lesion, LesionKind
from tests.viewer.test_workflow import add_timepoint, close_error_boxes, drag
from viewer.image.calipers import BidirectionalCaliperRoi
from viewer.image.overlays import MeasurementOverlay, make_geometry
from viewer.lesions.assign_bar import AssignBarWidget
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt
Qt = QtCore.Qt


def _overlay(volume, slice_index, long_px, short_px=None, mid=7, label="T1 23.4 mm"):
    return MeasurementOverlay(mid, label, make_geometry(volume, slice_index, long_px, short_px))


def open_demo_baseline(qtbot, window: MainWindow, subject: str) -> None:
    window.add_patient(subject)
    window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    add_timepoint(qtbot, window, "baseline")
    qtbot.waitUntil(lambda: window.viewer.volume.is_complete, timeout=30000)
    window.viewer.set_slice(9)
    # the whole image, as a fit the view keeps: a bare autoRange is undone by the next refit to
    # the body, which moved the image under the test's second drag when the load ran late
    window.viewer.fit_to_window()
    QApplication.processEvents()


def question_boxes() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "confirmBox" and w.isVisible()
    ]


# -- point 2 -----------------------------------------------------------------------------------


def test_point2_handles_and_whole_calipers_stay_on_the_image(viewer, ct_chest) -> None:
    rows, cols = ct_chest.voxels.shape[1:]
    viewer.set_slice(3)
    viewer.set_overlays(
        [
            _overlay(ct_chest, 3, ((100.0, 100.0), (140.0, 100.0)), mid=1),
            _overlay(
                ct_chest,
                3,
                ((300.0, 300.0), (360.0, 300.0)),
                ((330.0, 280.0), (330.0, 320.0)),
                mid=2,
                label="T2 30.0 mm",
            ),
        ]
    )
    line, pair = viewer.overlay_items[1], viewer.overlay_items[2]
    line.movePoint(line.getHandles()[0], QtCore.QPointF(-80.0, -40.0))
    assert line.end_points()[0] == pytest.approx((-0.5, -0.5))
    line.translate(QtCore.QPointF(10_000.0, 10_000.0))
    (x0, y0), (x1, y1) = line.end_points()
    assert max(x0, x1) == pytest.approx(cols - 0.5)
    assert max(y0, y1) == pytest.approx(rows - 0.5)
    pair.movePoint(pair.handles[1]["item"], QtCore.QPointF(cols + 300.0, 310.0))
    points = [p for axis in pair.axes_points() for p in axis]
    assert all(
        -0.5 - 1e-6 <= x <= cols - 0.5 + 1e-6 and -0.5 - 1e-6 <= y <= rows - 0.5 + 1e-6
        for x, y in points
    )


def test_point2_caliper_longer_than_the_field_of_view_is_refused(qtbot, window: MainWindow) -> None:
    open_demo_baseline(qtbot, window, "P2-FOV")
    window.set_tool("line")
    drag(qtbot, window, (2.0, 2.0), (509.0, 509.0))  # corner to corner: ~700 mm, FOV 500 mm
    errors = close_error_boxes()
    assert errors
    assert "field of view" in errors[0]
    assert "Draw it again" in errors[0]
    assert window.session.lesions() == []
    assert window.viewer.provisional_item is None


def test_point2_implausible_growth_asks_and_yes_stores_it_audited(
    qtbot, window: MainWindow
) -> None:
    session = window.session
    open_demo_baseline(qtbot, window, "P2-ASK")
    window.set_tool("line")
    window.assign_bar.set_organ("liver")
    with qtbot.waitSignal(session.measurement_added, timeout=5000):
        drag(qtbot, window, (150.0, 310.0), (160.0, 310.0))  # ~9.8 mm
    add_timepoint(qtbot, window, "C3")
    (t1,) = session.lesions()
    window.lesion_table.select_lesion(t1.id)
    qtbot.wait(150)  # the prior panel opening re-lays out (and re-fits) the image view
    qtbot.waitUntil(lambda: window.viewer.volume.is_complete, timeout=30000)
    window.viewer.set_slice(9)
    # the whole image, as a fit the view keeps: a bare autoRange is undone by the next refit to
    # the body, which moved the image under the test's second drag when the load ran late
    window.viewer.fit_to_window()
    QApplication.processEvents()
    drag(qtbot, window, (140.0, 310.0), (190.0, 310.0))  # ~49 mm: x5
    qtbot.waitUntil(lambda: len(question_boxes()) == 1)
    (box,) = question_boxes()
    assert "Are you sure" in box.text() + box.informativeText()
    assert "T1" in box.informativeText()
    assert session.measurement_for(t1.id) is None
    with qtbot.waitSignal(session.measurement_added, timeout=5000) as added:
        box.button(QMessageBox.StandardButton.Yes).click()
    assert added.args[0].long_axis_mm > 40
    assert "confirmed" in added.args[0].note
    event = window.session.database.audit_events(entity="measurement")[-1]
    assert "confirmed" in str(event.after)
    # No drops the caliper and stores nothing
    stored = added.args[0].long_axis_mm
    drag(qtbot, window, (150.0, 360.0), (195.0, 360.0))  # ~44 mm: again more than x3 baseline
    qtbot.waitUntil(lambda: len(question_boxes()) == 1)
    question_boxes()[0].button(QMessageBox.StandardButton.No).click()
    assert session.measurement_for(t1.id).long_axis_mm == stored
    assert window.viewer.provisional_item is None


# -- point 3 -----------------------------------------------------------------------------------


def _lesion(lid: int, code: str, kind: LesionKind, organ: str = "liver") -> Lesion:
    return Lesion(
        id=lid, patient_id=1, code=code, kind=kind, organ=organ, tracking_uid=f"2.25.{lid}"
    )


def test_point3_bar_disables_what_recist_does_not_allow(qtbot) -> None:
    bar = AssignBarWidget()
    qtbot.addWidget(bar)
    bar.set_lesions([_lesion(1, "T1", LesionKind.TARGET), _lesion(2, "N1", LesionKind.NEW)])
    bar.set_timepoint("baseline", True)
    model = bar.lesion.model()
    enabled = {
        bar.lesion.itemText(i): model.item(i).isEnabled()
        for i in range(bar.lesion.count())
        if bar.lesion.itemData(i)
    }
    assert enabled["New target (T2)"]
    assert enabled["New non-target (NT1)"]
    assert not enabled["New lesion (N2)"]
    assert not enabled["N1  liver"]
    bar.select_new(LesionKind.NEW)
    assert bar.choice().kind is LesionKind.TARGET  # refused: stays on an allowed choice
    bar.set_timepoint("C3", False)
    enabled = {
        bar.lesion.itemText(i): model.item(i).isEnabled()
        for i in range(bar.lesion.count())
        if bar.lesion.itemData(i)
    }
    assert not enabled["New target (T2)"]
    assert not enabled["New non-target (NT1)"]
    assert enabled["New lesion (N2)"]
    assert enabled["T1  liver"]
    assert bar.choice().kind is LesionKind.NEW  # the disabled choice was left
    tip = model.item(bar.lesion.findData("new:target")).toolTip()
    assert "chosen at baseline; record this as a new lesion" in tip
    # organ "lymph node" ticks nodal
    assert not bar.nodal.isChecked()
    bar.set_organ("lymph node")
    assert bar.nodal.isChecked()
    assert bar.choice().nodal


def test_point3_a_node_waits_for_its_short_axis_and_its_caption_shows_it(
    qtbot,
    window: MainWindow,
) -> None:
    session = window.session
    open_demo_baseline(qtbot, window, "P3-NODE")
    window.set_tool("bidirectional")
    window.assign_bar.select_new(LesionKind.TARGET)
    window.assign_bar.set_organ("lymph node")
    window.assign_bar.location.setText("portocaval")
    drag(qtbot, window, (220.0, 330.0), (250.0, 330.0))  # the long axis only
    QApplication.processEvents()
    assert session.lesions() == []  # nothing recorded: the short axis is unset
    assert "short axis" in window.viewer.provisional_item.label_text
    with qtbot.waitSignal(session.measurement_added, timeout=5000) as added:
        drag(qtbot, window, (236.0, 324.0), (236.0, 336.0))  # the short axis, placed by the reader
    m = added.args[0]
    (node,) = session.lesions()
    assert node.nodal
    assert node.organ == "lymph node"
    assert m.short_axis_mm == pytest.approx(12 * 0.804688, abs=1.0)  # not 50 % of the long axis
    assert m.short_axis_mm < 0.45 * m.long_axis_mm  # drawn 12 px of 30: 0.4 +- rounding, not 0.5
    assert float(session.assessment.timepoints[0].sum_mm) == pytest.approx(m.short_axis_mm)
    (item,) = window.viewer.overlay_items.values()
    assert isinstance(item, BidirectionalCaliperRoi)
    long_label, short_label = (label.textItem.toPlainText() for label in item.labels)
    assert short_label == f"T1 SA {m.short_axis_mm:.1f} mm"
    assert "T1" not in long_label


# -- point 7 -----------------------------------------------------------------------------------


def test_point7_tool_keys_never_type_into_data_fields(qtbot, window: MainWindow) -> None:
    bar = window.assign_bar
    window.activateWindow()
    qtbot.waitActive(window)
    window.set_tool("pointer")
    bar.set_organ("lymph node")
    bar.organ.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is bar.organ)
    qtbot.keyClick(bar.organ, Qt.Key.Key_B)
    assert bar.organ_text() == "lymph node"  # a list: the letter never lands in the organ
    assert window.viewer.tool == "bidirectional"  # B is the tool key there
    # "other…" takes free text; while a text field has focus, letters are text, not tools
    window.set_tool("pointer")
    bar.set_organ("gallbladder fossa")
    bar.other_organ.setFocus()
    bar.other_organ.clear()
    qtbot.keyClicks(bar.other_organ, "gallbladder fossa")
    assert bar.choice().organ == "gallbladder fossa"
    assert window.viewer.tool == "pointer"
    qtbot.keyClick(bar.other_organ, Qt.Key.Key_Return)  # done: the keys go back to the image
    assert window.viewer.graphics_view.hasFocus()
    qtbot.keyClick(window.viewer.graphics_view, Qt.Key.Key_L)
    assert window.viewer.tool == "line"
    assert bar.choice().organ == "gallbladder fossa"


def test_point7_organ_list_has_the_export_codes() -> None:
    from recist.organs import ORGANS  # the bar offers recist.organs, as the exports use
    from storage.exchange.sdtm_terms import tu_location
    from storage.exchange.sr_codes import organ_code

    COMMON_ORGANS = assign_bar.COMMON_ORGANS  # noqa: N806
    assert (*(o.name for o in ORGANS), "other") == COMMON_ORGANS
    for name in COMMON_ORGANS[:-1]:
        assert organ_code(name).scheme_designator == "SCT", name
    assert organ_code("lymph node").value == "59441001"
    assert tu_location("Lymph nodes") == "LYMPH NODE"  # the location goes to SUPPTU (issue 14)
    assert organ_code("gallbladder fossa").value == "123037004"  # SCT Body structure (issue 14)


# -- point 8 -----------------------------------------------------------------------------------


def test_point8_new_lesions_start_empty_and_the_bar_follows_one_rule(
    qtbot, window: MainWindow
) -> None:
    session, bar = window.session, window.assign_bar
    open_demo_baseline(qtbot, window, "P8-BAR")
    assert bar.toolTip() == assign_bar.NEXT_CALIPER_RULE
    assert "stays" in bar.toolTip()
    window.set_tool("line")
    bar.select_new(LesionKind.TARGET)
    bar.set_organ("lung")
    bar.location.setText("portocaval")
    with qtbot.waitSignal(session.measurement_added, timeout=5000):
        drag(qtbot, window, (150.0, 310.0), (180.0, 310.0))
    (t1,) = session.lesions()
    assert (t1.organ, t1.location) == ("lung", "portocaval")
    # the choice stays "New target", now T2, with nothing inherited
    choice = bar.choice()
    assert (choice.lesion_id, choice.kind, choice.organ, choice.location) == (
        None,
        LesionKind.TARGET,
        "",
        "",
    )
    assert "creates T2" in bar.summary.text()
    # choosing T1 in the table chooses it here; choosing "New target" here selects no row
    window.lesion_table.select_lesion(t1.id)
    assert bar.choice().lesion_id == t1.id
    assert "measures T1" in bar.summary.text()
    bar.select_new(LesionKind.TARGET)
    assert window.lesion_table.selected_lesion_id() is None
    bar.set_organ("liver")
    with qtbot.waitSignal(session.measurement_added, timeout=5000):
        drag(qtbot, window, (150.0, 330.0), (175.0, 330.0))
    t2 = next(les for les in session.lesions() if les.code == "T2")
    assert (t2.organ, t2.location) == ("liver", "")
    # after the caliper the bar did not jump to T1 or T2: still a new target (T3)
    assert bar.choice().lesion_id is None
    assert bar.choice().kind is LesionKind.TARGET
    assert "creates T3" in bar.summary.text()
    # and a caliper for an existing lesion stays on that lesion
    window.lesion_table.select_lesion(t1.id)
    with qtbot.waitSignal(session.measurement_changed, timeout=5000):
        drag(qtbot, window, (150.0, 360.0), (178.0, 360.0))  # away from the calipers drawn
    assert bar.choice().lesion_id == t1.id
    assert math.isclose(session.measurement_for(t1.id).long_axis_mm, 28 * 0.804688, abs_tol=0.6)
