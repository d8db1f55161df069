"""Conversion, surgery, survival records: stored exactly, audited, conversion signed (issue 15)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from recist.endpoints import (
    Ascites,
    ChildPughInputs,
    ConversionRecord,
    Encephalopathy,
    MdtOutcome,
    Procedure,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
    assess_conversion,
)
from recist.model import Reader
from storage.db import (
    AuthenticationError,
    ClinicalStore,
    Database,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    ReasonRequiredError,
)
from tests.storage.db.conftest import PASSWORD, Chart


def _conversion(patient_id: int, flr: str = "40.0") -> ConversionRecord:
    return ConversionRecord(
        None,
        patient_id,
        mdt_date=date(2026, 5, 4),
        mdt_outcome=MdtOutcome.RESECTABLE,
        procedures=(Procedure.ABLATION, Procedure.RESECTION),
        tumour_free_achievable=True,
        flr_pct=Decimal(flr),
        child_pugh=ChildPughInputs(
            Decimal("34.2"),
            "umol/L",
            Decimal("35.0"),
            "g/L",
            Decimal("1.10"),
            Ascites.NONE,
            Encephalopathy.NONE,
        ),
        other_labs_ok=True,
        other_labs_note="creatinine normal",
    )


def test_records_round_trip_exactly(store: ClinicalStore, chart: Chart) -> None:
    pid = chart.patient.id
    assert store.endpoint_records(pid).conversion is None
    saved = store.save_conversion_record(_conversion(pid))
    back = store.conversion_record(pid)
    assert back == saved
    assert back.flr_pct == Decimal("40.0")
    assert str(back.flr_pct) == "40.0"
    assert back.procedures == (Procedure.RESECTION, Procedure.ABLATION)
    surgery = SurgeryRecord(
        None,
        pid,
        date(2026, 6, 1),
        (Procedure.RESECTION,),
        "R1",
        (ResectedMetastasis("S7", Decimal("49.5"), 2, "T1"), ResectedMetastasis("S2", Decimal(0))),
    )
    assert store.save_surgery_record(surgery) == store.surgery_record(pid)
    assert store.surgery_record(pid).metastases[0].residual_tumour_pct == Decimal("49.5")
    survival = SurvivalRecord(None, pid, date(2026, 1, 12), last_known_alive=date(2026, 9, 1))
    assert store.save_survival_record(survival) == store.survival_record(pid)


def test_saves_are_audited_old_to_new(store: ClinicalStore, chart: Chart) -> None:
    pid = chart.patient.id
    first = store.save_conversion_record(_conversion(pid))
    store.save_conversion_record(replace(first, flr_pct=Decimal("41.5")))
    events = store.audit_events(entity="conversion_record", entity_id=first.id)
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].before == {"flr_pct": "40.0"}
    assert events[1].after == {"flr_pct": "41.5"}


def test_sign_conversion_record_then_amend_with_reason(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader, bob: Reader
) -> None:
    pid = chart.patient.id
    record = store.save_conversion_record(_conversion(pid, "45"))
    assessment = assess_conversion(record, None)  # Child-Pugh 2+2+1+1+1 = 7: B, not met
    with pytest.raises(PermissionDeniedError):
        store.sign_conversion_record(pid, bob, PASSWORD, assessment)
    with pytest.raises(AuthenticationError):
        store.sign_conversion_record(pid, alice, "wrong", assessment)
    signature = store.sign_conversion_record(pid, alice, PASSWORD, assessment)
    assert signature.printed_name == "Dr Alice Investigator"
    assert signature.meaning == "I confirm the conversion record of S-001: criteria not met"
    assert store.verify_record_signature(signature.id)
    assert store.endpoint_records(pid).conversion_signature == signature
    with pytest.raises(DuplicateError):
        store.sign_conversion_record(pid, alice, PASSWORD, assessment)
    changed = replace(record, flr_pct=Decimal(38))
    with pytest.raises(ReasonRequiredError, match="signed by Dr Alice Investigator"):
        store.save_conversion_record(changed)
    assert store.conversion_record(pid).flr_pct == Decimal(45)  # nothing written
    store.save_conversion_record(changed, reason="volumetry repeated")
    records = store.endpoint_records(pid)
    assert records.conversion.flr_pct == Decimal(38)
    assert records.conversion_signature is None
    assert records.signatures[0].void_reason == "volumetry repeated"
    actions = [(e.action, e.entity) for e in db.audit_events()][-4:]
    assert ("sign_refused", "conversion_record") in [
        (e.action, e.entity) for e in db.audit_events()
    ]
    assert actions[-2:] == [("void", "record_signature"), ("update", "conversion_record")]


def test_bad_patient_and_bad_values(store: ClinicalStore) -> None:
    with pytest.raises(NotFoundError):
        store.save_survival_record(SurvivalRecord(None, 999, date(2026, 1, 1)))
