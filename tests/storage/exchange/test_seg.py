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
