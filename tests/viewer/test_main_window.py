"""Start-up of the workstation: empty user folder → database, local reader, demo study on screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from app.main import DEMO_SUBJECT_ID
from recist.model import Role
from storage.db import AuthenticationError, open_database
from viewer.dialogs.login import LoginDialog
from viewer.dialogs.sign import SignDialog, default_meaning

pytestmark = pytest.mark.qt

REPO = Path(__file__).resolve().parents[2]


#: Runs ``run_gui`` in a fresh process (as ``caliper`` does) and prints what the window shows.
#: A subprocess, because quitting ``app.exec()`` leaves the test process's QApplication unable
#: to deliver queued cross-thread signals to later tests.
_START_SCRIPT = r"""
import json, sys, time
started = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
import app.main as main
state = {}
def check():
    w = getattr(app, "main_window", None)
    demo = sys.argv[1] == "demo"
    ready = w is not None and (
        hasattr(w, "demo_ready_seconds") if demo else w.session.patient is not None
    )
    if not ready and time.perf_counter() - started < 60:
        QTimer.singleShot(50, check)
        return
    if w is not None:
        s = w.session
        state.update(
            visible=w.isVisible(), subject=s.patient.subject_id if s.patient else None,
            role=s.reader.role.value,
            timepoints=[tp.label for tp in s.timepoints()] if s.patient else [],
            patients=[p.subject_id for p in s.patients()],
            lesions=len(s.lesions()) if s.patient else 0,
            shape=list(w.viewer.volume.voxels.shape) if w.viewer.volume is not None else None,
            rows=w.lesion_model.rowCount(), c3=w.response_panel.overall("C3"),
            splash=w.splash_seconds, window=w.startup_seconds,
            demo=getattr(w, "demo_ready_seconds", None), prior=w.prior.isVisible())
    app.quit()
QTimer.singleShot(50, check)
code = main.run_gui(None, demo=False)
print("STATE " + json.dumps(dict(state, code=code)))
"""


def _start(mode: str) -> dict:
    """Start Caliper in a subprocess on this test's CALIPER_HOME; return the window's state."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", _START_SCRIPT, mode],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("STATE ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1][len("STATE ") :])


def test_first_start_creates_the_database_and_opens_the_demo() -> None:
    home = Path(os.environ["CALIPER_HOME"])
    assert not (home / "data" / "caliper.sqlite3").exists()

    state = _start("demo")

    assert state["code"] == 0
    assert (home / "data" / "caliper.sqlite3").is_file()
    assert state["visible"]
    assert state["subject"] == DEMO_SUBJECT_ID
    assert state["role"] == "reader"
    assert state["timepoints"] == ["baseline", "C3"]
    assert state["shape"] == [30, 512, 512]
    assert state["rows"] == 3
    assert state["c3"] == "PR"
    assert state["prior"]  # T1 selected: its baseline key slice beside the C3 series
    print(  # noqa: T201 - the start-up times, for the reader of `pytest -s`
        f"\nstart-up: splash {state['splash']:.2f} s, main window {state['window']:.2f} s, "
        f"demo ready {state['demo']:.2f} s after run_gui started"
    )
    assert state["splash"] < 2.0


def test_second_start_reopens_without_seeding_again() -> None:
    _start("demo")
    state = _start("patient")
    assert state["patients"] == [DEMO_SUBJECT_ID]
    assert state["subject"] == DEMO_SUBJECT_ID
    assert state["lesions"] == 3


def test_login_dialog_retries_until_the_password_is_right(qtbot, tmp_path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'login.sqlite3'}")
    try:
        database.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "right")
        dialog = LoginDialog(["ivan"], database.readers.authenticate)
        qtbot.addWidget(dialog)
        dialog.password.setText("wrong")
        dialog._on_log_in()
        assert dialog.reader is None
        assert "wrong username or password" in dialog.error.text()
        dialog.password.setText("right")
        dialog._on_log_in()
        assert dialog.reader.username == "ivan"
        assert dialog.result() == LoginDialog.DialogCode.Accepted
    finally:
        database.close()
    assert issubclass(AuthenticationError, Exception)


def test_a_refused_log_in_shows_its_whole_message(qtbot, tmp_path) -> None:
    """The wrapped message used to be cut to the height the dialog had before it (seen under
    Xvfb: only the middle line of three was readable)."""
    database = open_database(f"sqlite:///{tmp_path / 'login.sqlite3'}")
    try:
        database.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "right")
        dialog = LoginDialog(["ivan"], database.readers.authenticate)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.password.setText("wrong")
        dialog._on_log_in()
        qtbot.wait(20)
        label = dialog.error
        assert label.height() >= label.heightForWidth(label.width())
    finally:
        database.close()


