"""Assessments from the recist engine, e-signatures, locking, amendments that void signatures."""

from __future__ import annotations

from dataclasses import replace

import pytest

import recist
from recist.model import Measurement, MeasurementStatus, Reader
from storage.db import (
    AuthenticationError,
    ClinicalStore,
    Database,
    DuplicateError,
    PermissionDeniedError,
    ReasonRequiredError,
    RepositoryError,
)
from storage.db.signing import content_hash
from tests.storage.db.conftest import PASSWORD, Chart

#: baseline 34+22+15 = 71; C3 20+14+10 = 44 (-38 %, PR); C6 18+12+9 = 39 (PR).
SIZES = {0: (34.0, 22.0, 15.0), 1: (20.0, 14.0, 10.0), 2: (18.0, 12.0, 9.0)}


def _measure_all(store: ClinicalStore, chart: Chart) -> dict[tuple[int, int], Measurement]:
    out = {}
    for tp, sizes in SIZES.items():
        for lesion, mm in enumerate(sizes):
            out[(tp, lesion)] = store.add_measurement(
                Measurement(
                    id=None,
                    lesion_id=chart.lesions[lesion].id,
                    timepoint_id=chart.timepoints[tp].id,
                    reader_id=None,
                    status=MeasurementStatus.MEASURED,
                    long_axis_mm=mm,
                )
            )
    return out


