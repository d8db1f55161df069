"""Issue 11 points 4 and 5 in the reading session and the store (real SQLite, no mocks).

Point 4: a timepoint dated before the baseline, or a label the patient already
has, is refused; a date typed by hand that differs from the series' DICOM date
is stored only when confirmed, and the confirmation is audited.
Point 5: a series whose DICOM Patient ID differs from that of the patient's
earlier series is attached only when confirmed, audited as "attach series of
other patient ID X to subject Y".
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.cli import main
from app.session import (
    OtherPatientSeriesError,
    ReadingSession,
    ScanDateMismatchError,
    SessionError,
)
from recist.model import Patient, Role, Timepoint
from storage.db import Database, DuplicateError, IntegrityViolationError, open_database
from storage.db.errors import OtherPatientError

BASELINE_DATE = date(2004, 6, 13)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "caliper.sqlite3"
    with open_database(str(path)) as db:
        db.readers.create("rita", "Rita Reader", Role.READER, "rita-pw")
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
    s = ReadingSession(database, database.readers.authenticate("rita", "rita-pw"))
    s.add_patient("S-001", "CRLM conversion")
    s.open_patient("S-001")
    return s


def _series(uid: str, patient_id: str) -> dict[str, object]:
    return {
        "series_instance_uid": uid,
        "study_instance_uid": uid + ".0",
        "modality": "CT",
        "dicom_patient_id": patient_id,
    }


def _events(database: Database, action: str) -> list:
    return [e for e in database.audit_events(entity="timepoint") if e.action == action]


# -- point 4: dates and labels ----------------------------------------------------------------


def test_point4_session_refuses_timepoint_before_baseline(
    session: ReadingSession, database: Database
) -> None:
    session.add_timepoint("baseline", BASELINE_DATE)
    events = len(database.audit_events())
    with pytest.raises(
        SessionError, match=r"2004-01-01 is before the baseline scan \(baseline, 2004-06-13\)"
    ):
        session.add_timepoint("C3", date(2004, 1, 1), 3)
    assert [tp.label for tp in session.timepoints()] == ["baseline"]
    assert len(database.audit_events()) == events  # nothing written
    assert session.add_timepoint("C3", BASELINE_DATE, 3).label == "C3"  # same day is allowed


@pytest.mark.parametrize("label", ["C3", "c3", " C3 "])
def test_point4_session_refuses_same_label_twice(session: ReadingSession, label: str) -> None:
    session.add_timepoint("baseline", BASELINE_DATE)
    session.add_timepoint("C3", date(2004, 8, 20), 3)
    with pytest.raises(
        SessionError, match="S-001 already has a timepoint C3: give this one its own label"
    ):
        session.add_timepoint(label, date(2004, 10, 20), 6)
    assert [tp.label for tp in session.timepoints()] == ["baseline", "C3"]


def test_point4_typed_date_differing_from_dicom_asks_and_is_audited(
    session: ReadingSession, database: Database
) -> None:
    with pytest.raises(
        ScanDateMismatchError, match="2004-06-20 differs from the date in the DICOM series"
    ):
        session.add_timepoint("baseline", date(2004, 6, 20), dicom_scan_date=BASELINE_DATE)
    assert session.timepoints() == []
    assert _events(database, "confirm") == []
    # the DICOM date itself needs no confirmation
    stored = session.add_timepoint("baseline", BASELINE_DATE, dicom_scan_date=BASELINE_DATE)
    assert _events(database, "confirm") == []
    follow_up = session.add_timepoint(
        "C3", date(2004, 8, 21), 3, dicom_scan_date=date(2004, 8, 20), confirm_scan_date=True
    )
    assert follow_up.scan_date == date(2004, 8, 21)
    (event,) = _events(database, "confirm")
    assert event.entity_id == str(follow_up.id)
    assert "2004-08-21" in event.reason
    assert "2004-08-20" in event.reason
    assert stored.scan_date == BASELINE_DATE
    assert database.verify_audit().ok


def test_point4_store_refuses_what_the_session_refuses(
    session: ReadingSession, database: Database
) -> None:
    store = database.store(session.reader)
    base = session.add_timepoint("baseline", BASELINE_DATE)
    c3 = session.add_timepoint("C3", date(2004, 8, 20), 3)
    early = Timepoint(
        id=None, patient_id=base.patient_id, order=2, label="C6", scan_date=date(2004, 5, 1)
    )
    with pytest.raises(IntegrityViolationError, match="before the baseline baseline"):
        store.add_timepoint(early)
    with pytest.raises(DuplicateError, match="already has a timepoint labelled 'C3'"):
        store.add_timepoint(replace(early, label="c3", scan_date=date(2004, 10, 1)))
    with pytest.raises(IntegrityViolationError, match="before the baseline"):
        store.update_timepoint(replace(c3, scan_date=date(2004, 6, 1)))
    with pytest.raises(IntegrityViolationError, match="C3 of patient S-001 is dated 2004-08-20"):
        store.update_timepoint(replace(base, scan_date=date(2004, 9, 1)))  # baseline moved past C3
    assert [tp.scan_date for tp in session.timepoints()] == [BASELINE_DATE, date(2004, 8, 20)]


def test_point4_import_refuses_before_baseline_and_same_label(database: Database) -> None:
    store = database.store(database.readers.authenticate("rita", "rita-pw"))
    patient = Patient(id=None, subject_id="S-IMP")
    tps = [
        Timepoint(id=None, patient_id=None, order=0, label="BL", scan_date=BASELINE_DATE),
        Timepoint(id=None, patient_id=None, order=1, label="C3", scan_date=date(2004, 1, 1)),
    ]
    with pytest.raises(IntegrityViolationError, match="before the baseline BL"):
        store.import_records(patient, tps, [], [])
    tps[1] = replace(tps[1], label="bl", scan_date=date(2004, 8, 1))
    with pytest.raises(DuplicateError, match="labelled 'BL'"):
        store.import_records(patient, tps, [], [])
    assert store.patients() == []  # all or nothing


def test_point4_cli_timeline_import_refuses_before_baseline(
    database: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = {
        "id": "S-9",
        "timepoints": [
            {
                "label": "BL",
                "date": "2004-06-13",
                "targets": [{"id": "T1", "organ": "liver", "diameter_mm": 30}],
            },
            {
                "label": "C3",
                "date": "2004-08-20",
                "targets": [{"id": "T1", "organ": "liver", "diameter_mm": 20}],
            },
            {
                "label": "C6",
                "date": "2004-01-01",
                "targets": [{"id": "T1", "organ": "liver", "diameter_mm": 20}],
            },
        ],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    as_rita = ["--as", "rita", "--password-stdin"]  # the CLI authenticates who writes
    monkeypatch.setattr("sys.stdin", io.StringIO("rita-pw\n"))
    code = main(["--db", database.url, "timeline", "import", str(path), *as_rita])
    err = capsys.readouterr().err
    assert code == 2
    assert "timepoints[2].date: 2004-01-01 is before the baseline 2004-06-13" in err
    case["timepoints"][2].update(label="C3", date="2004-10-20")
    path.write_text(json.dumps(case))
    monkeypatch.setattr("sys.stdin", io.StringIO("rita-pw\n"))
    code = main(["--db", database.url, "timeline", "import", str(path), *as_rita])
    assert code == 2
    assert "timepoints[2].label" in capsys.readouterr().err
    assert database.read_only_store().patients() == []


# -- point 5: another patient's series ------------------------------------------------------


def test_point5_attach_other_patient_series_needs_audited_confirmation(
    session: ReadingSession, database: Database
) -> None:
    session.add_timepoint("baseline", BASELINE_DATE, **_series("1.2.1", "PAT-A"))
    c3 = session.add_timepoint("C3", date(2004, 8, 20), 3)
    assert session.other_patient_warning("PAT-A", c3.id) is None
    warning = session.other_patient_warning("PAT-B", c3.id)
    assert warning is not None
    assert "“PAT-B”" in warning
    assert "“PAT-A”" in warning
    with pytest.raises(OtherPatientSeriesError) as info:
        session.attach_series(c3.id, **_series("1.2.2", "PAT-B"))
    assert "PAT-A" in str(info.value)
    assert "PAT-B" in str(info.value)
    assert "S-001" in str(info.value)
    assert session.timepoints()[1].series_instance_uid is None  # not attached
    assert _events(database, "confirm") == []

    attached = session.attach_series(c3.id, **_series("1.2.2", "PAT-B"), confirm_other_patient=True)
    assert (attached.series_instance_uid, attached.dicom_patient_id) == ("1.2.2", "PAT-B")
    (event,) = _events(database, "confirm")
    assert event.reason == "attach series of other patient ID PAT-B to subject S-001"
    assert event.entity_id == str(c3.id)
    session.undo()
    assert session.timepoints()[1].series_instance_uid is None
    assert database.verify_audit().ok


def test_point5_new_timepoint_on_other_patient_series_needs_confirmation(
    session: ReadingSession, database: Database
) -> None:
    session.add_timepoint("baseline", BASELINE_DATE, **_series("1.2.1", "PAT-A"))
    with pytest.raises(OtherPatientSeriesError, match="“PAT-B”.*“PAT-A”"):
        session.add_timepoint("C3", date(2004, 8, 20), 3, **_series("1.2.2", "PAT-B"))
    assert len(session.timepoints()) == 1
    session.add_timepoint(
        "C3", date(2004, 8, 20), 3, **_series("1.2.2", "PAT-B"), confirm_other_patient=True
    )
    (event,) = _events(database, "confirm")
    assert event.reason == "attach series of other patient ID PAT-B to subject S-001"
    # the same patient's series, and series without a Patient ID, attach without a word
    session.add_timepoint("C6", date(2004, 10, 20), 6, **_series("1.2.3", "PAT-A"))
    assert len(_events(database, "confirm")) == 1


def test_point5_store_refuses_other_patient_without_confirmation(
    session: ReadingSession, database: Database
) -> None:
    session.add_timepoint("baseline", BASELINE_DATE, **_series("1.2.1", "PAT-A"))
    c3 = session.add_timepoint("C3", date(2004, 8, 20), 3)
    store = database.store(session.reader)
    with pytest.raises(OtherPatientError) as info:
        store.update_timepoint(replace(c3, series_instance_uid="1.2.2", dicom_patient_id="PAT-B"))
    assert (info.value.dicom_patient_id, info.value.known_ids) == ("PAT-B", ["PAT-A"])
    assert session.timepoints()[1].dicom_patient_id is None