def test_the_last_reader_who_logged_in_here_is_offered_first(qtbot, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from app import main

    database = open_database(f"sqlite:///{tmp_path / 'login.sqlite3'}")
    offered: list[list[str]] = []

    def log_in_as(username: str, password: str):  # noqa: ANN202
        def fake_exec(dialog: LoginDialog) -> int:
            names = [dialog.username.itemText(i) for i in range(dialog.username.count())]
            offered.append(names)
            dialog.username.setCurrentText(username)
            dialog.password.setText(password)
            dialog._on_log_in()
            return int(dialog.result())

        monkeypatch.setattr(LoginDialog, "exec", fake_exec)
        return main.log_in(database, ask_first_admin=False)

    try:
        database.readers.create("alice", "Alice Reader", Role.READER, "a-pw")
        database.readers.create("zoe", "Zoe Investigator", Role.INVESTIGATOR, "z-pw")
        assert log_in_as("zoe", "z-pw").username == "zoe"
        assert offered[-1][0] == "alice"  # nobody logged in here yet
        assert log_in_as("alice", "wrong") is None
        assert offered[-1][0] == "zoe"  # the last one who logged in
    finally:
        database.close()


def test_sign_dialog_prefills_the_meaning(qtbot) -> None:
    dialog = SignDialog("C6", "PR", "ivan")
    qtbot.addWidget(dialog)
    assert dialog.meaning.currentText() == "I confirm the response PR at C6"
    assert default_meaning(None, "C3") == "I confirm the assessment at C3"
    dialog.password.setText("pw")
    assert dialog.values() == ("ivan", "pw", "I confirm the response PR at C6")


# -- File → Find on PACS… and re-opening series ------------------------------------------------


@pytest.fixture
def pacs_window(qtbot, tmp_path):  # noqa: ANN001, ANN201 - a MainWindow with a real PacsController
    from app.main import SeriesLibrary, build_main_window
    from app.pacs.controller import PacsController

    database = open_database(f"sqlite:///{tmp_path / 'pacs.sqlite3'}")
    controller = PacsController()
    reader = database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")
    window = build_main_window(
        database,
        reader,
        SeriesLibrary(tmp_path / "series_locations.json"),
        pacs_controller=controller,
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        yield window
    finally:
        controller.shutdown()
        database.close()


def test_find_on_pacs_opens_the_dialog_and_opens_what_it_retrieves(qtbot, pacs_window) -> None:  # noqa: ANN001
    from PySide6.QtGui import QKeySequence

    from app.main import DEMO_FOLDER
    from storage.dicom.pacs import PacsNode, save_nodes
    from viewer.dialogs.pacs import FindOnPacsDialog

    window = pacs_window
    action = window.find_on_pacs_action
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    assert action.shortcut() == QKeySequence("Ctrl+Shift+O")
    # empty PACS configuration: disabled, and the tool tip says how to add a node
    assert not action.isEnabled()
    assert "caliper pacs add" in action.toolTip()

    dialog = window._on_find_on_pacs()
    assert isinstance(dialog, FindOnPacsDialog)
    assert dialog.isVisible()
    assert dialog.parent() is window
    assert dialog.pacs_combo.count() == 0
    assert "No PACS configured" in dialog.status_label.text()
    window.add_patient("PACS-001")
    window.new_timepoint_action.trigger()
    next(d for d in window.findChildren(QDialog) if d.objectName() == "newTimepointDialog").accept()
    qtbot.waitUntil(lambda: window.session.current_timepoint is not None)
    # a retrieved series is opened like a folder: loaded, shown and attached to the timepoint
    dialog.series_retrieved.emit(str(DEMO_FOLDER))
    qtbot.waitUntil(
        lambda: window.viewer.volume is not None and not window.progress.isVisible(), timeout=30000
    )
    assert (
        window.session.current_timepoint.series_instance_uid
        == window.viewer.volume.series_instance_uid
    )
    dialog.reject()

    # a node configured while Caliper runs enables the action when the File menu opens
    save_nodes([PacsNode(name="site-pacs", dicomweb_url="http://127.0.0.1:9/dicom-web")])
    file_menu.aboutToShow.emit()
    assert action.isEnabled()
    assert "site-pacs" in action.toolTip()
    action.trigger()
    (dialog,) = [d for d in window.findChildren(FindOnPacsDialog) if d.isVisible()]
    assert dialog.pacs_combo.currentText() == "site-pacs"
    assert dialog.search_button.isEnabled()
    dialog.reject()


def test_library_reopens_the_right_series_of_a_folder_holding_several(
    tmp_path, shared_data
) -> None:  # noqa: ANN001
    import shutil

    import pydicom

    from app.main import SeriesLibrary

    mixed = tmp_path / "mixed"
    shutil.copytree(shared_data / "ct-chest-30", mixed / "ct")
    shutil.copytree(shared_data / "mr-brain-24", mixed / "mr")
    mr_uid = str(
        pydicom.dcmread(
            next((mixed / "mr").glob("*.dcm")), stop_before_pixels=True
        ).SeriesInstanceUID
    )
    index = tmp_path / "series_locations.json"
    largest = SeriesLibrary(index).open_folder(mixed)  # no UID: the series with most images
    assert largest.series_instance_uid != mr_uid
    assert largest.voxels.shape[0] == 30
    index.write_text(
        json.dumps({largest.series_instance_uid: str(mixed), mr_uid: str(mixed)}), encoding="utf-8"
    )

    library = SeriesLibrary(index)  # a later session, nothing cached
    mr = library.volume(mr_uid)
    assert mr.series_instance_uid == mr_uid
    assert mr.voxels.shape[0] == 24
    assert library.volume(largest.series_instance_uid).voxels.shape[0] == 30
