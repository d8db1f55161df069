"""Start-up of the workstation: empty user folder → database, local reader, demo study on screen."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.main import DEMO_SUBJECT_ID, run_gui
from recist.model import Role
from storage.db import AuthenticationError, open_database
from viewer.login_dialog import LoginDialog
from viewer.sign_dialog import SignDialog, default_meaning

pytestmark = pytest.mark.qt


def _run_until(app: QApplication, done, limit_ms: int = 60000) -> int:
    """Run ``run_gui`` and quit its event loop once ``done(window)`` holds (or after *limit_ms*)."""
    timer = QTimer()
    timer.setInterval(50)
    waited = {"ms": 0}

    def check() -> None:
        waited["ms"] += 50
        window = getattr(app, "main_window", None)
        if (window is not None and done(window)) or waited["ms"] > limit_ms:
            timer.stop()
            app.quit()

    timer.timeout.connect(check)
    timer.start()
    return run_gui(None, demo=False)


@pytest.fixture
def fresh_app(qapp, monkeypatch):
    """The QApplication, with sys.excepthook and the window reference restored afterwards."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    yield qapp
    window = getattr(qapp, "main_window", None)
    if window is not None:
        window.close()
        window.deleteLater()
        del qapp.main_window
    qapp.setStyleSheet("")


def test_first_start_creates_the_database_and_opens_the_demo(fresh_app) -> None:
    home = Path(os.environ["CALIPER_HOME"])
    assert not (home / "data" / "caliper.sqlite3").exists()

    seen = {}
    code = _run_until(fresh_app, lambda w: hasattr(w, "demo_ready_seconds") and seen.setdefault("visible", w.isVisible()))

    assert code == 0
    assert (home / "data" / "caliper.sqlite3").is_file()
    window = fresh_app.main_window
    assert seen["visible"]  # (quitting the event loop closes the window)
    session = window.session
    assert session.patient.subject_id == DEMO_SUBJECT_ID
    assert session.reader.role is Role.READER
    assert [tp.label for tp in session.timepoints()] == ["baseline", "C3"]
    assert window.viewer.volume.voxels.shape == (14, 512, 512)
    assert window.lesion_model.rowCount() == 3
    assert window.response_panel.overall("C3") == "PR"
    assert window.viewer.annotation  # the image view shows patient / slice text
    print(f"\nstart-up: splash {window.splash_seconds:.2f} s, main window {window.startup_seconds:.2f} s, "
          f"demo ready {window.demo_ready_seconds:.2f} s after run_gui started")
    assert window.splash_seconds < 2.0


def test_second_start_reopens_without_seeding_again(fresh_app) -> None:
    _run_until(fresh_app, lambda w: hasattr(w, "demo_ready_seconds"))
    fresh_app.main_window.close()
    del fresh_app.main_window

    _run_until(fresh_app, lambda w: w.session.patient is not None)

    session = fresh_app.main_window.session
    assert [p.subject_id for p in session.patients()] == [DEMO_SUBJECT_ID]
    assert session.patient.subject_id == DEMO_SUBJECT_ID
    assert len(session.lesions()) == 3


def test_login_dialog_retries_until_the_password_is_right(qtbot, tmp_path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'login.sqlite3'}")
    try:
        database.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "right")
        dialog = LoginDialog(["ivan"], database.readers.authenticate)
        qtbot.addWidget(dialog)
        dialog.password.setText("wrong")
        dialog._on_log_in()
        assert dialog.reader is None and "wrong username or password" in dialog.error.text()
        dialog.password.setText("right")
        dialog._on_log_in()
        assert dialog.reader.username == "ivan" and dialog.result() == LoginDialog.DialogCode.Accepted
    finally:
        database.close()
    assert issubclass(AuthenticationError, Exception)


def test_sign_dialog_prefills_the_meaning(qtbot) -> None:
    dialog = SignDialog("C6", "PR", "ivan")
    qtbot.addWidget(dialog)
    assert dialog.meaning.toPlainText() == "I confirm the response PR at C6"
    assert default_meaning(None, "C3") == "I confirm the assessment at C3"
    dialog.password.setText("pw")
    assert dialog.values() == ("ivan", "pw", "I confirm the response PR at C6")
