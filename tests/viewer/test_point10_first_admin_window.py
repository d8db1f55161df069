"""Issue 11, point 10, in the window: first administrator → investigator → signature.

From an empty CALIPER_HOME, on the real dialogs (pytest-qt): the first start asks for the
first administrator; Admin → Readers… adds an investigator and resets their password; the
investigator logs in, must choose a new password, and signs a timepoint.  A reader who is
not an admin finds Admin → Readers… disabled with a tool tip that says how to get one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.main import SeriesLibrary, build_main_window, log_in, open_demo
from recist.model import Role
from storage import paths
from storage.db import open_database
from viewer.dialogs.first_admin import FirstAdminDialog
from viewer.dialogs.login import LoginDialog
from viewer.dialogs.new_password import NewPasswordDialog
from viewer.dialogs.readers import ReadersDialog

pytestmark = pytest.mark.qt


def when_modal(kind: type, act: Callable[[QWidget], None], timeout_ms: int = 20000) -> None:
    """Run ``act(dialog)`` as soon as a modal dialog of *kind* is shown (from the event loop)."""
    waited = [0]

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind) and dialog.isVisible():
            act(dialog)
        elif waited[0] < timeout_ms:
            waited[0] += 20
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


def click(button: QWidget) -> None:
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(field: QWidget, text: str) -> None:
    field.clear()
    QTest.keyClicks(field, text)


def fill_first_admin(dialog: FirstAdminDialog) -> None:
    type_into(dialog.full_name, "Dr Ada Admin")
    type_into(dialog.username, "ada")
    type_into(dialog.password, "admin pass")
    type_into(dialog.repeat, "admin typo")
    click(dialog.create_button)
    assert dialog.isVisible()  # stays open, says what to fix
    assert "differ" in dialog.error.text()
    type_into(dialog.repeat, "admin pass")
    click(dialog.create_button)


def test_point10_first_admin_adds_an_investigator_who_signs(qtbot) -> None:
    database = open_database(None)  # CALIPER_HOME is this test's empty folder
    try:
        assert database.readers.count() == 0
        when_modal(FirstAdminDialog, fill_first_admin)
        admin = log_in(database, ask_first_admin=True)
        assert admin is not None
        assert (admin.username, admin.role) == ("ada", Role.ADMIN)
        assert database.readers.get("system").role is Role.ADMIN  # as `caliper db init` does

        window = build_main_window(database, admin, SeriesLibrary(paths.config_dir() / "s.json"))
        qtbot.addWidget(window)
        assert window.readers_action.isEnabled()
        window.readers_action.trigger()  # Admin → Readers…
        dialog: ReadersDialog = window.readers_dialog
        type_into(dialog.new_username, "ivan")
        type_into(dialog.new_name, "Dr Ivan Investigator")
        dialog.new_role.setCurrentText("investigator")
        type_into(dialog.new_password, "first pass")
        type_into(dialog.new_repeat, "first pass")
        click(dialog.add_button)
        assert "Added Dr Ivan Investigator" in dialog.message.text()
        rows = {
            dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text()
            for r in range(dialog.table.rowCount())
        }
        assert rows == {"ada": "admin", "ivan": "investigator", "system": "admin"}
        for field, text in (
            (dialog.new_username, "ivan"),
            (dialog.new_name, "Ivan Again"),
            (dialog.new_password, "x"),
            (dialog.new_repeat, "x"),
        ):
            type_into(field, text)
        click(dialog.add_button)  # the same username again: refused, with the reason
        assert "already exists" in dialog.message.text()

        dialog.select_reader("ivan")
        type_into(dialog.reset_password, "temp pass")
        type_into(dialog.reset_repeat, "temp pass")
        click(dialog.reset_button)
        assert "choose a new one when they next log in" in dialog.message.text()
        state = next(
            dialog.table.item(r, 3).text()
            for r in range(dialog.table.rowCount())
            if dialog.table.item(r, 0).text() == "ivan"
        )
        assert state == "must choose a new password"
        dialog.select_reader("system")
        assert not dialog.reset_button.isEnabled()  # scripts only: no password to reset
        dialog.close()
        window.close()

        def log_in_as_ivan(login: LoginDialog) -> None:
            login.username.setCurrentText("ivan")
            type_into(login.password, "temp pass")

            def choose(new: NewPasswordDialog) -> None:
                type_into(new.password, "ivan own")
                type_into(new.repeat, "ivan own")
                new._on_save()

            when_modal(NewPasswordDialog, choose)
            login._on_log_in()

        when_modal(LoginDialog, log_in_as_ivan)
        ivan = log_in(database)
        assert ivan is not None
        assert ivan.role is Role.INVESTIGATOR
        assert not database.readers.password_change_required("ivan")

        investigator_window = build_main_window(
            database, ivan, SeriesLibrary(paths.config_dir() / "s.json")
        )
        qtbot.addWidget(investigator_window)
        assert not investigator_window.readers_action.isEnabled()
        assert "only an administrator" in investigator_window.readers_action.toolTip()
        session = investigator_window.session
        open_demo(session, investigator_window.library)
        c3 = next(tp for tp in session.timepoints() if tp.label == "C3")
        session.sign(c3.id, "ivan", "ivan own")
        assert session.is_locked(c3.id)
        assert database.verify_audit().ok
    finally:
        database.close()


def test_point10_offscreen_first_start_creates_system_and_a_local_reader() -> None:
    database = open_database(None)
    try:
        reader = log_in(database)  # offscreen: nobody could answer the first-admin dialog
        assert reader is not None
        assert reader.role is Role.READER
        assert database.readers.get("system").role is Role.ADMIN
    finally:
        database.close()