def test_assess_recomputes_and_stores_per_timepoint(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    _measure_all(store, chart)
    result = store.assess(chart.patient.id)  # type: ignore[arg-type]
    assert [str(tp.overall) for tp in result.timepoints[1:]] == ["PR", "PR"]
    stored = store.assessments(chart.patient.id)  # type: ignore[arg-type]
    assert [a.overall for a in stored][1:] == ["PR", "PR"]
    assert all(a.engine_version == recist.ENGINE_VERSION and not a.frozen for a in stored)
    assert stored[1].result["sum_mm"] == 44.0
    events = len(db.audit_events())
    store.assess(chart.patient.id)  # type: ignore[arg-type]
    assert len(db.audit_events()) == events  # unchanged results are not rewritten


def test_only_an_investigator_signs_with_the_password(
    store: ClinicalStore, chart: Chart, alice: Reader, bob: Reader
) -> None:
    _measure_all(store, chart)
    c6 = chart.timepoints[2].id
    with pytest.raises(PermissionDeniedError, match="only an investigator"):
        store.sign(c6, bob, PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError):
        store.sign(c6, alice, "wrong password")  # type: ignore[arg-type]
    assert not store.is_locked(c6)  # type: ignore[arg-type]
    refused = store.audit_events(entity="timepoint", entity_id=c6)[-1]
    assert refused.action == "sign_refused"
    assert refused.after["username"] == "alice"
    signature = store.sign(c6, alice, PASSWORD)  # type: ignore[arg-type]
    assert signature.meaning == "I confirm the response PR at C6"
    assert signature.printed_name == "Dr Alice Investigator"
    assert signature.reader_id == alice.id
    assert signature.signed_at.tzinfo is not None
    assert signature.is_valid
    assert len(signature.content_hash) == 64
    assert store.verify_signature(signature.id)
    assert store.is_locked(c6)
    assert not store.is_locked(chart.timepoints[1].id)
    with pytest.raises(DuplicateError, match="already signed"):
        store.sign(c6, alice, PASSWORD)  # type: ignore[arg-type]


def test_baseline_has_no_response_to_sign(
    store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    _measure_all(store, chart)
    with pytest.raises(RepositoryError, match="no response"):
        store.sign(chart.timepoints[0].id, alice, PASSWORD)  # type: ignore[arg-type]


def test_signed_content_is_frozen(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    _measure_all(store, chart)
    signature = store.sign(
        chart.timepoints[1].id, alice, PASSWORD, meaning="I confirm the response PR at C3"
    )  # type: ignore[arg-type]
    frozen = next(a for a in store.assessments(chart.patient.id) if a.frozen)  # type: ignore[arg-type]
    assert frozen.id == signature.assessment_id
    assert frozen.overall == "PR"
    assert content_hash(frozen.result) == signature.content_hash
    assert frozen.result["result"]["sum_mm"] == 44.0
    assert {m["long_axis_mm"] for m in frozen.result["measurements"]} == {
        34.0,
        22.0,
        15.0,
        20.0,
        14.0,
        10.0,
    }
    sign_event = db.audit_events(entity="signature")[-1]
    assert sign_event.action == "sign"
    assert sign_event.reader_id == alice.id


def test_changing_signed_data_needs_a_reason_and_voids_the_signature(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    measured = _measure_all(store, chart)
    signature = store.sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]
    at_c3 = measured[(1, 0)]
    with pytest.raises(ReasonRequiredError, match="reason"):
        store.update_measurement(replace(at_c3, long_axis_mm=21.0))
    with pytest.raises(ReasonRequiredError):
        store.delete_measurement(measured[(0, 1)].id)  # type: ignore[arg-type]  # baseline feeds C3
    with pytest.raises(ReasonRequiredError):
        store.update_lesion(replace(chart.lesions[0], organ="spleen"))
    assert store.measurements(timepoint_id=chart.timepoints[1].id)[0].long_axis_mm == 20.0
    # a later timepoint does not change a signed earlier one: no reason needed
    store.update_measurement(replace(measured[(2, 0)], long_axis_mm=17.0))
    assert store.is_locked(chart.timepoints[1].id)  # type: ignore[arg-type]

    store.update_measurement(
        replace(at_c3, long_axis_mm=21.0), reason="transcription error, re-measured"
    )
    assert not store.is_locked(chart.timepoints[1].id)  # type: ignore[arg-type]
    voided = store.signatures(chart.patient.id)[0]  # type: ignore[arg-type]
    assert voided.id == signature.id
    assert not voided.is_valid
    assert voided.void_reason == "transcription error, re-measured"
    assert voided.voided_by_id == store.reader.id
    assert store.verify_signature(signature.id)  # the frozen content is kept
    change = db.audit_events(entity="measurement", entity_id=at_c3.id)[-1]
    assert change.reason == "transcription error, re-measured"
    assert [e.action for e in db.audit_events(entity="signature")] == ["sign", "void"]
    assert db.verify_audit().ok
    again = store.sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]
    assert again.id != signature.id
    assert len(store.signatures(chart.patient.id)) == 2


def test_assess_never_rewrites_a_frozen_assessment(
    store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    measured = _measure_all(store, chart)
    store.sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]
    frozen_before = [a for a in store.assessments(chart.patient.id) if a.frozen]  # type: ignore[arg-type]
    store.update_measurement(replace(measured[(1, 1)], long_axis_mm=30.0), reason="wrong slice")
    store.assess(chart.patient.id)  # type: ignore[arg-type]
    assert [a for a in store.assessments(chart.patient.id) if a.frozen] == frozen_before  # type: ignore[arg-type]


def test_chart_includes_assessments_and_signatures(
    store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    _measure_all(store, chart)
    store.assess(chart.patient.id)  # type: ignore[arg-type]
    store.sign(chart.timepoints[2].id, alice, PASSWORD)  # type: ignore[arg-type]
    loaded = store.chart("S-001")
    assert len(loaded.measurements) == 9
    assert len(loaded.signatures) == 1
    assert loaded.signatures[0].timepoint_id == chart.timepoints[2].id
    assert sum(a.frozen for a in loaded.assessments) == 1


def test_unvoiding_a_signature_or_editing_frozen_content_is_detected(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    measured = _measure_all(store, chart)
    signature = store.sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]
    store.update_measurement(replace(measured[(1, 0)], long_axis_mm=21.0), reason="re-measured")
    assert db.verify_audit().ok
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE signature SET voided_at = NULL, void_reason = NULL")
        conn.exec_driver_sql(
            "UPDATE assessment SET result_json = replace(result_json, '\"PR\"', '\"CR\"') "
            f"WHERE id = {signature.assessment_id}"
        )
    report = db.verify_audit()
    assert not report.ok
    text = "\n".join(report.data_problems)
    assert f"signature {signature.id}: voided_at is None in the table" in text
    assert "no longer matches the signed content hash" in text
    assert not store.verify_signature(signature.id)


def test_a_refused_signature_is_recorded_under_the_reader_at_the_keyboard_or_under_no_one(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader, bob: Reader
) -> None:
    """One rule for timepoints and conversion records: the attempt is written in the name of
    the store's reader while their key is unlocked, else under no reader -- never lost."""
    _measure_all(store, chart)
    c6 = chart.timepoints[2].id
    with pytest.raises(AuthenticationError):
        store.sign(c6, alice, "wrong password")  # type: ignore[arg-type]
    at_keyboard = store.audit_events(entity="timepoint", entity_id=c6)[-1]
    assert (at_keyboard.action, at_keyboard.reader_id) == ("sign_refused", bob.id)
    db.keyring.drop(bob.id)  # bob's key is no longer unlocked (e.g. reset elsewhere)
    with pytest.raises(AuthenticationError, match="authentication failed|password"):
        store.sign(c6, alice, "wrong again")  # type: ignore[arg-type]
    nobody = store.audit_events(entity="timepoint", entity_id=c6)[-1]
    assert (nobody.action, nobody.reader_id) == ("sign_refused", None)
    assert nobody.after == {"username": "alice", "why": "authentication failed"}
    assert db.verify_audit().ok
