"""Issue 11 point 1: the frame of a multi-frame image survives DICOM SR (ReferencedFrameNumber)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydicom.dataset import Dataset

from storage.exchange.sr_read import read_sr, records_from_sr
from storage.exchange.timeline import PatientTimeline
from tests.storage.exchange.test_sr import _write, timeline  # noqa: F401 - the fixture


def test_point1_frame_number_round_trips_through_sr(
    timeline: PatientTimeline,  # noqa: F811 - the imported fixture
    ct_slices: list[Dataset],
    tmp_path: Path,
) -> None:
    baseline = timeline.timepoints[0]
    t1 = next(
        m for m in timeline.measurements if m.lesion_id == 1 and m.timepoint_id == baseline.id
    )
    framed = replace(t1, geometry=replace(t1.geometry, frame_number=3))
    measurements = tuple(framed if m is t1 else m for m in timeline.measurements)
    timeline = replace(timeline, measurements=measurements)
    report = read_sr(_write(timeline, baseline, ct_slices, tmp_path / "framed.dcm"))
    images = {str(ds.SOPInstanceUID): ds for ds in ct_slices}
    geometries = {les.code: m.geometry for les, m in records_from_sr(report, images=images)}
    assert geometries["T1"].frame_number == 3
    assert geometries["T1"].sop_instance_uid == t1.geometry.sop_instance_uid
    assert geometries["T2"].frame_number is None  # a single-frame image names no frame
