"""Issue 11 point 9: a composite edit is one transaction, audit trail included.

``ClinicalStore.batch()`` groups writes: their data rows and their audit events
commit together or not at all; nested batches (and every store write inside a
batch) join the outer one.  Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.session import ReadingSession, TimepointLockedError
from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Reader,
    Segment,
)
from storage.db import ClinicalStore, Database, ReasonRequiredError
from tests.storage.db.conftest import PASSWORD, Chart


def _lesion(chart: Chart, code: str) -> Lesion:
    return Lesion(
        id=None,
        patient_id=chart.patient.id,
        code=code,
        kind=LesionKind.TARGET,
        organ="liver",
        tracking_uid=f"2.25.99{len(code)}{code.encode().hex()}",
    )


def _measured(lesion_id: int | None, timepoint_id: int | None, mm: float) -> Measurement:
    return Measurement(
        id=None,
        lesion_id=lesion_id,
        timepoint_id=timepoint_id,
        reader_id=None,
        status=MeasurementStatus.MEASURED,
        long_axis_mm=mm,
    )


def _sign_c3(db: Database, store: ClinicalStore, chart: Chart, alice: Reader) -> None:
    """T1 measured at baseline and C3, then C3 signed by the investigator."""
    t1 = chart.lesions[0].id
    store.add_measurement(_measured(t1, chart.timepoints[0].id, 40.0))
    store.add_measurement(_measured(t1, chart.timepoints[1].id, 20.0))
    db.store(alice).sign(chart.timepoints[1].id, alice, PASSWORD)  # type: ignore[arg-type]


def test_point9_batch_commits_rows_and_events_together(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    before = len(db.audit_events())
    with store.batch("measure new lesion T4"):
        lesion = store.add_lesion(_lesion(chart, "T4"))
        store.add_measurement(_measured(lesion.id, chart.timepoints[0].id, 22.2))
        # inside the batch the store reads its own writes ...
        assert "T4" in [les.code for les in store.lesions(chart.patient.id)]  # type: ignore[arg-type]
        # ... and nobody else sees them before the batch commits
        assert len(db.audit_events()) == before
        assert "T4" not in [les.code for les in db.read_only_store().lesions(chart.patient.id)]  # type: ignore[arg-type]
    events = db.audit_events()[before:]
    assert [(e.action, e.entity) for e in events] == [
        ("create", "lesion"),
        ("create", "measurement"),
    ]
    assert db.verify_audit().ok


def test_point9_failed_batch_leaves_no_rows_and_no_events(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    before = len(db.audit_events())

    def lesion_measured_then_power_cut() -> None:
        with store.batch():
            lesion = store.add_lesion(_lesion(chart, "T4"))
            store.add_measurement(_measured(lesion.id, chart.timepoints[0].id, 22.2))
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        lesion_measured_then_power_cut()
    assert len(db.audit_events()) == before
    assert "T4" not in [les.code for les in store.lesions(chart.patient.id)]  # type: ignore[arg-type]
    assert store.measurements(patient_id=chart.patient.id) == []
    assert db.verify_audit().ok


def test_point9_refused_write_in_a_batch_rolls_back_the_earlier_ones(
    db: Database, store: ClinicalStore, chart: Chart, alice: Reader
) -> None:
    _sign_c3(db, store, chart, alice)
    before = len(db.audit_events())

    def lesion_then_measurement_at_signed_c3() -> None:
        with store.batch():
            lesion = store.add_lesion(_lesion(chart, "T4"))
            store.add_measurement(_measured(lesion.id, chart.timepoints[1].id, 22.2))

    with pytest.raises(ReasonRequiredError):
        lesion_then_measurement_at_signed_c3()
    assert len(db.audit_events()) == before
    assert "T4" not in [les.code for les in store.lesions(chart.patient.id)]  # type: ignore[arg-type]
    assert store.is_locked(chart.timepoints[1].id)  # type: ignore[arg-type]
    assert db.verify_audit().ok


def test_point9_nested_batches_join_the_outer_one(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    before = len(db.audit_events())

    def outer_fails_after_inner() -> None:
        with store.batch():
            with store.batch():
                store.add_lesion(_lesion(chart, "T4"))
            store.add_lesion(_lesion(chart, "T5"))
            raise RuntimeError("the outer batch fails after the inner one finished")

    def inner_fails(code: str) -> None:
        with store.batch():
            store.add_lesion(_lesion(chart, code))
            raise RuntimeError("only the inner part is undone")

    with pytest.raises(RuntimeError, match="outer"):
        outer_fails_after_inner()
    assert len(db.audit_events()) == before
    assert {les.code for les in store.lesions(chart.patient.id)} == {"T1", "T2", "T3"}  # type: ignore[arg-type]

    with store.batch():
        store.add_lesion(_lesion(chart, "T4"))
        with pytest.raises(RuntimeError, match="inner"):
            inner_fails("T5")
        store.add_lesion(_lesion(chart, "T6"))
    codes = {les.code for les in store.lesions(chart.patient.id)}  # type: ignore[arg-type]
    assert codes == {"T1", "T2", "T3", "T4", "T6"}
    assert [e.entity for e in db.audit_events()[before:]] == ["lesion", "lesion"]
    report = db.verify_audit()
    assert report.ok, str(report)


def _line(length_mm: float, y: float = 0.0) -> Segment:
    return Segment((0.0, y), (length_mm, y), (0.0, y, 0.0), (length_mm, y, 0.0))


def test_point9_drawing_on_a_signed_timepoint_leaves_no_audit_events(
    db: Database, alice: Reader, bob: Reader
) -> None:
    """The repro of issue 11 point 9, through the reading session."""
    session = ReadingSession(db, bob)
    session.add_patient("S-009", first_dose_date=date(2026, 1, 5))
    session.open_patient("S-009")
    session.add_timepoint("Baseline", date(2026, 1, 2))
    geometry = DrawnGeometry("1.2.3", "1.2.3.10", 10, _line(40.0), _line(20.0, 5.0))
    t1 = session.record_measurement(geometry, organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(geometry, lesion_id=t1.lesion_id)
    session.sign(c3.id, "alice", PASSWORD)  # type: ignore[arg-type]
    before = db.audit_events()
    with pytest.raises(TimepointLockedError, match="signed"):
        session.record_measurement(geometry, kind=LesionKind.NEW, organ="lung")  # N1 at signed C3
    assert db.audit_events() == before
    assert [les.code for les in session.lesions()] == ["T1"]
    report = db.verify_audit()
    assert report.ok, str(report)


def test_point9_a_composite_rolls_back_as_a_whole_even_past_the_early_check(
    db: Database, alice: Reader, bob: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the session's early lock check, the store batch alone keeps the trail clean."""
    session = ReadingSession(db, bob)
    session.add_patient("S-010", first_dose_date=date(2026, 1, 5))
    session.open_patient("S-010")
    session.add_timepoint("Baseline", date(2026, 1, 2))
    geometry = DrawnGeometry("1.2.3", "1.2.3.10", 10, _line(40.0))
    t1 = session.record_measurement(geometry, organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(geometry, lesion_id=t1.lesion_id)
    session.sign(c3.id, "alice", PASSWORD)  # type: ignore[arg-type]
    monkeypatch.setattr(ReadingSession, "_refuse_if_signed", lambda *_args: None)
    added: list[object] = []
    removed: list[object] = []
    session.lesion_added.connect(added.append)
    session.lesion_removed.connect(removed.append)
    before = db.audit_events()
    with pytest.raises(TimepointLockedError, match="Give a reason"):
        session.record_measurement(
            geometry, kind=LesionKind.NEW, organ="lung"
        )  # N1 written, then refused
    assert db.audit_events() == before
    assert (added, removed) == ([], [])  # the viewer never heard of the rolled-back lesion
    assert session.commands.undo_label == "Undo"
    with pytest.raises(TimepointLockedError):
        session.delete_lesion(t1.lesion_id)  # type: ignore[arg-type]
    assert db.audit_events() == before
    assert len(session.measurements(c3.id)) == 1
    report = db.verify_audit()
    assert report.ok, str(report)


def test_point9_a_failed_amendment_keeps_the_signature_and_every_record(
    db: Database, alice: Reader, bob: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting a lesion of a signed timepoint with a reason voids the signature, deletes
    the measurements, then the lesion: a failure at the last write undoes all of it."""
    session = ReadingSession(db, bob)
    session.add_patient("S-011", first_dose_date=date(2026, 1, 5))
    session.open_patient("S-011")
    session.add_timepoint("Baseline", date(2026, 1, 2))
    geometry = DrawnGeometry("1.2.3", "1.2.3.10", 10, _line(40.0))
    t1 = session.record_measurement(geometry, organ="liver")
    session.record_measurement(DrawnGeometry("1.2.3", "1.2.3.11", 11, _line(30.0)), organ="liver")
    c3 = session.add_timepoint("C3", date(2026, 3, 10), cycle=3)
    session.record_measurement(geometry, lesion_id=t1.lesion_id)
    session.sign(c3.id, "alice", PASSWORD)  # type: ignore[arg-type]
    before = db.audit_events()
    store = session._store  # noqa: SLF001 - the reader's store, to make its last write fail

    def broken_delete_lesion(lesion_id: int, reason: str | None = None) -> None:
        raise ReasonRequiredError("simulated failure of the last write of the amendment")

    monkeypatch.setattr(store, "delete_lesion", broken_delete_lesion)
    with pytest.raises(TimepointLockedError):
        session.delete_lesion(t1.lesion_id, reason="wrong lesion")  # type: ignore[arg-type]
    assert db.audit_events() == before
    assert session.is_locked(c3.id)  # type: ignore[arg-type]
    assert len(session.measurements(c3.id)) == 1
    monkeypatch.undo()
    session.delete_lesion(t1.lesion_id, reason="wrong lesion")  # type: ignore[arg-type]
    done = [(e.action, e.entity) for e in db.audit_events()[len(before) :]]
    assert done[:4] == [
        ("void", "signature"),
        ("delete", "measurement"),
        ("delete", "measurement"),
        ("delete", "lesion"),
    ]
    assert not session.is_locked(c3.id)  # type: ignore[arg-type]
    report = db.verify_audit()
    assert report.ok, str(report)
