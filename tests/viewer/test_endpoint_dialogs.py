"""The patient record dialogs (conversion, surgery and pathology, survival) on a real database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.session import ReadingSession
from recist.model import DrawnGeometry, Role, Segment
from storage.db import Database, open_database
from viewer.dialogs.conversion import ConversionRecordDialog
from viewer.dialogs.sign import SignDialog
from viewer.dialogs.surgery import SurgeryRecordDialog
from viewer.dialogs.survival import SurvivalDataDialog

pytestmark = pytest.mark.qt


def drawn(long_mm: float) -> DrawnGeometry:
    seg = Segment((0.0, 0.0), (long_mm, 0.0), (0.0, 0.0, 0.0), (long_mm, 0.0, 0.0))
    return DrawnGeometry("1.2.3", "1.2.3.10", 10, seg)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "caliper.sqlite3"
    with open_database(str(path)) as db:
        db.readers.create("rita", "Rita Reader", Role.READER, "rita-pw")
        db.readers.create("ivan", "Ivan Investigator", Role.INVESTIGATOR, "ivan-pw")
    return path


@pytest.fixture
def database(tmp_path: Path, template_db: Path) -> Iterator[Database]:
    for suffix in ("", "-wal", "-shm"):
        source = template_db.with_name(template_db.name + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / source.name)
    db = open_database(str(tmp_path / template_db.name))
    yield db
    db.close()


@pytest.fixture
def session(database: Database) -> ReadingSession:
    """S-001 with a liver target 50 mm at baseline and 30 mm at C3 (liver PR)."""
    s = ReadingSession(database, database.readers.authenticate("rita", "rita-pw"))
    s.add_patient("S-001", "CRLM", first_dose_date=date(2026, 1, 5))
    s.open_patient("S-001")
    s.add_timepoint("Baseline", date(2026, 1, 2))
    m = s.record_measurement(drawn(50.0), organ="liver")
    s.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    s.record_measurement(drawn(30.0), lesion_id=m.lesion_id)
    return s


def fill_conversion(dialog: ConversionRecordDialog, qtbot) -> None:  # noqa: ANN001
    qtbot.keyClicks(dialog.mdt_date, "2026-03-20")
    dialog.mdt_outcome.setCurrentIndex(dialog.mdt_outcome.findData("resectable"))
    dialog.procedure_boxes["resection"].setChecked(True)
    dialog.tumour_free.setCurrentIndex(dialog.tumour_free.findData(True))
    qtbot.keyClicks(dialog.flr_pct, "45")
    qtbot.keyClicks(dialog.bilirubin, "12")
    qtbot.keyClicks(dialog.albumin, "41")
    qtbot.keyClicks(dialog.inr, "1.1")
    dialog.ascites.setCurrentIndex(dialog.ascites.findData("none"))
    dialog.encephalopathy.setCurrentIndex(dialog.encephalopathy.findData("none"))
    dialog.other_labs_ok.setCurrentIndex(dialog.other_labs_ok.findData(True))


def test_conversion_form_shows_child_pugh_and_criteria_reasons_live(
    qtbot,
    session: ReadingSession,  # noqa: ANN001
) -> None:
    dialog = ConversionRecordDialog(session.endpoints)
    qtbot.addWidget(dialog)
    assert "undetermined" in dialog.verdict.text()
    assert dialog.flr_pct.property("mark") == "missing"  # missing inputs are flagged
    assert "future liver remnant" in dialog.missing_label.text()
    fill_conversion(dialog, qtbot)
    assert "class A" in dialog.child_pugh_label.text()
    assert "Score 5" in dialog.child_pugh_label.text()
    assert "Conversion criteria met" in dialog.verdict.text()
    text = dialog.criteria_label.text()
    assert "best liver response PR at C3" in text
    assert "FLR 45 % &gt; 40 %" in text
    assert dialog.flr_pct.property("mark") == ""
    dialog.flr_pct.setText("40")
    assert "Conversion criteria not met" in dialog.verdict.text()
    assert "does not exceed 40 %" in dialog.criteria_label.text()
    dialog.albumin_unit.setCurrentIndex(
        dialog.albumin_unit.findData("g/dL")
    )  # 41 g/dL: implausible
    assert dialog.albumin.property("mark") == "invalid"
    assert "Albumin: albumin 41 g/dL is outside the plausible range" in dialog.error.text()
    assert dialog.error.isVisibleTo(dialog)
    assert (
        "Child-Pugh albumin" in dialog.missing_label.text()
    )  # the refused value counts as missing


def test_conversion_saved_and_audited_and_a_bad_field_keeps_the_dialog_open(
    qtbot,
    database: Database,
    session: ReadingSession,  # noqa: ANN001
) -> None:
    dialog = ConversionRecordDialog(session.endpoints)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_conversion(dialog, qtbot)
    dialog.mdt_date.setText("2026-03-32")
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.isVisible()
    assert "MDT date" in dialog.error.text()
    assert dialog.mdt_date.property("mark") == "invalid"
    assert dialog.flr_pct.text() == "45"  # nothing typed is lost
    assert session.endpoints.records().conversion is None
    dialog.mdt_date.setText("2026-03-20")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    record = session.endpoints.records().conversion
    assert str(record.flr_pct) == "45"
    assert record.child_pugh.albumin is not None
    events = list(database.audit_events(entity="conversion_record"))
    assert [e.action for e in events] == ["create"]
    assert events[0].reader_id == session.reader.id


def test_sign_with_a_wrong_password_keeps_the_sign_dialog_open(
    qtbot,
    database: Database,
    session: ReadingSession,  # noqa: ANN001
) -> None:
    dialog = ConversionRecordDialog(session.endpoints, "ivan")
    qtbot.addWidget(dialog)
    dialog.show()
    fill_conversion(dialog, qtbot)
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    sign = dialog.sign_dialog
    assert isinstance(sign, SignDialog)
    assert sign.isVisible()
    assert session.endpoints.records().conversion is not None  # saved before signing
    assert sign.meaning.currentText() == "I confirm the conversion record of S-001: criteria met"
    qtbot.keyClicks(sign.password, "wrong")
    qtbot.keyClick(sign.password, Qt.Key.Key_Return)
    assert sign.isVisible()
    assert sign.error.isVisible()
    assert "wrong username or password" in sign.error.text()
    assert sign.password.text() == ""
    assert session.endpoints.conversion_signature() is None
    qtbot.keyClicks(sign.password, "ivan-pw")
    qtbot.keyClick(sign.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not sign.isVisible())
    signature = session.endpoints.conversion_signature()
    assert signature is not None
    assert signature.printed_name == "Ivan Investigator"
    assert "Signed by" in dialog.signature_label.text()
    assert not dialog.sign_button.isEnabled()
    # a signed record changes only with a reason
    assert dialog.reason.isVisibleTo(dialog)
    dialog.flr_pct.setText("50")
    dialog.accept()
    assert dialog.isVisible()
    assert "Give a reason" in dialog.error.text()
    assert dialog.reason.property("mark") == "invalid"
    dialog.reason.setText("volumetry repeated")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert session.endpoints.conversion_signature() is None
    assert str(session.endpoints.records().conversion.flr_pct) == "50"


def test_surgery_rows_give_mpr_and_a_bad_row_is_named(
    qtbot,
    database: Database,
    session: ReadingSession,  # noqa: ANN001
) -> None:
    dialog = SurgeryRecordDialog(session.endpoints)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.surgery_date, "2026-04-15")
    dialog.procedure_boxes["resection"].setChecked(True)
    dialog.margin.setCurrentIndex(dialog.margin.findData("R0"))
    assert "undetermined" in dialog.mpr_label.text()
    dialog.add_metastasis("segment 7", "30", "2", "T1")
    dialog.add_metastasis("segment 4", "0")
    dialog.refresh()
    assert "MPR: yes" in dialog.mpr_label.text()
    assert dialog.table.item(0, 4).text() == "1-49 %"
    dialog.table.item(1, 1).setText("60")  # itemChanged refreshes
    assert "MPR: no" in dialog.mpr_label.text()
    dialog.table.item(1, 1).setText("sixty")
    assert dialog.table.property("mark") == "invalid"
    assert "segment 4" in dialog.error.text()
    dialog.accept()
    assert dialog.isVisible()
    assert session.endpoints.records().surgery is None
    dialog.table.item(1, 1).setText("0")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    surgery = session.endpoints.records().surgery
    assert [m.label for m in surgery.metastases] == ["segment 7", "segment 4"]
    assert surgery.metastases[0].trg == 2
    assert surgery.metastases[0].lesion_code == "T1"
    assert [e.action for e in database.audit_events(entity="surgery_record")] == ["create"]


def test_survival_dates_out_of_order_are_named_and_pfs_os_follow(
    qtbot,
    database: Database,
    session: ReadingSession,  # noqa: ANN001
) -> None:
    dialog = SurvivalDataDialog(session.endpoints)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.fields["treatment_start"].text() == "2026-01-05"  # from the patient
    qtbot.keyClicks(dialog.fields["death_date"], "2025-12-01")
    assert dialog.fields["death_date"].property("mark") == "invalid"
    assert "Death date" in dialog.error.text()
    dialog.accept()
    assert dialog.isVisible()
    assert session.endpoints.records().survival is None
    dialog.fields["death_date"].setText("2026-05-02")
    assert "OS: 118 days" in dialog.os_label.text()
    assert "event" in dialog.os_label.text()
    assert "PFS: 118 days" in dialog.pfs_label.text()
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert session.endpoints.records().survival.death_date == date(2026, 5, 2)
    assert [e.action for e in database.audit_events(entity="survival_record")] == ["create"]
