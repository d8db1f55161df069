"""Issue 12 (window, lesions, menus): lesion navigation, the lesion table's order and headers,
the Series panel, the Export menu, Help → Keyboard shortcuts, fixed toolbar buttons, window
geometry, the New patient dialog and readable loader errors.

Everything runs through the real main window on the real 30-slice chest CT (no demo data, no
slice numbers of the demo).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pydicom
import pytest
from PySide6 import QtCore
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMessageBox

from app.main import SeriesLibrary
from app.session import ReadingSession
from recist.model import Criteria, LesionKind, MeasurementStatus, Role
from viewer.dialogs.new_patient import NewPatientDialog
from viewer.image.overlays import make_geometry
from viewer.lesions.split_dialog import SplitLesionDialog
from viewer.main_window.actions import series_of
from viewer.main_window.help import ShortcutsDialog
from viewer.main_window.navigation import MENU_ENTRIES
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt
Qt = QtCore.Qt


def _open(qtbot, window: MainWindow, folder: Path, series_uid: str | None = None) -> None:
    before = window.viewer.volume
    window.open_folder(str(folder), series_uid)
    qtbot.waitUntil(
        lambda: (
            window.viewer.volume is not None
            and window.viewer.volume is not before
            and not window.progress.isVisible()
        ),
        timeout=60000,
    )


def _reading(qtbot, window: MainWindow, chest: Path) -> dict[str, int]:
    """A patient with NT1 (slice 5), T1 (slice 20) and T2 (slice 10) at baseline; codes → ids."""
    window.add_patient("NAV-001")
    _open(qtbot, window, chest)
    volume = window.viewer.volume
    s = window.session
    s.add_timepoint("baseline", date(2007, 4, 25), 0, **series_of(volume), confirm_scan_date=True)
    for kind, index, (x, y) in (
        (LesionKind.NON_TARGET, 5, (200, 300)),
        (LesionKind.TARGET, 20, (330, 250)),
        (LesionKind.TARGET, 10, (150, 200)),
    ):
        geometry = make_geometry(volume, index, [(x, y), (x + 30, y + 10)])
        s.record_measurement(geometry, kind=kind, organ="lung")
    return {lesion.code: lesion.id for lesion in s.lesions()}


def _follow_up(window: MainWindow, label: str = "C3") -> None:
    s = window.session
    s.add_timepoint(
        label, date(2007, 7, 1), 3, **series_of(window.viewer.volume), confirm_scan_date=True
    )


def _codes(window: MainWindow) -> list[str]:
    model = window.lesion_model
    return [model.lesion_at(r).code for r in range(model.rowCount())]


def _slice_of_code(window: MainWindow, code: str, timepoint_id: int | None = None) -> int:
    lesion = next(x for x in window.session.lesions() if x.code == code)
    tp = timepoint_id or window.session.current_timepoint.id
    m = next(m for m in window.session.measurements(tp) if m.lesion_id == lesion.id)
    return list(window.viewer.volume.sop_instance_uids).index(m.geometry.sop_instance_uid)


def _view_centre(window: MainWindow) -> tuple[float, float]:
    (x0, x1), (y0, y1) = window.viewer.view_box.viewRange()
    return (x0 + x1) / 2, (y0 + y1) / 2


def _close_boxes() -> list[QMessageBox]:
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    boxes = [b for b in boxes if b.isVisible()]
    for box in boxes:
        box.close()
    return boxes


# -- 1. lesion navigation --
def test_click_on_a_row_jumps_to_the_lesions_image_and_centres_it(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    _reading(qtbot, window, shared_data / "ct-chest-30")
    window.viewer.set_slice(0)
    table = window.lesion_table
    row = window.lesion_model.row_of_code("T1")
    rect = table.visualRect(window.lesion_model.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.viewer.slice_index == _slice_of_code(window, "T1") == 20
    assert _view_centre(window) == pytest.approx((345, 255), abs=1.0)

    # at a follow-up where T2 is not measured yet: its baseline position, centred too
    _follow_up(window)
    window.viewer.set_slice(0)
    row = window.lesion_model.row_of_code("T2")
    table.doubleClicked.emit(window.lesion_model.index(row, 0))
    assert window.viewer.slice_index == 10
    assert _view_centre(window) == pytest.approx((165, 205), abs=1.0)


def test_a_click_on_the_selected_row_opens_no_editor_and_n_renames_nothing(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    """Found driving the demo under Xvfb: T1 was selected, a click on its row opened the code
    editor (Qt's SelectedClicked), and N (next lesion) typed "n" into it: T1 became "n"."""
    _reading(qtbot, window, shared_data / "ct-chest-30")
    table = window.lesion_table
    row = window.lesion_model.row_of_code("T1")
    rect = table.visualRect(window.lesion_model.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.wait(QApplication.doubleClickInterval() + 100)  # a second click, not a double-click
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.wait(QApplication.doubleClickInterval() + 100)  # Qt opens that editor after a delay
    assert table.state() != QAbstractItemView.State.EditingState
    location = table.visualRect(window.lesion_model.index(row, 3)).center()
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=location)
    assert table.state() != QAbstractItemView.State.EditingState  # a double-click goes there too
    qtbot.keyClick(table.viewport(), Qt.Key.Key_N)
    qtbot.keyClick(table.viewport(), Qt.Key.Key_Return)
    assert sorted(x.code for x in window.session.lesions()) == ["NT1", "T1", "T2"]
    assert "n" not in {x.location for x in window.session.lesions()}
    table.setCurrentIndex(window.lesion_model.index(row, 3))
    qtbot.keyClick(table.viewport(), Qt.Key.Key_F2)  # F2 still edits
    assert table.state() == QAbstractItemView.State.EditingState


def test_n_and_shift_n_go_through_the_lesions_in_table_order(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    _reading(qtbot, window, shared_data / "ct-chest-30")
    assert window.navigation.next_action.shortcut() == QKeySequence("N")
    assert window.navigation.previous_action.shortcut() == QKeySequence("Shift+N")
    window.activateWindow()
    window.viewer.graphics_view.setFocus()
    seen = []
    for _ in range(4):
        qtbot.keyClick(window.viewer.graphics_view, Qt.Key.Key_N)  # the key, not the action
        code = window.lesion_model.lesion_at(
            window.lesion_model.row_of(window.lesion_table.selected_lesion_id())
        ).code
        seen.append((code, window.viewer.slice_index))
    assert seen == [("T1", 20), ("T2", 10), ("NT1", 5), ("T1", 20)]
    qtbot.keyClick(window.viewer.graphics_view, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    assert window.lesion_table.selected_lesion_id() == window.lesion_model.lesion_at(2).id
    assert window.viewer.slice_index == 5


def test_context_menu_offers_every_edit_and_says_why_one_is_disabled(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    ids = _reading(qtbot, window, shared_data / "ct-chest-30")
    menu = window.navigation.context_menu(ids["NT1"])
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert [a.objectName() for a in menu.actions() if a.objectName()] == [
        name for name, _ in MENU_ENTRIES
    ]
    assert not actions["split"].isEnabled()
    assert "not a target" in actions["split"].toolTip()
    assert actions["jump"].isEnabled()
    assert actions["delete"].isEnabled()

    _follow_up(window)
    window.viewer.set_slice(0)
    menu = window.navigation.context_menu(ids["T1"])
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    actions["jump"].trigger()
    assert window.viewer.slice_index == 20
    actions["notEvaluable"].trigger()
    row = window.lesion_model.row_of(ids["T1"])
    assert window.lesion_model.measurement(row).status is MeasurementStatus.NOT_EVALUABLE
    actions = {
        a.objectName(): a
        for a in window.navigation.context_menu(ids["T2"]).actions()
        if a.objectName()
    }
    actions["tooSmall"].trigger()
    row = window.lesion_model.row_of(ids["T2"])
    assert window.lesion_model.measurement(row).status is MeasurementStatus.TOO_SMALL
    actions["split"].trigger()
    assert [d for d in window.findChildren(SplitLesionDialog) if d.isVisible()]
    for dialog in window.findChildren(SplitLesionDialog):
        dialog.reject()

    assert window.navigation._delete(ids["T2"], confirm=lambda *_: True)
    assert "T2" not in _codes(window)
    assert not _close_boxes()  # no error on the way

    # signed: the edits are disabled and say what to do
    window.session.sign(window.session.current_timepoint.id, "ivan", "investigator-pw")
    actions = {
        a.objectName(): a
        for a in window.navigation.context_menu(ids["T1"]).actions()
        if a.objectName()
    }
    assert not actions["notEvaluable"].isEnabled()
    assert "signed and locked" in actions["notEvaluable"].toolTip()
    assert not actions["delete"].isEnabled()
    assert actions["jump"].isEnabled()


# -- 2. the lesion table --
def test_table_lists_targets_first_and_never_cuts_a_header(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    _reading(qtbot, window, shared_data / "ct-chest-30")
    assert _codes(window) == ["T1", "T2", "NT1"]
    _follow_up(window, "unscheduled re-scan")
    volume = window.viewer.volume
    window.session.record_measurement(
        make_geometry(volume, 15, [(100, 100), (120, 110)]), kind=LesionKind.NEW, organ="liver"
    )
    assert _codes(window) == ["T1", "T2", "NT1", "N1"]
    table, model = window.lesion_table, window.lesion_model
    bold = QFont(table.horizontalHeader().font())
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    for column in range(model.columnCount() - 1):  # the last (warnings) stretches
        title = model.headerData(column, Qt.Orientation.Horizontal)
        assert table.columnWidth(column) >= metrics.horizontalAdvance(title) + 8, title


def test_wording_one_target_and_a_new_lesion(qtbot, window: MainWindow, shared_data: Path) -> None:
    window.add_patient("NAV-002")
    _open(qtbot, window, shared_data / "ct-chest-30")
    volume = window.viewer.volume
    s = window.session
    s.add_timepoint("baseline", date(2007, 4, 25), 0, **series_of(volume), confirm_scan_date=True)
    s.record_measurement(make_geometry(volume, 20, [(330, 250), (360, 260)]), organ="lung")
    reasons = [t.reason for t in s.assess().timepoints]
    assert "(1 target)" in reasons[0]
    assert "targets)" not in reasons[0]
    _follow_up(window)
    window.assign_bar.select_new(LesionKind.NEW)
    text = window.assign_bar.summary.text()
    assert "a new lesion" in text
    assert "new new" not in text


# -- 3. the Series panel --
def _two_series(tmp_path: Path, chest: Path) -> tuple[Path, str]:
    """ct-chest-30 plus a same-patient copy with its own UIDs and DICOM window 50/120."""
    folder = tmp_path / "study"
    shutil.copytree(chest, folder / "a")
    series_uid = pydicom.uid.generate_uid()
    (folder / "b").mkdir()
    for path in sorted((folder / "a").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesDescription = "SOFT TISSUE COPY"
        ds.SeriesNumber = 7
        ds.WindowCenter, ds.WindowWidth = 50, 120
        ds.save_as(folder / "b" / path.name)
    return folder, series_uid


def test_series_panel_lists_the_study_and_a_click_opens_a_series_at_its_middle(
    qtbot, window: MainWindow, shared_data: Path, tmp_path: Path
) -> None:
    folder, copy_uid = _two_series(tmp_path, shared_data / "ct-chest-30")
    window.add_patient("NAV-003")
    first = pydicom.dcmread(next((folder / "a").glob("*.dcm")), stop_before_pixels=True)
    _open(qtbot, window, folder, str(first.SeriesInstanceUID))
    panel = window.series_panel
    qtbot.waitUntil(lambda: panel.list.count() == 2, timeout=60000)
    texts = [panel.list.item(i).text() for i in range(2)]
    assert any("SOFT TISSUE COPY" in t and "CT · 30 images" in t for t in texts)
    assert all("2007-04-25" in t for t in texts)
    assert all(not panel.list.item(i).icon().isNull() for i in range(2))
    assert panel.item_of(str(first.SeriesInstanceUID)).font().bold()
    assert window.viewer.window_center == 40
    assert window.viewer.window_width == 350

    window.viewer.set_slice(3)  # the reader scrolled to the lowest slices
    item = panel.item_of(copy_uid)
    panel.list.itemClicked.emit(item)
    qtbot.waitUntil(lambda: window.viewer.volume.series_instance_uid == copy_uid, timeout=60000)
    assert window.viewer.slice_index == 15  # the middle, not slice 3 of the other series
    assert (window.viewer.window_center, window.viewer.window_width) == (50, 120)
    assert panel.item_of(copy_uid).font().bold()


# -- 4. the Export menu --
def test_export_menu_writes_each_format_and_names_the_files(
    qtbot, window: MainWindow, shared_data: Path, tmp_path: Path
) -> None:
    _reading(qtbot, window, shared_data / "ct-chest-30")
    exports = window.exports
    exports.update_actions()
    assert all(a.isEnabled() for a in exports.actions)
    out = tmp_path / "out"
    out.mkdir()
    exports.ask_save = lambda _w, _t, suggested, _f: str(out / Path(suggested).name)
    exports.ask_folder = lambda *_: str(out / "folder")

    assert exports.export_report() is not None
    assert (out / "NAV-001_report.pdf").read_bytes().startswith(b"%PDF")
    assert "NAV-001_report.pdf" in exports.last_message.text()
    exports.last_message.close()

    assert exports.export_timeline() is not None
    assert '"NAV-001"' in (out / "NAV-001_timeline.json").read_text(encoding="utf-8")
    assert "NAV-001_timeline.json" in exports.last_message.text()

    assert exports.export_sdtm() is not None
    assert {"tu.csv", "tr.csv", "rs.csv"} <= {p.name for p in (out / "folder").iterdir()}
    assert "tr.csv" in exports.last_message.text()

    assert exports.export_sr() is not None  # images: the folder the series was opened from
    sr = out / "folder" / "NAV-001_baseline_SR.dcm"
    assert pydicom.dcmread(sr).Modality == "SR"
    assert "NAV-001_baseline_SR.dcm" in exports.last_message.text()
    _close_boxes()

    # a refusal is a readable message, not a traceback
    exports.ask_save = lambda *_: str(tmp_path / "missing" / "t.json")
    exports.last_message = None
    assert exports.export_timeline() is None
    (box,) = [b for b in _close_boxes() if b.objectName() == "errorBox"]
    assert box.text() == "Could not export the timeline"
    assert "cannot write" in box.informativeText()
    assert "Traceback" not in box.informativeText()


def test_export_menu_without_a_patient_says_why(qtbot, window: MainWindow) -> None:
    window.exports.update_actions()
    assert not window.exports.report_action.isEnabled()
    assert "Open a patient" in window.exports.report_action.toolTip()
    titles = [a.text() for a in window.menuBar().actions()]
    assert "E&xport" in titles
    assert titles[-1] == "&Help"


# -- 5. Help → Keyboard shortcuts --
def test_shortcut_list_holds_every_shortcut_of_the_window(qtbot, window: MainWindow) -> None:
    dialog = window.help.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    rows = dialog.rows()
    listed = {keys for keys, _ in rows}
    expected = {
        ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        for a in window.findChildren(QAction)
        if a.shortcuts()
    }
    assert expected <= listed
    for key in ("N", "Shift+N", "B", "F1"):
        assert key in listed, key
    assert any("Next lesion" in text for _, text in rows)
    assert any("PgUp" in keys for keys, _ in rows)  # the image's own keys too
    assert any(keys == "F2" and "lesion table" in text for keys, text in rows)  # and the table's
    dialog.close()


# -- 6. toolbar buttons of fixed size --
def test_undo_text_goes_into_the_tooltip_and_the_toolbar_does_not_move(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    window.add_patient("NAV-004")
    _open(qtbot, window, shared_data / "ct-chest-30")
    volume = window.viewer.volume
    toolbar = window.findChild(type(window.addToolBar("x")), "mainToolbar")
    sign_button = toolbar.widgetForAction(window.sign_action)
    undo_button = toolbar.widgetForAction(window.undo_action)
    QApplication.processEvents()
    before = (toolbar.sizeHint().width(), sign_button.geometry().x(), undo_button.width())
    window.session.add_timepoint(
        "baseline", date(2007, 4, 25), 0, **series_of(volume), confirm_scan_date=True
    )
    window.session.record_measurement(make_geometry(volume, 20, [(330, 250), (360, 260)]))
    QApplication.processEvents()
    assert window.undo_action.isEnabled()
    assert len(window.undo_action.text()) > len("Undo")  # the menu says what
    assert undo_button.text() == "Undo"
    assert window.undo_action.text() in undo_button.toolTip()
    after = (toolbar.sizeHint().width(), sign_button.geometry().x(), undo_button.width())
    assert after == before
    assert sign_button.isVisible()
    assert sign_button.geometry().right() <= toolbar.width()


# -- 7. the window opens maximised, then as it was left --
def test_window_opens_maximised_first_then_as_left(qtbot, database, tmp_path: Path) -> None:
    reader = database.readers.create("wendy", "Wendy Window", Role.READER, "reader-pw")
    settings = str(tmp_path / "home" / "window.ini")

    def build() -> MainWindow:
        win = MainWindow(
            ReadingSession(database, reader),
            SeriesLibrary(tmp_path / "series.json"),
            settings_path=settings,
        )
        qtbot.addWidget(win)
        return win

    first = build()
    first.restore_settings()
    assert first.windowState() & Qt.WindowState.WindowMaximized
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.resize(760, 560)  # inside the offscreen screen (800 x 600), above the minimum size
    first.show()
    qtbot.waitExposed(first)
    first.save_settings()
    first.close()
    second = build()
    second.restore_settings()
    assert not second.windowState() & Qt.WindowState.WindowMaximized
    assert (second.width(), second.height()) == (760, 560)


# -- 8. the New patient dialog --
def test_new_patient_asks_trial_site_criteria_and_confirmation(qtbot, window: MainWindow) -> None:
    window.new_patient_action.trigger()
    (dialog,) = [d for d in window.findChildren(NewPatientDialog) if d.isVisible()]
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.subject.setText("NAV-101")
    dialog.trial.setCurrentText("CRLM-2")
    dialog.site.setText("Leiden")
    dialog.criteria.setCurrentIndex(dialog.criteria.findData(Criteria.IRECIST.value))
    dialog.confirmation.setChecked(False)
    assert ok.isEnabled()
    dialog.accept()
    patient = window.session.patient
    assert (patient.subject_id, patient.trial, patient.site) == ("NAV-101", "CRLM-2", "Leiden")
    assert patient.criteria is Criteria.IRECIST
    assert patient.confirmation_required is False


# -- 9. loader errors a reader understands --
def test_a_folder_without_dicom_says_so_with_details_behind_a_button(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(6):
        (folder / f"note{i}.txt").write_text("not an image\n", encoding="utf-8")
    window.open_folder(str(folder))
    qtbot.waitUntil(lambda: getattr(window, "last_load_error", None) is not None, timeout=30000)
    box = window.last_load_error
    assert box.text() == "Could not open notes"
    assert box.informativeText() == "No DICOM images in this folder (6 files skipped: see Details)"
    assert "DICM" not in box.informativeText()
    assert "note0.txt" in box.detailedText()
    assert "DICM" in box.detailedText()
    box.close()
