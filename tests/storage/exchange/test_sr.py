"""DICOM SR TID 1500: write per timepoint, validate with dciodvfy, read back, read real SRs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Patient,
    Reader,
    Role,
    Segment,
    Timepoint,
)
from storage.exchange.sr import SrExportError, build_timepoint_sr
from storage.exchange.sr_codes import pixel_to_lps
from storage.exchange.sr_read import SrImportError, read_sr, records_from_sr, skipped_groups
from storage.exchange.timeline import PatientTimeline

READER = Reader(7, "jdoe", "Jane Doe", Role.INVESTIGATOR)


def _segment(ds: Dataset, start: tuple[float, float], end: tuple[float, float]) -> Segment:
    return Segment(start, end, pixel_to_lps(ds, *start), pixel_to_lps(ds, *end))


def _geometry(ds: Dataset, index: int, long: tuple, short: tuple | None = None) -> DrawnGeometry:
    return DrawnGeometry(
        str(ds.SeriesInstanceUID),
        str(ds.SOPInstanceUID),
        index,
        _segment(ds, *long),
        _segment(ds, *short) if short else None,
    )


def _measured(
    lesion_id: int, tp_id: int, geometry: DrawnGeometry, nodal: bool = False
) -> Measurement:
    long_mm = round(geometry.long_axis.length_mm, 1)
    short_mm = round(geometry.short_axis.length_mm, 1) if geometry.short_axis else None
    return Measurement(
        None,
        lesion_id,
        tp_id,
        7,
        MeasurementStatus.MEASURED,
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        geometry=geometry,
    )


@pytest.fixture
def timeline(ct_slices: list[Dataset]) -> PatientTimeline:
    """Two timepoints on real CT slices: a liver target, a nodal target, a non-target."""
    tps = (Timepoint(1, 1, 0, "baseline"), Timepoint(2, 1, 1, "C3"))
    lesions = (
        Lesion(1, 1, "T1", LesionKind.TARGET, "liver", "2.25.1111", location="segment VII"),
        Lesion(2, 1, "T2", LesionKind.TARGET, "lymph node", "2.25.2222", nodal=True),
        Lesion(3, 1, "NT1", LesionKind.NON_TARGET, "peritoneum", "2.25.3333"),
    )
    s0, s2, s4 = ct_slices[0], ct_slices[2], ct_slices[4]
    ms = (
        _measured(1, 1, _geometry(s0, 0, ((200.25, 210.5), (260.75, 240.0)))),
        _measured(
            2,
            1,
            _geometry(s2, 2, ((300.0, 300.0), (330.0, 330.0)), ((310.0, 330.0), (330.0, 310.0))),
        ),
        Measurement(None, 3, 1, 7, MeasurementStatus.PRESENT),
        _measured(1, 2, _geometry(s4, 4, ((201.0, 211.0), (240.5, 230.0)))),
        Measurement(None, 2, 2, 7, MeasurementStatus.TOO_SMALL),
        Measurement(None, 3, 2, 7, MeasurementStatus.ABSENT),
    )
    patient = Patient(1, "CRLM-001", trial="CRLM-01")
    result = {
        "timepoints": [{"label": "baseline"}, {"label": "C3", "target": "PR", "non_target": "CR"}]
    }
    return PatientTimeline(patient, tps, lesions, ms, result, {7: READER})


def _write(timeline: PatientTimeline, tp: Timepoint, images: list[Dataset], path: Path) -> Path:
    sr = build_timepoint_sr(timeline, tp, images)
    sr.save_as(path)
    return path


def test_written_sr_passes_dciodvfy(
    timeline: PatientTimeline, ct_slices: list[Dataset], tmp_path: Path, dciodvfy: str
) -> None:
    for tp in timeline.timepoints:
        path = _write(timeline, tp, ct_slices, tmp_path / f"{tp.label}.dcm")
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, check=False)
        output = result.stdout + result.stderr
        errors = [line for line in output.splitlines() if line.startswith("Error")]
        assert errors == [], output
        assert "Comprehensive3DSR" in output


def test_round_trip_gives_same_lesions_measurements_and_tracking(
    timeline: PatientTimeline, ct_slices: list[Dataset], tmp_path: Path
) -> None:
    images = {str(ds.SOPInstanceUID): ds for ds in ct_slices}
    slices = {str(ds.SOPInstanceUID): i for i, ds in enumerate(ct_slices)}
    tracking: dict[str, set[str]] = {}
    for tp in timeline.timepoints:
        report = read_sr(_write(timeline, tp, ct_slices, tmp_path / f"{tp.label}.dcm"))
        assert report.time_point == tp.label
        assert report.observer == "Doe^Jane"
        pairs = records_from_sr(report, images=images, slice_of_sop=slices)
        expected = [
            (les, timeline.measurement(les.id, tp.id))
            for les in timeline.lesions
            if timeline.measurement(les.id, tp.id) is not None
        ]
        assert len(pairs) == len(expected)
        for (lesion, m), (want_lesion, want) in zip(pairs, expected, strict=True):
            assert (lesion.code, lesion.kind, lesion.organ, lesion.nodal, lesion.tracking_uid) == (
                want_lesion.code,
                want_lesion.kind,
                want_lesion.organ,
                want_lesion.nodal,
                want_lesion.tracking_uid,
            )
            tracking.setdefault(lesion.code, set()).add(lesion.tracking_uid)
            assert m.status is want.status
            for got, exp in (
                (m.long_axis_mm, want.long_axis_mm),
                (m.short_axis_mm, want.short_axis_mm),
            ):
                assert (got is None) == (exp is None)
                if exp is not None:
                    assert got == pytest.approx(exp, abs=0.05)
            if want.geometry is None:
                assert m.geometry is None
                continue
            g, w = m.geometry, want.geometry
            assert (g.series_instance_uid, g.sop_instance_uid, g.slice_index) == (
                w.series_instance_uid,
                w.sop_instance_uid,
                w.slice_index,
            )
            for seg, wseg in ((g.long_axis, w.long_axis), (g.short_axis, w.short_axis)):
                assert (seg is None) == (wseg is None)
                if wseg is not None:
                    assert seg.start_px == pytest.approx(wseg.start_px, abs=1e-3)
                    assert seg.end_px == pytest.approx(wseg.end_px, abs=1e-3)
                    assert seg.start_lps_mm == pytest.approx(wseg.start_lps_mm, abs=1e-3)
                    assert seg.end_lps_mm == pytest.approx(wseg.end_lps_mm, abs=1e-3)
    c3 = report.responses  # the C3 report
    assert (c3["target"], c3["non_target"]) == ("PR", "CR")
    assert all(len(uids) == 1 for uids in tracking.values())
    assert tracking["T1"] == {"2.25.1111"}


def test_pixel_positions_rebuilt_from_3d_coordinates(
    timeline: PatientTimeline, ct_slices: list[Dataset], tmp_path: Path
) -> None:
    report = read_sr(_write(timeline, timeline.timepoints[0], ct_slices, tmp_path / "b.dcm"))
    t1 = next(g for g in report.groups if g.tracking_identifier == "T1")
    assert len(t1.long_axis.coordinates.points_lps) == 2
    assert t1.long_axis.coordinates.frame_of_reference_uid == str(ct_slices[0].FrameOfReferenceUID)


def test_missing_source_image_is_named(timeline: PatientTimeline, ct_slices: list[Dataset]) -> None:
    with pytest.raises(SrExportError, match="T1"):
        build_timepoint_sr(timeline, timeline.timepoints[0], ct_slices[1:2])
    with pytest.raises(SrExportError, match="source image"):
        build_timepoint_sr(timeline, timeline.timepoints[0], [])


def test_reads_pixelmed_length_with_scoord(shared_data: Path) -> None:
    report = read_sr(shared_data / "tid1500-sr" / "rsna2018_dataset4" / "1.dcm")
    assert len(report.groups) == 1
    group = report.groups[0]
    assert group.finding_site == "kidney"
    assert group.tracking_uid == "1.3.6.1.4.1.5962.1.1.0.0.0.1535644357.22655.1"
    assert group.long_axis is not None
    assert group.long_axis.value_mm == pytest.approx(66.4386)
    assert len(group.long_axis.coordinates.points_px) == 2
    assert group.long_axis.coordinates.sop_instance_uid
    # a length without a RECIST category is read, but not turned into a target (issue 14)
    assert records_from_sr(report) == []
    assert group.kind is None


def test_reads_highdicom_and_dcmqi_reports(shared_data: Path) -> None:
    report = read_sr(shared_data / "highdicom" / "sr_document_with_multiple_groups.dcm")
    nodule = next(g for g in report.groups if g.tracking_identifier == "LungNodule0001")
    assert nodule.finding_site == "lung"
    assert nodule.long_axis.value_mm == 10.0
    dcmqi = read_sr(shared_data / "tid1500-sr" / "dcmqi" / "result.dcm")
    assert [g.finding_site for g in dcmqi.groups] == ["liver"]
    assert dcmqi.groups[0].other  # attenuation statistics kept, not turned into diameters
    assert records_from_sr(dcmqi) == []  # an "Organ" finding is no RECIST lesion (issue 14)


def test_not_an_sr_is_refused(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(SrImportError, match="structured report"):
        read_sr(next((shared_data / "ct-chest-30").glob("*.dcm")))
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    with pytest.raises(SrImportError, match="junk.dcm"):
        read_sr(junk)


def _real_reports(shared: Path) -> list[Path]:
    found = []
    for path in (
        sorted(shared.glob("tid1500-sr/**/*.dcm"))
        + sorted(shared.glob("highdicom/sr_*.dcm"))
        + sorted(shared.glob("dcmqi/sr-example/sr.dcm"))
    ):
        if pydicom.dcmread(path, stop_before_pixels=True).get("Modality") == "SR":
            found.append(path)
    return found


def test_every_real_report_imports(shared_data: Path) -> None:
    reports = _real_reports(shared_data)
    assert len(reports) >= 7
    for path in reports:
        report = read_sr(path)
        pairs = records_from_sr(report)
        assert len(report.groups) >= 1, path
        # none of these tools writes a RECIST category: each group is listed as skipped
        assert len(pairs) + len(skipped_groups(report)) == len(report.groups), path
