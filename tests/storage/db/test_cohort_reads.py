"""The cohort's bulk reads (issue 17): one query per table, the same records as one at a time.

``ClinicalStore.charts`` reads measurements by position (only the columns a Measurement
needs) and ``endpoint_records_of`` reads every patient's endpoint records at once; both must
give exactly what the per-patient reads give, every field included.
"""

from __future__ import annotations

from datetime import date

from recist.endpoints import SurvivalRecord
from recist.model import (
    DrawnGeometry,
    Measurement,
    MeasurementStatus,
    Method,
    Segment,
)
from storage.db import ClinicalStore
from tests.storage.db.conftest import build_chart


def test_bulk_measurements_equal_the_one_patient_read_field_by_field(
    store: ClinicalStore,
) -> None:
    first = build_chart(store, "S-001")
    build_chart(store, "S-002", n_timepoints=2, n_lesions=1)
    segment = Segment((10.0, 20.5), (40.0, 21.0), (1.0, 2.0, 3.0), (31.0, 2.5, 3.0))
    geometry = DrawnGeometry("1.2.3", "1.2.3.4", 7, segment, None, 2)
    kinds = (
        Measurement(
            None,
            first.lesions[0].id,
            first.timepoints[0].id,
            None,
            MeasurementStatus.MEASURED,
            30.0,
            12.5,
            geometry,
            Method.SEMI_AUTO,
            note="edge blurred",
        ),
        Measurement(
            None,
            first.lesions[1].id,
            first.timepoints[0].id,
            None,
            MeasurementStatus.MEASURED,
            22.0,
            fragments_mm=(12.0, 10.0),
            equivocal=True,
        ),
        Measurement(
            None, first.lesions[2].id, first.timepoints[0].id, None, MeasurementStatus.TOO_SMALL
        ),
        Measurement(
            None, first.lesions[0].id, first.timepoints[1].id, None, MeasurementStatus.ABSENT
        ),
    )
    for measurement in kinds:
        store.add_measurement(measurement)
    bulk = {c.patient.subject_id: c for c in store.charts()}
    one = store.chart("S-001")
    assert bulk["S-001"].measurements == one.measurements
    assert len(one.measurements) == 4
    read = {m.lesion_id: m for m in one.measurements if m.timepoint_id == first.timepoints[0].id}
    assert read[first.lesions[0].id].geometry == geometry
    assert read[first.lesions[1].id].fragments_mm == (12.0, 10.0)
    assert read[first.lesions[1].id].equivocal is True
    assert bulk["S-002"].measurements == []


def test_endpoint_records_of_many_patients_equal_each_patients(store: ClinicalStore) -> None:
    a = build_chart(store, "S-001").patient.id
    b = build_chart(store, "S-002").patient.id
    store.save_survival_record(SurvivalRecord(None, b, date(2026, 1, 12), note="alive"))
    found = store.endpoint_records_of([a, b])
    assert found == {a: store.endpoint_records(a), b: store.endpoint_records(b)}
    assert found[a].survival is None
    assert found[b].survival.note == "alive"
    assert store.endpoint_records_of([b]) == {b: store.endpoint_records(b)}
