"""Pixel decoding details: unused high bits, sign extension, fast path vs pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from storage.dicom import load_series, scan


def test_unused_high_bits_are_masked_like_pydicom(shared_data: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-01.dcm")
    pixels = ds.pixel_array.copy()
    noisy = pixels.copy()
    noisy[0, :10] |= 0xF000  # overlay bits above Bits Stored = 12
    ds.PixelData = noisy.tobytes()
    ds.save_as(tmp_path / "u12.dcm")
    volume = load_series(tmp_path / "u12.dcm")
    expected = pydicom.dcmread(tmp_path / "u12.dcm").pixel_array.astype(np.int32) - 1024
    assert np.array_equal(volume.voxels[0], expected)
    assert np.array_equal(volume.voxels[0], pixels.astype(np.int32) - 1024)


def test_signed_12_bit_is_sign_extended(shared_data: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-01.dcm")
    values = (ds.pixel_array.astype(np.int32) - 2048).clip(-2048, 2047)
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = 0
    ds.PixelData = (values.astype(np.int16).view(np.uint16) & 0x0FFF).tobytes()
    ds.save_as(tmp_path / "s12.dcm")
    volume = load_series(tmp_path / "s12.dcm")
    assert volume.voxels.dtype == np.int16
    assert np.array_equal(volume.voxels[0], values)
    assert np.array_equal(volume.voxels[0], pydicom.dcmread(tmp_path / "s12.dcm").pixel_array)


def test_fractional_rescale_gives_float32(shared_data: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-02.dcm")
    ds.RescaleSlope = "0.5"
    ds.RescaleIntercept = "-10.25"
    ds.save_as(tmp_path / "frac.dcm")
    volume = load_series(tmp_path / "frac.dcm")
    assert volume.voxels.dtype == np.float32
    assert np.allclose(volume.voxels[0], ds.pixel_array * 0.5 - 10.25)


def test_zip_inside_a_folder_is_named(shared_data: Path, tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "inner.zip", "w") as zf:
        zf.write(shared_data / "ct-chest-30" / "1-01.dcm", "1-01.dcm")
    report = scan(tmp_path)
    assert report.series == []
    assert "zip archive" in report.problems[0].message


def test_quiet_filter_is_removed_even_with_threads() -> None:
    import threading
    import warnings

    from storage.dicom.quiet import pydicom_quiet

    before = list(warnings.filters)

    def enter_and_leave() -> None:
        for _ in range(500):
            with pydicom_quiet():
                pass

    threads = [threading.Thread(target=enter_and_leave) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert warnings.filters == before
