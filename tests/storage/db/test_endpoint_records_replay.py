"""``caliper audit verify`` replays the endpoint records and their signatures too (issue 15)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from recist.endpoints import (
    ChildPughInputs,
    ConversionRecord,
    ResectedMetastasis,
    SurgeryRecord,
    SurvivalRecord,
    assess_conversion,
)
from recist.model import Reader
from storage.db import ClinicalStore, Database
from tests.storage.db.conftest import PASSWORD, Chart


@pytest.fixture
def records(store: ClinicalStore, chart: Chart, alice: Reader) -> dict[str, int]:
    """A conversion record (signed, changed with a reason, signed again), surgery and survival."""
    pid = chart.patient.id
    conversion = store.save_conversion_record(
        ConversionRecord(
            None,
            pid,
            mdt_date=date(2026, 5, 4),
            flr_pct=Decimal("45.0"),
            child_pugh=ChildPughInputs(Decimal("34.2"), "umol/L", Decimal(41), "g/L"),
        )
    )
    first = store.sign_conversion_record(pid, alice, PASSWORD, assess_conversion(conversion, None))
    conversion = store.save_conversion_record(
        replace(conversion, flr_pct=Decimal("38.5")), reason="volumetry repeated"
    )
    second = store.sign_conversion_record(pid, alice, PASSWORD, assess_conversion(conversion, None))
    surgery = store.save_surgery_record(
        SurgeryRecord(
            None,
            pid,
            date(2026, 6, 1),
            ("resection",),
            "R0",  # type: ignore[arg-type]
            (ResectedMetastasis("S7", Decimal("49.5"), 2, "T1"),),
        )
    )
    survival = store.save_survival_record(SurvivalRecord(None, pid, date(2026, 1, 12)))
    return {
        "conversion": conversion.id,
        "surgery": surgery.id,
        "survival": survival.id,
        "voided": first.id,
        "signature": second.id,
    }  # type: ignore[dict-item]


def test_audited_endpoint_records_verify_clean(db: Database, records: dict[str, int]) -> None:
    report = db.verify_audit(full=True)
    assert report.ok, report.data_problems
    assert db.verify_audit().ok  # and incrementally from the checkpoint


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "UPDATE conversion_record SET flr_pct = '55' WHERE id = :conversion",
            "conversion_record {conversion}: flr_pct is '55' in the table "
            "but '38.5' in the audit trail",
        ),
        (
            "UPDATE conversion_record SET albumin = '30' WHERE id = :conversion",
            "conversion_record {conversion}: child_pugh is",
        ),
        (
            "UPDATE surgery_record SET metastases_json = replace(metastases_json, '49.5', '5')"
            " WHERE id = :surgery",
            "surgery_record {surgery}: metastases is",
        ),
        (
            "UPDATE survival_record SET death_date = '2026-02-01' WHERE id = :survival",
            "survival_record {survival}: death_date is '2026-02-01' in the table but None",
        ),
        (
            "UPDATE record_signature SET voided_at = NULL, void_reason = NULL WHERE id = :voided",
            "record_signature {voided}: voided_at is None in the table",
        ),
        (
            "UPDATE record_signature SET printed_name = 'Someone Else' WHERE id = :signature",
            "record_signature {signature}: printed_name is 'Someone Else'",
        ),
        (
            "DELETE FROM survival_record WHERE id = :survival",
            "survival_record {survival} was deleted from the table without an audit event",
        ),
    ],
)
@pytest.mark.parametrize("checkpointed", [False, True])
def test_endpoint_records_changed_outside_the_trail_are_found(
    db: Database, records: dict[str, int], sql: str, problem: str, checkpointed: bool
) -> None:
    if checkpointed:  # the rows are covered by a verified checkpoint before the change
        assert db.verify_audit().ok
    with db.engine.begin() as conn:
        conn.execute(text(sql), records)
    report = db.verify_audit()
    assert not report.ok
    assert any(p.startswith(problem.format(**records)) for p in report.data_problems), (
        report.data_problems
    )
