"""Trial → Cohort…, remembered window settings, and a refused caliper that disappears."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.main import DEMO_FOLDER, SeriesLibrary, build_main_window
from recist.model import Role
from storage.db import open_database
from viewer.cohort.window import CohortWidget

from .test_workflow import drag

pytestmark = pytest.mark.qt


@pytest.fixture
def database(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def reader(database):
    return database.readers.create("rita", "Rita Reader", Role.READER, "reader-pw")


def _window(qtbot, database, reader, tmp_path: Path, **kwargs):
    win = build_main_window(
        database, reader, SeriesLibrary(tmp_path / "series_locations.json"), **kwargs
    )
    qtbot.addWidget(win)
    return win


def test_cohort_action_opens_the_cohort_view_on_the_same_database(
    qtbot, database, reader, tmp_path
) -> None:
    win = _window(qtbot, database, reader, tmp_path)
    win.session.add_patient("S-001", trial="CRLM-01")
    assert win.cohort_action.isEnabled()

    dialog = win._on_cohort()

    assert isinstance(dialog, QDialog)
    assert dialog.isVisible()
    (widget,) = dialog.findChildren(CohortWidget)
    assert widget.controller is win.cohort_controller
    assert "CRLM-01" in list(win.cohort_controller.trials())
    dialog.close()


def test_window_settings_are_remembered_between_starts(qtbot, database, reader, tmp_path) -> None:
    first = _window(qtbot, database, reader, tmp_path, remember_settings=True)
    first.session.add_patient("S-002", trial="CRLM-01")
    first.session.open_patient("S-002")
    first.set_tool("line")
    first.preset_box.setCurrentText("lung")
    first.resize(780, 700)
    first.show()
    qtbot.waitExposed(first)
    shown = (first.width(), first.height())  # the offscreen screen may clamp the size
    first.close()
    ini = Path(os.environ["CALIPER_HOME"]) / "config" / "window.ini"
    assert ini.is_file()

    second = _window(qtbot, database, reader, tmp_path, remember_settings=True)
    assert second.tool_actions["bidirectional"].isChecked()  # the default before restoring
    last_patient = second.restore_settings()

    assert last_patient == "S-002"
    assert second.tool_actions["line"].isChecked()
    assert second.preset_box.currentText() == "lung"
    assert (second.width(), second.height()) == shown != (1600, 1000)


def test_windows_built_without_settings_remember_nothing(qtbot, database, reader, tmp_path) -> None:
    win = _window(qtbot, database, reader, tmp_path)
    win.set_tool("line")
    win.close()
    assert win.restore_settings() is None
    assert not (Path(os.environ["CALIPER_HOME"]) / "config" / "window.ini").exists()


def test_a_caliper_the_session_refuses_does_not_stay_on_screen(
    qtbot, database, reader, tmp_path
) -> None:
    win = _window(qtbot, database, reader, tmp_path)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    win.open_folder(str(DEMO_FOLDER))  # no patient open: recording must be refused
    qtbot.waitUntil(
        lambda: win.viewer.volume is not None and not win.progress.isVisible(), timeout=30000
    )
    win.set_tool("line")

    drag(qtbot, win, (200, 250), (260, 250))

    messages = []
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            messages.append(widget.text())
            widget.close()
    assert messages == ["Could not record the measurement"]
    assert win.session.patient is None
    assert win.viewer.provisional_item is None
