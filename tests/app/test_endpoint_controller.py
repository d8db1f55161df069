"""The session's endpoint controller (conversion, surgery, survival records), Qt-free, on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.session import AuthenticationFailedError, PermissionDeniedError, ReadingSession
from app.session.endpoints import (
    ConversionForm,
    FieldError,
    MetastasisForm,
    SignedRecordError,
    SurgeryForm,
    SurvivalForm,
)
from recist.model import DrawnGeometry, Role, Segment
from storage.db import Database, open_database


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
    """S-001: a liver target 50 mm at baseline, 30 mm at C3 (liver PR, -40 %)."""
    s = ReadingSession(database, database.readers.authenticate("rita", "rita-pw"))
    s.add_patient("S-001", "CRLM", first_dose_date=date(2026, 1, 5))
    s.open_patient("S-001")
    s.add_timepoint("Baseline", date(2026, 1, 2))
    m = s.record_measurement(drawn(50.0), organ="liver")
    s.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    s.record_measurement(drawn(30.0), lesion_id=m.lesion_id)
    return s


GOOD = ConversionForm(
    mdt_date="2026-03-20",
    mdt_outcome="resectable",
    procedures=("resection", "ablation"),
    tumour_free=True,
    flr_pct="45",
    bilirubin="12",
    bilirubin_unit="umol/L",
    albumin="41",
    albumin_unit="g/L",
    inr="1.1",
    ascites="none",
    encephalopathy="none",
    other_labs_ok=True,
    other_labs_note="creatinine normal",
)


def test_liver_response_of_the_open_patient(session: ReadingSession) -> None:
    liver = session.endpoints.liver_response()
    assert liver is not None
    assert liver.applicable
    assert str(liver.at("C3").response) == "PR"
    assert str(liver.at("C3").pct_from_baseline) == "-40.0"


def test_preview_gives_child_pugh_and_a_reason_per_criterion(session: ReadingSession) -> None:
    preview = session.endpoints.conversion_preview(GOOD)
    assert preview.errors == {}
    assert (preview.child_pugh.score, preview.child_pugh.child_class) == (5, "A")
    assert preview.assessment.met is True
    reasons = {c.code: c.reason for c in preview.assessment.criteria}
    assert "best liver response PR at C3" in reasons["LIVER_PR"]
    assert reasons["FLR"] == "FLR 45 % > 40 %"
    assert preview.missing_fields == ()


def test_preview_flags_missing_inputs_and_keeps_good_fields_beside_a_bad_one(
    session: ReadingSession,
) -> None:
    form = replace(GOOD, flr_pct="", inr="", albumin="abc", mdt_date="2026-02-30")
    preview = session.endpoints.conversion_preview(form)
    assert set(preview.errors) == {"albumin", "mdt_date"}
    assert preview.errors["albumin"].startswith("Albumin: 'abc' is not a number")
    assert "MDT date" in preview.errors["mdt_date"]
    assert "YYYY-MM-DD" in preview.errors["mdt_date"]
    assert preview.assessment.met is None
    assert {"flr_pct", "inr", "albumin", "mdt_date"} <= set(preview.missing_fields)
    assert preview.record.child_pugh.bilirubin is not None  # the good field is kept


def test_implausible_unit_is_refused_naming_the_field_and_nothing_is_written(
    database: Database, session: ReadingSession
) -> None:
    with pytest.raises(FieldError, match="Albumin") as caught:
        session.endpoints.save_conversion(replace(GOOD, albumin="35", albumin_unit="g/dL"))
    assert caught.value.field == "albumin"
    assert session.endpoints.records().conversion is None
    assert not list(database.audit_events(entity="conversion_record"))


def test_save_is_audited_and_reads_back_as_the_same_form(
    database: Database, session: ReadingSession
) -> None:
    changed: list[str] = []
    session.endpoints.records_changed.connect(changed.append)
    session.endpoints.save_conversion(GOOD)
    assert session.endpoints.conversion_form() == GOOD
    session.endpoints.save_conversion(replace(GOOD, flr_pct="38"))
    events = list(database.audit_events(entity="conversion_record"))
    assert [e.action for e in events] == ["create", "update"]
    assert events[-1].before == {"flr_pct": "45"}
    assert events[-1].after == {"flr_pct": "38"}
    assert events[-1].reader_id == session.reader.id
    assert changed == ["conversion_record", "conversion_record"]
    assert session.endpoints.conversion_assessment().met is False


def test_sign_needs_an_investigator_and_the_right_password(
    database: Database, session: ReadingSession
) -> None:
    endpoints = session.endpoints
    endpoints.save_conversion(GOOD)
    with pytest.raises(AuthenticationFailedError):
        endpoints.sign_conversion("ivan", "wrong")
    with pytest.raises(AuthenticationFailedError):
        endpoints.sign_conversion("nobody", "x")
    with pytest.raises(PermissionDeniedError, match="only an investigator"):
        endpoints.sign_conversion("rita", "rita-pw")
    assert endpoints.conversion_signature() is None
    meaning = endpoints.sign_meanings()[0]
    assert meaning == "I confirm the conversion record of S-001: criteria met"
    signature = endpoints.sign_conversion("ivan", "ivan-pw", meaning)
    assert signature.printed_name == "Ivan Investigator"
    assert signature.meaning == meaning
    assert endpoints.conversion_signature() == signature
    refused = [
        e for e in database.audit_events(entity="conversion_record") if e.action == "sign_refused"
    ]
    assert len(refused) == 1  # the wrong password (an unknown reader never reaches storage)
    assert refused[0].reader_id is None  # an attempt cannot be signed in the investigator's name
    assert refused[0].after == {"username": "ivan", "why": "authentication failed"}
    assert database.verify_audit().ok  # the unsigned refusal is not a forged event


def test_changing_a_signed_record_needs_a_reason_and_voids_the_signature(
    database: Database, session: ReadingSession
) -> None:
    endpoints = session.endpoints
    endpoints.save_conversion(GOOD)
    endpoints.sign_conversion("ivan", "ivan-pw")
    with pytest.raises(SignedRecordError, match="Give a reason") as caught:
        endpoints.save_conversion(replace(GOOD, flr_pct="50"))
    assert caught.value.field == "reason"
    assert endpoints.conversion_form().flr_pct == "45"
    endpoints.save_conversion(replace(GOOD, flr_pct="50"), reason="volumetry repeated")
    assert endpoints.conversion_signature() is None
    voids = [e for e in database.audit_events(entity="record_signature") if e.action == "void"]
    assert voids
    assert voids[-1].reason == "volumetry repeated"


def test_surgery_mpr_preview_save_and_bad_rows(database: Database, session: ReadingSession) -> None:
    form = SurgeryForm(
        surgery_date="2026-04-15",
        procedures=("resection",),
        margin="R0",
        metastases=(MetastasisForm("segment 7", "30", "2", "T1"), MetastasisForm("segment 4", "0")),
    )
    preview = session.endpoints.surgery_preview(form)
    assert preview.mpr.mpr is True
    assert preview.mpr.pcr is False
    assert preview.errors == {}
    bad = replace(form, metastases=(*form.metastases, MetastasisForm("segment 2", "lots", "7")))
    preview = session.endpoints.surgery_preview(bad)
    assert preview.errors == {
        "metastases.3": "Resected metastases: segment 2: residual tumour 'lots' is not a number"
    }
    with pytest.raises(FieldError, match="segment 2"):
        session.endpoints.save_surgery(bad)
    with pytest.raises(FieldError, match="TRG"):
        session.endpoints.save_surgery(
            replace(form, metastases=(MetastasisForm("segment 2", "10", "7"),))
        )
    assert session.endpoints.records().surgery is None
    session.endpoints.save_surgery(form)
    assert session.endpoints.surgery_form() == replace(
        form,
        metastases=(
            MetastasisForm("segment 7", "30", "2", "T1"),
            MetastasisForm("segment 4", "0", "", ""),
        ),
    )
    assert [e.action for e in database.audit_events(entity="surgery_record")] == ["create"]


def test_survival_dates_out_of_order_name_the_field(session: ReadingSession) -> None:
    assert session.endpoints.survival_form().treatment_start == "2026-01-05"
    form = SurvivalForm(treatment_start="2026-01-05", death_date="2025-12-01")
    preview = session.endpoints.survival_preview(form)
    assert list(preview.errors) == ["death_date"]
    assert preview.errors["death_date"].startswith("Death date: death date 2025-12-01 is before")
    with pytest.raises(FieldError, match="Death date"):
        session.endpoints.save_survival(form)
    form = SurvivalForm(treatment_start="2026-01-05", off_study_date="2026-05-01")
    with pytest.raises(FieldError, match="Off-study reason"):
        session.endpoints.save_survival(form)
    good = SurvivalForm(treatment_start="2026-01-05", last_known_alive="2026-06-30")
    preview = session.endpoints.survival_preview(good)
    assert preview.errors == {}
    assert preview.os is not None
    assert not preview.os.event
    assert preview.pfs is not None
    assert preview.pfs.end == date(2026, 3, 10)  # censored at C3
    session.endpoints.save_survival(good)
    assert session.endpoints.survival_form().last_known_alive == "2026-06-30"
