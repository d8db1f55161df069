"""The reading workflow through the real main window, real database and real DICOM.

Open the demo CT folder, draw a bidirectional caliper with the mouse, check
its length against the geometry, assign it as T1, add a follow-up timepoint,
measure T1 smaller, see PR, undo, sign as an investigator and find the
timepoint locked.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6 import QtCore
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from app.main import DEMO_FOLDER, SeriesLibrary, build_main_window
from recist.model import LesionKind, MeasurementStatus, Role
from storage.db import open_database
from viewer.dialogs.new_timepoint import NewTimepointDialog
from viewer.dialogs.sign import SignDialog
from viewer.image.overlays import make_geometry
from viewer.lesions.merge_dialog import MergeLesionDialog
from viewer.lesions.split_dialog import SplitLesionDialog
from viewer.lesions.table_model import STATUS
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

Qt = QtCore.Qt
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def database(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def window(qtbot, database, tmp_path) -> MainWindow:
    reader = database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")
    database.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "investigator-pw")
    win = build_main_window(database, reader, SeriesLibrary(tmp_path / "series_locations.json"))
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    return win


def to_viewport(window: MainWindow, x: float, y: float) -> QtCore.QPoint:
    """Viewport pixel of image point (x = column, y = row)."""
    viewer = window.viewer
    return viewer.graphics_view.mapFromScene(viewer.view_box.mapViewToScene(QtCore.QPointF(x, y)))


def drag(qtbot, window: MainWindow, start, end, steps: int = 6) -> None:
    """Press at image point *start*, move to *end* in steps, release (left button)."""
    viewport = window.viewer.graphics_view.viewport()
    p0, p1 = to_viewport(window, *start), to_viewport(window, *end)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=p0)
    for i in range(1, steps + 1):
        qtbot.wait(12)  # pyqtgraph drops mouse moves closer than 10 ms apart
        qtbot.mouseMove(viewport, pos=p0 + (p1 - p0) * (i / steps))
    qtbot.wait(12)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=p1)


def add_timepoint(qtbot, window: MainWindow, label: str) -> None:
    window.new_timepoint_action.trigger()
    (dialog,) = visible(window, NewTimepointDialog)
    dialog.label.setText(label)
    assert dialog.attach.isChecked() == (window.viewer.volume is not None)  # the series on screen
    dialog.accept()
    qtbot.waitUntil(
        lambda: (
            window.session.current_timepoint is not None
            and window.session.current_timepoint.label == label
        )
    )


def visible(window: MainWindow, kind: type) -> list:
    """The open dialogs of *kind* (closed ones are deleted later)."""
    return [d for d in window.findChildren(kind) if d.isVisible()]


def length_mm(segment, volume) -> float:
    """Length of a segment from its pixel end points and the pixel spacing."""
    (c0, r0), (c1, r1) = segment.start_px, segment.end_px
    return math.hypot((c1 - c0) * volume.spacing_mm[2], (r1 - r0) * volume.spacing_mm[1])


def close_error_boxes() -> list[str]:
    texts = []
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            texts.append(f"{widget.text()} {widget.informativeText()}")
            widget.close()
    return texts


def test_measure_follow_up_undo_and_sign(qtbot, window: MainWindow) -> None:
    session = window.session
    window.add_patient("TEST-001")
    assert session.patient is not None
    assert session.patient.subject_id == "TEST-001"

    # open a series (background load, progress in the status bar) and make it the baseline
    task = window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    assert task.path == str(DEMO_FOLDER)
    volume = window.viewer.volume
    assert volume.voxels.shape == (30, 512, 512)
    add_timepoint(qtbot, window, "baseline")
    assert session.current_timepoint.series_instance_uid == volume.series_instance_uid

    # draw a bidirectional caliper on slice 9 with the mouse; it becomes T1 in the liver
    window.set_tool("bidirectional")
    window.viewer.set_slice(9)
    window.viewer.view_box.autoRange(padding=0.0)
    QApplication.processEvents()
    window.assign_bar.select_new(LesionKind.TARGET)
    window.assign_bar.set_organ("liver")
    window.assign_bar.location.setText("segment VII")
    with qtbot.waitSignal(session.measurement_added, timeout=5000) as added:
        drag(qtbot, window, (150.0, 310.0), (196.0, 340.0))
    baseline = added.args[0]
    geometry = baseline.geometry
    assert geometry.slice_index == 9
    assert geometry.short_axis is not None
    assert geometry.long_axis.start_px == pytest.approx((150.0, 310.0), abs=1.5)
    assert baseline.long_axis_mm == pytest.approx(length_mm(geometry.long_axis, volume), abs=0.06)
    assert baseline.long_axis_mm == pytest.approx(math.hypot(46, 30) * 0.804688, abs=1.5)
    assert baseline.short_axis_mm == pytest.approx(baseline.long_axis_mm / 2, abs=0.2)
    (t1,) = session.lesions()
    assert (t1.code, t1.kind, t1.organ, t1.location) == (
        "T1",
        LesionKind.TARGET,
        "liver",
        "segment VII",
    )
    row = window.lesion_model.row_of_code("T1")
    assert (
        window.lesion_model.index(row, 6).data()
        == f"{baseline.long_axis_mm:.1f} × {baseline.short_axis_mm:.1f}"
    )
    assert "Undo" in window.undo_action.text()
    assert window.undo_action.isEnabled()

    # follow-up: T1 carried forward; select it, see its baseline key slice, measure it smaller
    add_timepoint(qtbot, window, "C3")
    assert [lesion.code for lesion in session.lesions()] == ["T1"]
    window.lesion_table.select_lesion(t1.id)
    qtbot.wait(100)  # the prior panel opening re-lays out (and re-fits) the image view
    assert window.prior.isVisible()
    assert window.prior.slice_index == 9
    assert window.viewer.slice_index == 9  # jumped to the prior key slice's position
    assert window.assign_bar.choice().lesion_id == t1.id
    with qtbot.waitSignal(session.measurement_added, timeout=5000) as added:
        drag(qtbot, window, (160.0, 318.0), (186.0, 334.0))
    follow_up = added.args[0]
    assert follow_up.lesion_id == t1.id
    assert follow_up.long_axis_mm < 0.7 * baseline.long_axis_mm
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PR")
    # PR needs confirmation by default, so the best overall response is the engine's (not PR yet)
    best = str(session.assessment.best_overall_response)
    assert window.response_panel.best_response.text() == f"Best overall response: {best}"

    # the browser selects timepoints: baseline shows T1's baseline status, back to C3
    item = window.browser.item_for_timepoint(session.timepoints()[0].id)
    tree = window.browser.tree
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
    )
    qtbot.waitUntil(lambda: session.current_timepoint.label == "baseline")
    assert window.windowTitle().startswith("Caliper — TEST-001 — baseline")
    item = window.browser.item_for_timepoint(session.timepoints()[1].id)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
    )
    qtbot.waitUntil(lambda: session.current_timepoint.label == "C3")
    window.lesion_table.select_lesion(t1.id)
    qtbot.wait(50)

    # linked scrolling: the prior view follows by patient position
    window.viewer.set_slice(7)
    assert window.prior.slice_index == 7

    # undo removes the follow-up measurement, the response goes back to NE/empty; redo restores it
    assert window.undo_action.text() == "Undo Measure T1"
    window.undo_action.trigger()
    assert session.measurement_for(t1.id) is None
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") != "PR")
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: window.response_panel.overall("C3") == "PR")

    # investigator confirmation: sign dialog with the prefilled meaning, then locked
    window.sign_action.trigger()
    (dialog,) = visible(window, SignDialog)
    assert dialog.meaning.currentText() == "I confirm the response PR at C3"
    dialog.username.setText("ivan")
    dialog.password.setText("investigator-pw")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    tp = session.current_timepoint
    qtbot.waitUntil(lambda: session.is_locked(tp.id))
    assert close_error_boxes() == []
    assert window.lock_banner.isVisible()
    assert "locked" in window.lock_banner.text()
    assert not window.sign_action.isEnabled()
    assert window.amend_action.isEnabled()
    assert window.browser.item_for_timepoint(tp.id).icon(0).isNull() is False

    # an edit of the signed timepoint is refused with a clear message
    window.lesion_model.setData(window.lesion_model.index(row, 5), MeasurementStatus.ABSENT.value)
    errors = close_error_boxes()
    assert errors
    assert "signed" in errors[0]
    assert session.measurement_for(t1.id).status is MeasurementStatus.MEASURED

    # an amendment with a reason goes through and voids the signature
    window.start_amendment("caliper placed on a vessel")
    window.lesion_model.setData(
        window.lesion_model.index(row, 5), MeasurementStatus.TOO_SMALL.value
    )
    assert close_error_boxes() == []
    assert session.measurement_for(t1.id).status is MeasurementStatus.TOO_SMALL
    assert not session.is_locked(tp.id)


def test_wrong_password_is_refused_and_nothing_is_locked(qtbot, window: MainWindow) -> None:
    session = window.session
    window.add_patient("TEST-002")
    window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    add_timepoint(qtbot, window, "baseline")
    add_timepoint(qtbot, window, "C3")
    window.sign_action.trigger()
    (dialog,) = visible(window, SignDialog)
    dialog.username.setText("ivan")
    dialog.password.setText("wrong")
    dialog.accept()
    # the refusal is shown in the dialog, which stays open (issue 11 point 12)
    assert dialog.isVisible()
    assert "Could not sign" in dialog.error.text()
    assert close_error_boxes() == []
    assert not session.is_locked(session.current_timepoint.id)
    dialog.reject()


def test_engine_warning_for_a_small_target_shows_in_the_table(qtbot, window: MainWindow) -> None:
    session = window.session
    window.add_patient("TEST-003")
    add_timepoint(qtbot, window, "baseline")  # no series yet
    window.open_folder(str(DEMO_FOLDER))  # attached to the current timepoint once loaded
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    assert session.current_timepoint.series_instance_uid == window.viewer.volume.series_instance_uid
    assert session.timepoints()[0].modality == "CT"
    window.set_tool("line")
    window.viewer.set_slice(5)
    window.assign_bar.set_organ("liver")  # a new lesion starts with no organ (issue 11.8)
    QApplication.processEvents()
    with qtbot.waitSignal(session.measurement_added, timeout=5000) as added:
        drag(qtbot, window, (150.0, 300.0), (157.0, 303.0))  # about 7.4 mm: not measurable
    assert added.args[0].long_axis_mm < 10
    row = window.lesion_model.row_of_code("T1")
    warnings = window.lesion_model.warnings(row)
    assert warnings, session.assessment
    cell = window.lesion_model.index(row, window.lesion_model.warnings_column).data()
    assert cell == "; ".join(warnings)
    assert "T1" in window.response_panel.warnings_label.text()

    # drag the caliper's end handle outwards: one "Move measurement" edit, the warning goes
    window.set_tool("pointer")
    end = added.args[0].geometry.long_axis.end_px
    with qtbot.waitSignal(session.measurement_changed, timeout=5000) as changed:
        drag(qtbot, window, end, (end[0] + 20.0, end[1] + 6.0))
    assert changed.args[0].long_axis_mm > 20
    assert window.undo_action.text() == "Undo Move measurement"
    qtbot.waitUntil(lambda: window.lesion_model.warnings(row) == [])

    # lesion attributes are edited in the table; each edit is one undoable command
    organ = window.lesion_model.index(row, 2)
    assert organ.data() == "liver"  # the assign bar's organ when it was drawn
    assert window.lesion_model.setData(organ, "peritoneum")
    assert session.lesions()[0].organ == "peritoneum"
    assert window.lesion_model.index(row, 2).data() == "peritoneum"
    assert window.undo_action.text() == "Undo Change lesion T1"
    window.undo_action.trigger()
    assert session.lesions()[0].organ == "liver"
    assert window.undo_action.text() == "Undo Move measurement"

    # Delete removes the selected lesion's measurement at this timepoint; undo brings it back
    lesion_id = session.lesions()[0].id
    window.lesion_table.select_lesion(lesion_id)
    window.delete_action.trigger()
    assert close_error_boxes() == []
    assert session.measurement_for(lesion_id) is None
    assert window.viewer.overlay_items == {}
    window.undo_action.trigger()
    assert session.measurement_for(lesion_id) is not None
    assert len(window.viewer.overlay_items) == 1


def test_split_and_merged_targets_are_recorded_from_the_status_column(
    qtbot, window: MainWindow
) -> None:
    session, model = window.session, window.lesion_model
    window.add_patient("TEST-004")
    window.open_folder(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    add_timepoint(qtbot, window, "baseline")
    volume = window.viewer.volume
    for _code, (x0, y0) in (("T1", (150.0, 300.0)), ("T2", (150.0, 340.0)), ("T3", (220.0, 300.0))):
        window.assign_bar.select_lesion(None)
        session.record_measurement(
            make_geometry(volume, 5, ((x0, y0), (x0 + 40.0, y0))), organ="liver"
        )
    add_timepoint(qtbot, window, "C3")
    t1, t2, t3 = (model.row_of_code(code) for code in ("T1", "T2", "T3"))
    session.record_measurement(
        make_geometry(volume, 5, ((150.0, 340.0), (170.0, 340.0))), lesion_id=model.lesion_at(t2).id
    )
    window.lesion_table.select_lesion(model.lesion_at(t1).id)

    # "split" asks for the fragments; a bad entry keeps the dialog open with a clear message
    assert not model.setData(model.index(t1, STATUS), "split")  # nothing recorded yet
    (split,) = visible(window, SplitLesionDialog)
    split.fragments.setText("12, eight")
    split.accept()
    assert split.isVisible()
    assert "“eight” is not a length in mm" in split.error.text()
    split.fragments.setText("12")
    split.accept()
    assert split.isVisible()
    assert "at least two fragments" in split.error.text()
    split.fragments.setText("12, 8")
    assert split.total.text() == "Sum: 12 + 8 = 20.0 mm"
    split.accept()
    assert close_error_boxes() == []
    m1 = session.measurement_for(model.lesion_at(t1).id)
    assert m1.status is MeasurementStatus.SPLIT
    assert m1.fragments_mm == (12.0, 8.0)
    c3_column = model.timepoint_column(session.current_timepoint.id)
    assert model.index(t1, c3_column).data() == "20.0 split"
    assert "12.0 + 8.0 = 20.0 mm" in model.index(t1, c3_column).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(t1, STATUS).data() == "split"
    assert window.undo_action.text() == "Undo Split T1 (12.0 + 8.0 mm)"

    # "merged" offers the other targets; T3 joins T2 and counts 0 mm
    assert not model.setData(model.index(t3, STATUS), "merged")
    (merge,) = visible(window, MergeLesionDialog)
    assert [merge.into.itemText(i) for i in range(merge.into.count())] == ["T1", "T2"]
    merge.into.setCurrentText("T2")
    merge.accept()
    assert close_error_boxes() == []
    m3 = session.measurement_for(model.lesion_at(t3).id)
    assert m3.status is MeasurementStatus.MERGED
    assert m3.coalesced_into == "T2"
    assert model.index(model.row_of_code("T3"), c3_column).data() == "→ T2"
    c3 = session.assessment.timepoints[-1]
    t2_mm = session.measurement_for(model.lesion_at(t2).id).long_axis_mm
    assert float(c3.sum_mm) == pytest.approx(20.0 + t2_mm)  # T1 split 12 + 8, T3 merged 0
    assert window.undo_action.text() == "Undo Merge T3 into T2"
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert session.measurement_for(model.lesion_at(t1).id) is None

    # a cancelled dialog records nothing
    model.setData(model.index(t1, STATUS), "split")
    (split,) = visible(window, SplitLesionDialog)
    split.reject()
    assert session.measurement_for(model.lesion_at(t1).id) is None
