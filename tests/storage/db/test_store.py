"""ClinicalStore: CRUD of patients, timepoints, lesions and measurements, each write audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Method,
    Patient,
    Segment,
    Timepoint,
)
from storage.db import (
    ClinicalStore,
    Database,
    DuplicateError,
    IntegrityViolationError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.storage.db.conftest import Chart, build_chart

GEOMETRY = DrawnGeometry(
    series_instance_uid="1.2.3.4",
    sop_instance_uid="1.2.3.4.17",
    slice_index=17,
    long_axis=Segment((10.5, 20.25), (40.0, 22.0), (-12.5, 30.125, -101.0), (17.0, 31.875, -101.0)),
    short_axis=Segment((25.0, 10.0), (25.5, 30.0), (2.0, 20.0, -101.0), (2.5, 40.0, -101.0)),
)


def _measure(chart: Chart, lesion: int, tp: int, mm: float, **kw: object) -> Measurement:
    return Measurement(
        id=None,
        lesion_id=chart.lesions[lesion].id,
        timepoint_id=chart.timepoints[tp].id,
        reader_id=None,
        status=MeasurementStatus.MEASURED,
        long_axis_mm=mm,
        **kw,
    )  # type: ignore[arg-type]


def test_patient_round_trip_and_lookup(store: ClinicalStore) -> None:
    patient = Patient(
        id=None,
        subject_id="S-042",
        trial="CRLM-01",
        site="Shanghai",
        first_dose_date=date(2026, 1, 10),
        confirmation_required=False,
        min_sd_days=35,
    )
    stored = store.add_patient(patient)
    assert stored.id is not None
    assert stored == replace(patient, id=stored.id)
    assert store.patient("S-042") == stored
    assert store.patient_by_id(stored.id) == stored
    assert store.patients() == [stored]
    with pytest.raises(DuplicateError, match="S-042"):
        store.add_patient(patient)
    with pytest.raises(NotFoundError, match="S-404"):
        store.patient("S-404")


def test_timepoints_keep_their_order_and_refuse_duplicates(
    store: ClinicalStore, chart: Chart
) -> None:
    assert [t.label for t in store.timepoints(chart.patient.id)] == ["baseline", "C3", "C6"]  # type: ignore[arg-type]
    with pytest.raises(DuplicateError):
        store.add_timepoint(Timepoint(id=None, patient_id=chart.patient.id, order=1, label="other"))
    with pytest.raises(DuplicateError):
        store.add_timepoint(Timepoint(id=None, patient_id=chart.patient.id, order=7, label="C3"))
    with pytest.raises(NotFoundError):
        store.add_timepoint(Timepoint(id=None, patient_id=999, order=0, label="baseline"))
    changed = store.update_timepoint(
        replace(
            chart.timepoints[1],
            modality="CT",
            slice_thickness_mm=1.25,
            study_instance_uid="1.2.840.1",
        )
    )
    assert store.timepoints(chart.patient.id)[1] == changed  # type: ignore[arg-type]
    assert changed.slice_thickness_mm == 1.25


def test_measurement_round_trip_keeps_every_value(store: ClinicalStore, chart: Chart) -> None:
    m = _measure(
        chart,
        0,
        0,
        34.7,
        short_axis_mm=12.3,
        geometry=GEOMETRY,
        method=Method.SEMI_AUTO,
        note="arterial",
    )
    stored = store.add_measurement(m)
    assert stored.reader_id == store.reader.id  # type: ignore[union-attr]
    assert stored.measured_at is not None
    assert stored.measured_at.tzinfo is not None
    assert stored == replace(
        m, id=stored.id, reader_id=stored.reader_id, measured_at=stored.measured_at
    )
    split = store.add_measurement(
        replace(
            _measure(chart, 1, 0, 20.5), status=MeasurementStatus.SPLIT, fragments_mm=(12.25, 8.25)
        )
    )
    merged = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=chart.lesions[2].id,
            timepoint_id=chart.timepoints[0].id,
            reader_id=None,
            status=MeasurementStatus.MERGED,
            coalesced_into="T1",
        )
    )
    assert store.measurements(patient_id=chart.patient.id) == [stored, split, merged]
    assert store.measurements(timepoint_id=chart.timepoints[1].id) == []


def test_one_measurement_per_reader_lesion_timepoint(store: ClinicalStore, chart: Chart) -> None:
    store.add_measurement(_measure(chart, 0, 0, 30.0))
    with pytest.raises(DuplicateError):
        store.add_measurement(_measure(chart, 0, 0, 31.0))


def test_measurement_must_join_lesion_and_timepoint_of_one_patient(
    store: ClinicalStore, chart: Chart
) -> None:
    other = build_chart(store, subject="S-002", n_timepoints=1, n_lesions=1)
    with pytest.raises(IntegrityViolationError, match="different patients"):
        store.add_measurement(
            Measurement(
                id=None,
                lesion_id=other.lesions[0].id,
                timepoint_id=chart.timepoints[0].id,
                reader_id=None,
                status=MeasurementStatus.PRESENT,
            )
        )
    with pytest.raises(NotFoundError):
        store.add_measurement(replace(_measure(chart, 0, 0, 10.0), lesion_id=12345))


def test_update_and_delete_are_audited_with_old_and_new_values(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    m = store.add_measurement(_measure(chart, 0, 1, 22.0))
    updated = store.update_measurement(replace(m, long_axis_mm=19.5))
    assert updated.long_axis_mm == 19.5
    store.delete_measurement(m.id)  # type: ignore[arg-type]
    assert store.measurements(patient_id=chart.patient.id) == []
    events = db.audit_events(entity="measurement", entity_id=m.id)
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert all(e.reader_id == store.reader.id for e in events)  # type: ignore[union-attr]
    assert events[0].after["long_axis_mm"] == 22.0  # type: ignore[index]
    assert events[1].before["long_axis_mm"] == 22.0
    assert events[1].after["long_axis_mm"] == 19.5
    assert events[2].before["long_axis_mm"] == 19.5
    assert events[2].after is None
    assert db.verify_audit().ok


def test_an_unchanged_update_writes_nothing(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    m = store.add_measurement(_measure(chart, 0, 1, 22.0))
    before = len(db.audit_events())
    assert store.update_measurement(m) == m
    assert store.update_lesion(chart.lesions[0]) == chart.lesions[0]
    assert len(db.audit_events()) == before


def test_lesion_update_and_delete_with_its_measurements(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    lesion = store.update_lesion(
        replace(chart.lesions[0], location="segment VII", organ="liver", nodal=False)
    )
    assert store.lesions(chart.patient.id)[0] == lesion  # type: ignore[arg-type]
    m1 = store.add_measurement(_measure(chart, 0, 0, 30.0))
    m2 = store.add_measurement(_measure(chart, 0, 1, 25.0))
    store.delete_lesion(lesion.id)  # type: ignore[arg-type]
    assert [le.code for le in store.lesions(chart.patient.id)] == ["T2", "T3"]  # type: ignore[arg-type]
    assert store.measurements(patient_id=chart.patient.id) == []
    deleted = {e.entity_id for e in db.audit_events() if e.action == "delete"}
    assert {str(m1.id), str(m2.id), str(lesion.id)} <= deleted
    with pytest.raises(NotFoundError):
        store.delete_lesion(lesion.id)  # type: ignore[arg-type]


def test_lesion_codes_are_unique_per_patient(store: ClinicalStore, chart: Chart) -> None:
    with pytest.raises(DuplicateError):
        store.add_lesion(
            Lesion(
                id=None,
                patient_id=chart.patient.id,
                code="T1",
                kind=LesionKind.TARGET,
                organ="liver",
                tracking_uid="2.25.999",
            )
        )


def test_a_failed_write_leaves_no_trace(db: Database, store: ClinicalStore, chart: Chart) -> None:
    events = len(db.audit_events())
    with pytest.raises(DuplicateError):
        store.add_patient(Patient(id=None, subject_id="S-001"))
    assert len(db.audit_events()) == events
    assert db.verify_audit().ok


def test_chart_loads_everything_in_one_call(store: ClinicalStore, chart: Chart) -> None:
    m = store.add_measurement(_measure(chart, 0, 0, 30.0, geometry=GEOMETRY))
    loaded = store.chart("S-001")
    assert loaded.patient == chart.patient
    assert loaded.timepoints == chart.timepoints
    assert sorted(loaded.lesions, key=lambda le: le.code) == chart.lesions
    assert loaded.measurements == [m]


def test_read_only_store_refuses_writes(db: Database, chart: Chart) -> None:
    reader = db.read_only_store()
    assert reader.patient("S-001") == chart.patient
    with pytest.raises(PermissionDeniedError, match="read-only"):
        reader.add_patient(Patient(id=None, subject_id="S-777"))
