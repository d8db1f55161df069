"""Issue 11 point 1: a measurement is anchored to its image by SOP Instance UID and frame number."""

from __future__ import annotations

from sqlalchemy import select

from recist.model import DrawnGeometry, Measurement, MeasurementStatus, Segment
from storage.db import ClinicalStore, Database
from storage.db.models import MeasurementRow
from storage.db.replay import _compare
from tests.storage.db.conftest import Chart

_LINE = Segment((10.0, 20.0), (40.0, 22.0), (-12.5, 30.0, -101.0), (17.0, 31.5, -101.0))


def test_point1_frame_number_is_stored_and_read_back(
    db: Database, store: ClinicalStore, chart: Chart
) -> None:
    geometry = DrawnGeometry("1.2.3", "1.2.3.7", 40, _LINE, frame_number=5)
    stored = store.add_measurement(
        Measurement(
            id=None,
            lesion_id=chart.lesions[0].id,
            timepoint_id=chart.timepoints[0].id,
            reader_id=None,
            status=MeasurementStatus.MEASURED,
            long_axis_mm=30.1,
            geometry=geometry,
        )
    )
    (read,) = store.measurements(patient_id=chart.patient.id)
    assert read.geometry == geometry
    assert read.geometry.frame_number == 5
    with db.engine.connect() as conn:
        row = conn.execute(
            select(MeasurementRow.frame_number).where(MeasurementRow.id == stored.id)
        )
        assert row.scalar_one() == 5
    assert db.verify_audit().ok


def test_point1_older_audit_events_without_frame_number_still_match() -> None:
    old_event = {"geometry": {"sop_instance_uid": "1.2.3.7", "slice_index": 3}}
    now = {"geometry": {"sop_instance_uid": "1.2.3.7", "slice_index": 3, "frame_number": None}}
    assert _compare("measurement", "1", now, old_event) == []
    moved = {"geometry": {"sop_instance_uid": "1.2.3.7", "slice_index": 3, "frame_number": 2}}
    assert _compare("measurement", "1", moved, old_event) != []
