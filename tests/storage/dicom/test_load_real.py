"""Loading every real series, checked against SimpleITK and pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from storage.dicom import Volume, load_series, scan


def _sitk(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _assert_like_sitk(volume: Volume, image: sitk.Image, *, geometry: bool = True) -> None:
    array = sitk.GetArrayViewFromImage(image)
    assert volume.voxels.shape == array.shape
    assert np.array_equal(volume.voxels, array)
    assert np.allclose(volume.spacing_mm[1:], image.GetSpacing()[1::-1], atol=1e-6)
    assert np.allclose(volume.origin_lps_mm, image.GetOrigin(), atol=1e-4)
    if geometry:
        assert np.allclose(volume.spacing_mm[0], image.GetSpacing()[2], atol=1e-6)
        assert np.allclose(
            np.array(volume.direction), np.array(image.GetDirection()).reshape(3, 3), atol=1e-6
        )


@pytest.mark.parametrize(
    "name",
    [
        "ct-chest-30",
        "mr-brain-24",
        "dcmqi/segmentations/ct-3slice",
        "dcmqi/segmentations/24x38x3/image",
        "dcmqi/segmentations/23x38x3/image",
    ],
)
def test_matches_simpleitk(shared_data: Path, name: str) -> None:
    volume = load_series(shared_data / name)
    _assert_like_sitk(volume, _sitk(shared_data / name))
    assert volume.is_complete
    assert volume.slices_loaded == volume.voxels.shape[0]
    assert volume.warnings == []


@pytest.mark.slow
def test_wholebody_matches_simpleitk_and_pydicom(shared_data: Path) -> None:
    folder = shared_data / "ct-wholebody-269"
    volume = load_series(folder)
    assert volume.voxels.dtype == np.int16
    _assert_like_sitk(volume, _sitk(folder))
    assert volume.spacing_mm == (2.5, 0.9765625, 0.9765625)
    # Slice k is the file at the k-th position along the normal: check a few against pydicom.
    for k in (0, 134, 268):
        ds = pydicom.dcmread(
            scan(folder).series[0].files[0].rsplit("/", 1)[0] + f"/1-{269 - k:03d}.dcm"
        )
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert np.array_equal(volume.voxels[k], expected)
        assert volume.sop_instance_uids[k] == ds.SOPInstanceUID
        ipp = [float(v) for v in ds.ImagePositionPatient]
        assert np.allclose(volume.index_to_lps(k, 0, 0), ipp)


def test_mr_keeps_raw_values_without_rescale(shared_data: Path) -> None:
    volume = load_series(shared_data / "mr-brain-24")
    assert volume.modality == "MR"
    assert volume.voxels.dtype == np.int16
    assert volume.value_range()[0] >= 0
    # Oblique series: every slice's first voxel sits exactly at its ImagePositionPatient.
    for k, position in enumerate(volume.slice_positions_lps_mm):
        assert np.allclose(volume.index_to_lps(k, 0, 0), position, atol=1e-9)


def test_gantry_tilt_keeps_acquired_geometry(shared_data: Path) -> None:
    folder = shared_data / "ct-head-tilt-ge"
    volume = load_series(folder)
    _assert_like_sitk(volume, _sitk(folder), geometry=False)
    assert any("gantry tilt of 18.5 degrees" in w for w in volume.warnings)
    assert any("uneven slice spacing" in w for w in volume.warnings)
    files = {
        pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in folder.glob("*.dcm")
    }
    for k in range(volume.voxels.shape[0]):
        ds = pydicom.dcmread(files[volume.sop_instance_uids[k]])
        ipp = [float(v) for v in ds.ImagePositionPatient]
        assert np.allclose(volume.index_to_lps(k, 0, 0), ipp, atol=1e-6)
        # a voxel inside the slice: IPP + row/column steps along ImageOrientationPatient
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        expected = np.array(ipp) + 100 * 0.4882812 * iop[:3] + 50 * 0.4882812 * iop[3:]
        assert np.allclose(volume.index_to_lps(k, 50, 100), expected, atol=1e-6)
    slice_axis = np.array(volume.direction)[:, 2]
    normal = np.cross(np.array(volume.direction)[:, 0], np.array(volume.direction)[:, 1])
    assert np.degrees(np.arccos(slice_axis @ normal)) == pytest.approx(18.5, abs=0.1)


def test_index_and_lps_round_trip(shared_data: Path) -> None:
    volume = load_series(shared_data / "ct-head-tilt-ge")
    for index in [(0, 0, 0), (3.5, 10.25, 400.0), (27, 511, 511), (12.2, 256, 3)]:
        back = volume.lps_to_index(*volume.index_to_lps(*index))
        assert np.allclose(back, index, atol=1e-6)


TRANSFER_SYNTAXES = {
    "1.dcm": "1.2.840.10008.1.2.1",
    "2.dcm": "1.2.840.10008.1.2",
    "3.dcm": "1.2.840.10008.1.2.2",
    "4.dcm": "1.2.840.10008.1.2.5",
    "5.dcm": "1.2.840.10008.1.2.4.70",
    "6.dcm": "1.2.840.10008.1.2.4.70",
    "7.dcm": "1.2.840.10008.1.2.4.80",
    "8.dcm": "1.2.840.10008.1.2.4.80",
    "9.dcm": "1.2.840.10008.1.2.4.90",
}


@pytest.mark.parametrize("name", sorted(TRANSFER_SYNTAXES))
def test_every_transfer_syntax_decodes_to_the_same_pixels(shared_data: Path, name: str) -> None:
    folder = shared_data / "transfer-syntaxes"
    meta = pydicom.dcmread(folder / name, stop_before_pixels=True).file_meta
    assert meta.TransferSyntaxUID == TRANSFER_SYNTAXES[name]
    reference = pydicom.dcmread(folder / "1.dcm").pixel_array
    volume = load_series(folder / name)
    assert volume.voxels.shape == (1, 384, 384)
    assert np.array_equal(volume.voxels[0], reference)
    assert volume.spacing_mm[1:] == (3.25, 3.25)
    image = sitk.ReadImage(str(folder / name))
    assert np.array_equal(volume.voxels, sitk.GetArrayViewFromImage(image))
    assert np.allclose(volume.origin_lps_mm, image.GetOrigin(), atol=1e-4)


def test_deflated_file_made_at_test_time(shared_data: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(shared_data / "mr-brain-24" / "1-05.dcm")
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(tmp_path / "deflated.dcm", enforce_file_format=True)
    volume = load_series(tmp_path / "deflated.dcm")
    assert np.array_equal(volume.voxels[0], ds.pixel_array)
    assert np.allclose(volume.origin_lps_mm, [float(v) for v in ds.ImagePositionPatient])


def test_same_image_in_nine_syntaxes_is_one_slice_with_a_warning(shared_data: Path) -> None:
    volume = load_series(shared_data / "transfer-syntaxes")
    assert volume.voxels.shape[0] == 1
    assert any("9 images at each" in w for w in volume.warnings)


def _frames_by_position(path: Path) -> dict[float, tuple[np.ndarray, list[float]]]:
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    out: dict[float, tuple[np.ndarray, list[float]]] = {}
    for i, frame in enumerate(ds.PerFrameFunctionalGroupsSequence):
        ipp = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        pvt = frame.get("PixelValueTransformationSequence") or ds.SharedFunctionalGroupsSequence[
            0
        ].get("PixelValueTransformationSequence")
        slope = float(pvt[0].RescaleSlope) if pvt else 1.0
        intercept = float(pvt[0].RescaleIntercept) if pvt else 0.0
        out.setdefault(round(ipp[2], 3), (pixels[i] * slope + intercept, ipp))
    return out


def test_enhanced_mr_philips_multiframe(shared_data: Path) -> None:
    path = shared_data / "enhanced-mr" / "Philips" / "IM_0027_fMAP.dcm"
    volume = load_series(path)
    expected = _frames_by_position(path)
    assert volume.voxels.shape == (32, 64, 64)
    assert volume.spacing_mm == pytest.approx((4.0, 4.0, 4.0), abs=1e-6)
    for k, position in enumerate(volume.slice_positions_lps_mm):
        pixels, ipp = expected[round(position[2], 3)]
        assert np.allclose(position, ipp)
        assert np.allclose(volume.voxels[k], pixels, atol=1e-3)
    assert any("2 images at each of its 32 positions" in w for w in volume.warnings)


def test_enhanced_mr_siemens_four_files(shared_data: Path) -> None:
    folder = shared_data / "enhanced-mr" / "Siemens" / "XA10"
    volume = load_series(folder)
    assert volume.voxels.shape == (6, 64, 64)
    expected = _frames_by_position(folder / "6_1.dcm")  # the first time point is kept
    for k, position in enumerate(volume.slice_positions_lps_mm):
        assert np.array_equal(volume.voxels[k], expected[round(position[2], 3)][0])
    assert volume.frame_numbers == [1, 2, 3, 4, 5, 6]
    assert volume.spacing_mm[0] == pytest.approx(2.4, abs=1e-6)


def test_legacy_converted_enhanced_ct_matches_its_source(shared_data: Path) -> None:
    base = shared_data / "dcmqi" / "segmentations" / "24x38x3"
    multiframe = load_series(base / "multiframe" / "mf.dcm")
    classic = load_series(base / "image")
    assert multiframe.voxels.shape == classic.voxels.shape == (3, 38, 24)
    assert np.array_equal(multiframe.voxels, classic.voxels)
    assert np.allclose(multiframe.origin_lps_mm, classic.origin_lps_mm)
    assert multiframe.spacing_mm == pytest.approx(classic.spacing_mm)


def test_parametric_map_slice_and_signed_ct(shared_data: Path) -> None:
    pm = load_series(shared_data / "dcmqi" / "paramaps" / "pm-example-slice.dcm")
    ds = pydicom.dcmread(shared_data / "dcmqi" / "paramaps" / "pm-example-slice.dcm")
    assert np.array_equal(pm.voxels[0], ds.pixel_array)
    ct = load_series(shared_data / "dcmqi" / "segmentations" / "ct-3slice")
    # signed 16-bit with intercept -1024: declared range exceeds int16, actual values fit
    assert ct.voxels.dtype == np.int16
    assert ct.value_range() == (-3024.0, 1381.0)


def test_background_loading_reports_progress(shared_data: Path) -> None:
    calls: list[tuple[int, int]] = []
    volume = load_series(
        shared_data / "ct-chest-30",
        background=True,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert volume.slices_loaded >= 1
    assert volume.voxels[15].any()  # the middle slice is ready to show
    volume.wait(timeout=60)
    assert volume.is_complete
    assert volume.slices_loaded == 30
    assert calls == [(i, 30) for i in range(1, 31)]
    assert volume.load_seconds is not None
    assert volume.load_seconds > 0
    assert np.array_equal(volume.voxels, load_series(shared_data / "ct-chest-30").voxels)


def test_projection_radiograph_keeps_its_grey_scale_polarity(shared_data: Path) -> None:
    volume = load_series(shared_data / "highdicom" / "dx_image.dcm")
    ds = pydicom.dcmread(shared_data / "highdicom" / "dx_image.dcm")
    assert volume.voxels.shape == (1, ds.Rows, ds.Columns)
    assert volume.photometric == "MONOCHROME1"
    assert any("projection image" in w for w in volume.warnings)
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    assert np.array_equal(volume.voxels[0], ds.pixel_array * slope + intercept)


def test_background_load_can_be_cancelled(shared_data: Path) -> None:
    volume = load_series(shared_data / "ct-wholebody-269", background=True)
    volume.cancel()  # the reader opened another series at once
    volume.wait(timeout=60)
    assert volume.is_complete
    assert volume.is_cancelled
    assert 1 <= volume.slices_loaded < 269
    assert any("loading cancelled" in w for w in volume.warnings)
