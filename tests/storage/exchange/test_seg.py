"""storage.exchange.seg: DICOM SEG of lesion and liver contours, out and in (issue 16)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from storage.exchange.seg import SegContour, SegError, build_seg, read_seg, write_seg


def _uids(slices: list[Dataset]) -> list[str]:
    return [str(ds.SOPInstanceUID) for ds in slices]


def _contours() -> list[SegContour]:
    lesion = np.zeros((3, 20, 24), dtype=bool)
    lesion[0, 5:9, 6:12] = True
    lesion[1, 3:15, 4:20] = True
    lesion[2, 6:10, 8:14] = True
    liver = np.zeros((5, 200, 220), dtype=bool)
    liver[:, 50:180, 30:200] = True
    return [
        SegContour("T1", (1, 200, 210), lesion, "lesion", "caliper-half-contrast-region", "1.0"),
        SegContour("liver", (0, 150, 100), liver, "liver", "caliper-liver-window-region", "1.0"),
    ]


def test_contours_round_trip_through_a_seg_file(ct_slices: list[Dataset], tmp_path: Path) -> None:
    path = write_seg(tmp_path / "seg.dcm", build_seg(ct_slices, _contours()))
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SEG"
    assert ds.SegmentationType == "BINARY"
    assert [s.SegmentAlgorithmType for s in ds.SegmentSequence] == ["SEMIAUTOMATIC"] * 2
    assert ds.SegmentSequence[0].SegmentAlgorithmName == "caliper-half-contrast-region"
    back = read_seg(path, _uids(ct_slices))
    assert [(c.label, c.property_type) for c in back] == [("T1", "Neoplasm"), ("liver", "Liver")]
    for original, read in zip(_contours(), back, strict=True):
        assert np.array_equal(_full(read.offset, read.mask), _full(original.offset, original.mask))


def _full(offset: tuple[int, int, int], mask: np.ndarray) -> np.ndarray:
    """A mask box placed in a 5 x 512 x 512 grid (read_seg returns the tight box)."""
    full = np.zeros((5, 512, 512), dtype=bool)
    k, r, c = offset
    full[k : k + mask.shape[0], r : r + mask.shape[1], c : c + mask.shape[2]] = mask
    return full


def test_written_seg_passes_dciodvfy(
    ct_slices: list[Dataset], tmp_path: Path, dciodvfy: str
) -> None:
    path = write_seg(tmp_path / "seg.dcm", build_seg(ct_slices, _contours()))
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert errors == [], output


def test_the_dcmqi_liver_seg_is_read_as_a_contour(shared_data: Path) -> None:
    from storage.dicom import load_series

    volume = load_series(shared_data / "dcmqi" / "segmentations" / "ct-3slice")
    (liver,) = read_seg(
        shared_data / "dcmqi" / "segmentations" / "liver.dcm", volume.sop_instance_uids
    )
    assert liver.label == "Liver"
    assert liver.property_type == "Liver"
    assert liver.mask.shape[0] == 3
    ml = liver.mask.sum() * float(np.prod(volume.spacing_mm)) / 1000
    assert 60 < ml < 80  # 70.4 mL on its 3 slices


def test_bad_input_is_named(ct_slices: list[Dataset], shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(SegError, match="outside the series"):
        build_seg(ct_slices, [SegContour("T9", (4, 0, 0), np.ones((3, 2, 2), dtype=bool))])
    with pytest.raises(SegError, match="none were given"):
        build_seg(ct_slices, [])
    ct_file = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[0]
    with pytest.raises(SegError, match="not a DICOM Segmentation"):
        read_seg(ct_file, _uids(ct_slices))
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    with pytest.raises(SegError, match="junk.dcm"):
        read_seg(junk, _uids(ct_slices))
    path = write_seg(tmp_path / "seg.dcm", build_seg(ct_slices, _contours()))
    with pytest.raises(SegError, match="none of its frames"):
        read_seg(path, ["1.2.3.4"])


def test_the_sr_references_the_seg_segment_of_a_measurement_with_a_contour(
    ct_slices: list[Dataset], tmp_path: Path, dciodvfy: str
) -> None:
    from dataclasses import replace

    from recist.model import Lesion, LesionKind, Patient, Timepoint
    from storage.exchange.seg import segment_references
    from storage.exchange.sr import build_timepoint_sr
    from storage.exchange.timeline import PatientTimeline
    from tests.storage.exchange.test_sr import READER, _geometry, _measured

    (lesion_contour,) = [c for c in _contours() if c.kind == "lesion"]
    seg = build_seg(ct_slices, [lesion_contour])
    refs = segment_references(seg, [lesion_contour], [(41, 1.25)])
    tp = Timepoint(1, 1, 0, "baseline")
    lesion = Lesion(1, 1, "T1", LesionKind.TARGET, "liver", "2.25.1111")
    m = replace(
        _measured(1, 1, _geometry(ct_slices[1], 1, ((200.0, 210.0), (240.0, 230.0)))), id=41
    )
    timeline = PatientTimeline(Patient(1, "CRLM-001"), (tp,), (lesion,), (m,), {}, {7: READER})
    sr = build_timepoint_sr(timeline, tp, ct_slices, segments=refs)
    path = tmp_path / "sr.dcm"
    sr.save_as(path)
    text = str(pydicom.dcmread(path))
    assert str(seg.SOPInstanceUID) in text  # the Referenced Segment
    assert "Referenced Segment" in text
    assert "Volume" in text
    assert "1.25" in text
    texts = set()
    for item in pydicom.dcmread(path).iterall():
        if item.keyword == "TextValue":
            texts.add(str(item.value))
    assert "caliper-half-contrast-region" in texts
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, check=False)
    errors = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")
    ]
    assert errors == [], result.stdout + result.stderr
    # without the references the report has no segment
    plain = build_timepoint_sr(timeline, tp, ct_slices)
    assert str(seg.SOPInstanceUID) not in str(plain)
