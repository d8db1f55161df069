"""Patient → Conversion record…, Surgery and pathology…, Survival data… in the window (issue 15)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.main import SeriesLibrary, build_main_window
from recist.model import Role
from storage.db import open_database
from viewer.dialogs.conversion import ConversionRecordDialog
from viewer.dialogs.surgery import SurgeryRecordDialog
from viewer.dialogs.survival import SurvivalDataDialog

pytestmark = pytest.mark.qt


def test_patient_menu_opens_the_record_dialogs_of_the_open_patient(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    db = open_database(f"sqlite:///{tmp_path / 'caliper.sqlite3'}")
    try:
        reader = db.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "ivan-pw")
        win = build_main_window(db, reader, SeriesLibrary(tmp_path / "series_locations.json"))
        qtbot.addWidget(win)
        menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Patient")
        entries = [a.text() for a in menu.actions()]
        assert entries == ["Conversion record…", "Surgery and pathology…", "Survival data…"]
        assert not any(a.isEnabled() for a in menu.actions())  # no patient open yet
        win.session.add_patient("S-010", "CRLM", first_dose_date=date(2026, 1, 5))
        win.session.open_patient("S-010")
        assert all(a.isEnabled() for a in menu.actions())
        for action, kind in zip(
            menu.actions(),
            (ConversionRecordDialog, SurgeryRecordDialog, SurvivalDataDialog),
            strict=True,
        ):
            action.trigger()
            dialog = win.findChild(kind)
            assert dialog is not None
            assert dialog.isVisible()
            assert "S-010" in dialog.windowTitle()
            if kind is ConversionRecordDialog:
                assert dialog.username == "ivan"  # an investigator signs as himself
            dialog.reject()
    finally:
        db.close()
