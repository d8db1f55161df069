"""Issue 11 points 4, 5 and 12 through the real main window, database and DICOM series.

4. New timepoint proposes the series' DICOM date (not today); a typed date that
   differs asks first (audited); a date before baseline or a label used twice
   is refused in the dialog, which stays open.
5. A series of another DICOM patient is neither shown nor attached without a
   warning naming both IDs; "attach anyway" is audited; switching patient
   clears the image.
12. The sign dialog's meaning is chosen from a list (no free text), Return in
   the password field signs, and a wrong password keeps the dialog open with
   the error, the password cleared and focused.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6 import QtCore
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QWidget

from app.main import DEMO_FOLDER, SeriesLibrary, build_main_window, open_demo
from recist.model import Role
from storage.db import open_database
from viewer.dialogs.new_timepoint import NewTimepointDialog
from viewer.dialogs.sign import SignDialog
from viewer.main_window.window import MainWindow

pytestmark = pytest.mark.qt

Qt = QtCore.Qt
DEMO_DATE = date(1994, 4, 17)  # StudyDate = SeriesDate = AcquisitionDate of the demo CT


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


def load(qtbot, window: MainWindow, folder: Path | str) -> None:
    done: list[object] = []
    task = window.open_folder(str(folder))
    task.signals.finished.connect(done.append)  # after the window's own slot has run
    task.signals.failed.connect(done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=30000)


def new_timepoint_dialog(window: MainWindow) -> NewTimepointDialog:
    window.new_timepoint_action.trigger()
    (dialog,) = [d for d in window.findChildren(NewTimepointDialog) if d.isVisible()]
    return dialog


def answer_modal(name: str, button_text: str, seen: list[str]) -> QtCore.QTimer:
    """Click *button_text* in the modal box named *name* once it opens; its text goes to *seen*."""
    timer = QtCore.QTimer()

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == name:
            seen.append(f"{box.text()} {box.informativeText()}")
            (button,) = [b for b in box.buttons() if b.text().startswith(button_text)]
            timer.stop()
            button.click()

    timer.timeout.connect(poll)
    timer.start(30)
    return timer


def confirm_events(database) -> list:
    return [e for e in database.audit_events(entity="timepoint") if e.action == "confirm"]


# -- point 4 ------------------------------------------------------------------------------------


def test_point4_scan_date_from_dicom_not_today(qtbot, window: MainWindow, database) -> None:
    window.add_patient("P4-001")
    load(qtbot, window, DEMO_FOLDER)
    dialog = new_timepoint_dialog(window)
    assert dialog.chosen_date() == DEMO_DATE != date.today()
    assert "1994-04-17" in dialog.date_source.text()
    dialog.accept()
    qtbot.waitUntil(lambda: window.session.current_timepoint is not None)
    assert window.session.current_timepoint.scan_date == DEMO_DATE
    assert confirm_events(database) == []


def test_point4_typed_date_differing_from_dicom_asks(qtbot, window: MainWindow, database) -> None:
    window.add_patient("P4-002")
    load(qtbot, window, DEMO_FOLDER)
    dialog = new_timepoint_dialog(window)
    dialog.scan_date.setDate(QtCore.QDate(1994, 4, 24))
    seen: list[str] = []
    timer = answer_modal("scanDateQuestion", "Use 1994-04-17", seen)
    dialog.accept()  # "no": back to the DICOM date, the dialog stays open
    timer.stop()
    assert "1994-04-24 differs from the date in the DICOM series (1994-04-17)" in seen[0]
    assert dialog.isVisible()
    assert dialog.chosen_date() == DEMO_DATE
    assert window.session.timepoints() == []
    dialog.scan_date.setDate(QtCore.QDate(1994, 4, 24))
    timer = answer_modal("scanDateQuestion", "Use 1994-04-24", seen)
    dialog.accept()
    timer.stop()
    qtbot.waitUntil(lambda: window.session.current_timepoint is not None)
    assert window.session.current_timepoint.scan_date == date(1994, 4, 24)
    (event,) = confirm_events(database)
    assert "1994-04-24" in event.reason
    assert "1994-04-17" in event.reason


def test_point4_dialog_refuses_date_before_baseline_and_same_label(
    qtbot, window: MainWindow
) -> None:
    window.add_patient("P4-003")
    load(qtbot, window, DEMO_FOLDER)
    new_timepoint_dialog(window).accept()
    qtbot.waitUntil(lambda: window.session.current_timepoint is not None)
    dialog = new_timepoint_dialog(window)
    dialog.attach.setChecked(False)  # a follow-up whose series comes later
    dialog.scan_date.setDate(QtCore.QDate(1994, 1, 1))
    dialog.accept()
    assert dialog.isVisible()
    assert "1994-01-01 is before the baseline scan (baseline, 1994-04-17)" in dialog.error.text()
    dialog.label.setText("Baseline ")
    dialog.scan_date.setDate(QtCore.QDate(1994, 6, 20))
    dialog.accept()
    assert dialog.isVisible()
    assert "already has a timepoint baseline" in dialog.error.text()
    dialog.label.setText("C3")
    dialog.accept()
    qtbot.waitUntil(lambda: window.session.current_timepoint.label == "C3")
    assert [tp.label for tp in window.session.timepoints()] == ["baseline", "C3"]


# -- point 5 ------------------------------------------------------------------------------------


def test_point5_other_patient_series_warns_and_attach_is_audited(
    qtbot, window: MainWindow, database, shared_data: Path
) -> None:
    session = window.session
    window.add_patient("P5-001")
    load(qtbot, window, DEMO_FOLDER)  # DICOM patient ID CRLM-CT-1006
    new_timepoint_dialog(window).accept()
    qtbot.waitUntil(lambda: session.current_timepoint is not None)
    assert session.current_timepoint.dicom_patient_id == "CRLM-CT-1006"
    dialog = new_timepoint_dialog(window)
    dialog.label.setText("C3")
    dialog.attach.setChecked(False)
    dialog.scan_date.setDate(QtCore.QDate(1994, 6, 20))
    dialog.accept()
    qtbot.waitUntil(lambda: session.current_timepoint.label == "C3")
    demo = window.viewer.volume

    seen: list[str] = []
    timer = answer_modal("otherPatientWarning", "Do not open it", seen)
    load(qtbot, window, shared_data / "ct-chest-30")  # DICOM patient ID Lung_Dx-A0002
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    timer.stop()
    assert "“Lung_Dx-A0002”" in seen[0]
    assert "“CRLM-CT-1006”" in seen[0]
    assert "P5-001" in seen[0]
    assert window.viewer.volume is demo  # not shown
    assert session.current_timepoint.series_instance_uid is None  # not attached
    assert confirm_events(database) == []

    timer = answer_modal("otherPatientWarning", "Attach to C3 anyway", seen)
    load(qtbot, window, shared_data / "ct-chest-30")
    qtbot.waitUntil(
        lambda: session.current_timepoint.series_instance_uid is not None, timeout=10000
    )
    timer.stop()
    assert window.viewer.volume.patient_id == "Lung_Dx-A0002"
    assert session.current_timepoint.dicom_patient_id == "Lung_Dx-A0002"
    (event,) = confirm_events(database)
    assert event.reason == "attach series of other patient ID Lung_Dx-A0002 to subject P5-001"
    assert database.verify_audit().ok


def test_point5_switching_patient_clears_the_image(qtbot, window: MainWindow) -> None:
    window.add_patient("P5-002")
    load(qtbot, window, DEMO_FOLDER)
    new_timepoint_dialog(window).accept()
    qtbot.waitUntil(lambda: window.session.current_timepoint is not None)
    assert window.viewer.volume is not None
    window.add_patient("P5-003")  # opens the new patient
    assert window.session.patient.subject_id == "P5-003"
    assert window.viewer.volume is None
    assert window.viewer.image_item.image is None
    assert window.viewer.annotation("top_left") == ""
    window.browser.tree.itemClicked.emit(window.browser.tree.topLevelItem(0), 0)  # back to P5-002
    qtbot.waitUntil(lambda: window.session.patient.subject_id == "P5-002")
    assert window.viewer.volume is not None  # its own series is shown again


# -- point 12 -----------------------------------------------------------------------------------


def _sign_dialog(qtbot, window: MainWindow) -> SignDialog:
    open_demo(window.session, window.library)
    qtbot.waitUntil(lambda: window.session.assessment is not None)
    window.sign_action.trigger()
    (dialog,) = [d for d in window.findChildren(SignDialog) if d.isVisible()]
    return dialog


def test_point12_meaning_is_chosen_from_a_list(qtbot, window: MainWindow) -> None:
    dialog = _sign_dialog(qtbot, window)
    response = str(window.session.assessment.timepoints[-1].overall)
    assert isinstance(dialog.meaning, QComboBox)
    assert not dialog.meaning.isEditable()
    items = [dialog.meaning.itemText(i) for i in range(dialog.meaning.count())]
    assert items[0] == f"I confirm the response {response} at C3"
    assert f"I reviewed and approved the response {response} at C3" in items
    # Tab from the password goes to Sign, never to a field that keeps text
    chain: list[QWidget] = []
    widget: QWidget = dialog.password
    for _ in range(3):
        widget = widget.nextInFocusChain()
        while not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
        chain.append(widget)
    assert chain[0] is dialog.sign_button
    assert dialog.meaning not in chain[:1]
    dialog.reject()


def test_point12_wrong_password_keeps_focus_and_return_signs(
    qtbot, window: MainWindow, database
) -> None:
    dialog = _sign_dialog(qtbot, window)
    tp = window.session.current_timepoint
    dialog.username.setText("ivan")
    dialog.meaning.setCurrentIndex(1)
    chosen = dialog.meaning.currentText()
    dialog.password.setFocus()
    qtbot.keyClicks(dialog.password, "wrong-pw")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "wrong username or password" in dialog.error.text()
    # the field keeping focus (focusWidget: offscreen windows are never "active")
    assert dialog.password.text() == ""
    assert dialog.focusWidget() is dialog.password
    assert not window.session.is_locked(tp.id)
    qtbot.keyClicks(dialog.password, "investigator-pw")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.is_locked(tp.id))
    assert not dialog.isVisible()
    (signature,) = window.session.signatures()
    assert signature.meaning == chosen
    assert "investigator-pw" not in signature.meaning
    assert "wrong-pw" not in signature.meaning
