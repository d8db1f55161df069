"""Legacy files: 12-bit lossy JPEG (GDCM fallback), datasets without preamble, decoder order.

The compressed copies are made at test time from the real ct-wholebody-269 series with
dcmtk's ``dcmcjpeg --encode-extended`` (installed with apt-get when missing) and with
pydicom's own encoders.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.encaps import encapsulate, generate_frames
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import JPEGExtended12Bit, JPEGLSLossless, RLELossless, generate_uid

import storage.dicom.decoders
from storage.dicom import load_series, scan
from storage.dicom.decoders import GDCM, IMAGECODECS, RLE, plugins_for
from storage.dicom.headers import read_header
from storage.dicom.rawdataset import looks_like_raw_dataset
from storage.dicom.records import FileHeader
from tests.system_tools import system_tool

#: Slices of ct-wholebody-269 used (through the liver and the lung bases).
SLICES = [f"1-{n:03d}.dcm" for n in range(100, 106)]
#: Lossy tolerance of JPEG Extended at dcmcjpeg's default quality 90 on 12-bit CT, in HU.
MAX_LOSSY_ERROR_HU = 64
MEAN_LOSSY_ERROR_HU = 3.0


@pytest.fixture(scope="session")
def dcmcjpeg() -> str:
    """Path of dcmtk's dcmcjpeg; installs the Debian package on a fresh machine."""
    return system_tool("dcmcjpeg")


@pytest.fixture
def jpeg12(shared_data: Path, tmp_path: Path, dcmcjpeg: str) -> Path:
    """Six CT slices in JPEG Extended 12-bit (lossy), made by dcmcjpeg."""
    folder = tmp_path / "jpeg12"
    folder.mkdir()
    for name in SLICES:
        subprocess.run(
            [
                dcmcjpeg,
                "--encode-extended",
                str(shared_data / "ct-wholebody-269" / name),
                str(folder / name),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return folder


def _original_hu(shared_data: Path) -> np.ndarray:
    return np.stack(
        [
            pydicom.dcmread(shared_data / "ct-wholebody-269" / n).pixel_array.astype(np.int32)
            - 1024
            for n in SLICES
        ]
    )


def _by_position(folder: Path, names: list[str] = SLICES) -> list[str]:
    """File names ordered as the loader orders slices (increasing position along the normal)."""
    return sorted(
        names,
        key=lambda n: float(
            pydicom.dcmread(folder / n, stop_before_pixels=True).ImagePositionPatient[2]
        ),
    )


def _spoil_scan_header(path: Path) -> None:
    """Make Se of the JPEG scan header 0, as some older encoders wrote it (libjpeg refuses)."""
    ds = pydicom.dcmread(path)
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    sos = frame.find(b"\xff\xda")
    components = frame[sos + 4]
    spectral_end = sos + 2 + 2 + 1 + 2 * components + 1
    assert frame[spectral_end] == 63
    frame[spectral_end] = 0
    ds.PixelData = encapsulate([bytes(frame)])
    ds.save_as(path)


def test_jpeg_extended_12_bit_decodes_within_lossy_tolerance(
    shared_data: Path, jpeg12: Path
) -> None:
    ts = pydicom.dcmread(jpeg12 / SLICES[0], stop_before_pixels=True).file_meta.TransferSyntaxUID
    assert ts == JPEGExtended12Bit
    volume = load_series(jpeg12)
    assert volume.warnings == []
    order = _by_position(jpeg12)
    original = {n: hu for n, hu in zip(SLICES, _original_hu(shared_data), strict=True)}
    expected = np.stack([original[n] for n in order])
    error = np.abs(volume.voxels.astype(np.int32) - expected)
    assert error.max() <= MAX_LOSSY_ERROR_HU
    assert error.mean() <= MEAN_LOSSY_ERROR_HU
    # GDCM (through SimpleITK) decodes the same stream to within IDCT rounding
    for k, name in enumerate(order):
        gdcm_hu = sitk.GetArrayFromImage(sitk.ReadImage(str(jpeg12 / name)))[0]
        assert np.abs(volume.voxels[k].astype(np.int32) - gdcm_hu).max() <= 1


def test_jpeg_that_libjpeg_refuses_falls_back_to_gdcm(jpeg12: Path) -> None:
    good = load_series(jpeg12).voxels.copy()
    for name in SLICES:
        _spoil_scan_header(jpeg12 / name)
    with pytest.raises(Exception, match="scan stop must be 63"):
        pydicom.pixels.pixel_array(pydicom.dcmread(jpeg12 / SLICES[0]), decoding_plugin="pylibjpeg")
    volume = load_series(jpeg12)
    assert not [w for w in volume.warnings if "could not be decoded" in w]
    assert np.abs(volume.voxels.astype(np.int32) - good).max() <= 1


def test_decoder_order_is_fastest_first() -> None:
    assert plugins_for(JPEGLSLossless)[:2] == (IMAGECODECS, "pyjpegls")
    assert GDCM in plugins_for(JPEGExtended12Bit)
    assert plugins_for("1.2.840.10008.1.2.1") == ()  # native data need no plugin


@pytest.mark.parametrize("background", [False, True])
def test_compressed_series_in_worker_processes_is_lossless(
    shared_data: Path, tmp_path: Path, background: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if no decoder released the GIL: JPEG-LS goes to the worker processes
    monkeypatch.setattr(storage.dicom.decoders, "GIL_FREE", frozenset())
    folder = tmp_path / "jpegls"
    folder.mkdir()
    for path in sorted((shared_data / "ct-chest-30").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
        ds.save_as(folder / path.name)
    reference = load_series(shared_data / "ct-chest-30")
    volume = load_series(folder, background=background)
    assert volume.slices_loaded >= 1  # first slice first
    assert volume.voxels[15].any()  # the middle slice, shown first
    volume.wait(timeout=120)
    assert volume.is_complete
    assert volume.slices_loaded == 30
    assert volume.warnings == []
    assert np.array_equal(volume.voxels, reference.voxels)


def test_compressed_background_load_can_be_cancelled(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jpegls"
    folder.mkdir()
    for path in sorted((shared_data / "ct-wholebody-269").glob("*.dcm"))[:80]:
        ds = pydicom.dcmread(path)
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
        ds.save_as(folder / path.name)
    volume = load_series(folder, background=True)
    volume.cancel()
    volume.wait(timeout=120)
    assert volume.is_complete
    assert volume.is_cancelled
    assert 1 <= volume.slices_loaded < 80


def _bare(ds: pydicom.Dataset, implicit: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, implicit
    write_dataset(buffer, ds)
    return buffer.getvalue()


@pytest.mark.parametrize("implicit", [True, False])
def test_dataset_without_preamble_loads_with_a_warning(
    shared_data: Path, tmp_path: Path, implicit: bool
) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    originals = sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:3]
    for path in originals:
        (folder / path.name).write_bytes(_bare(pydicom.dcmread(path), implicit))
    report = scan(folder)
    assert len(report.series) == 1
    assert report.problems == []
    assert len(report.warnings) == 3
    assert all("no 128-byte preamble" in w and str(folder) in w for w in report.warnings)
    volume = load_series(report.series[0])
    assert any("1-01.dcm" in w and "preamble" in w for w in volume.warnings)
    reference = load_series(shared_data / "ct-chest-30").voxels
    assert volume.voxels.shape[0] == 3
    assert any(np.array_equal(volume.voxels[0], s) for s in reference)


def test_bytes_that_only_start_like_group_0008_are_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-01.dcm")
    data = _bare(ds, implicit=True)
    assert looks_like_raw_dataset(data[:4096])
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x08\x00\x05\x00" + bytes(range(256)) * 8)  # (0008,0005), binary "text"
    unknown = tmp_path / "unknown.dcm"
    unknown.write_bytes(b"\x08\x00\x77\x77\x04\x00\x00\x00ABCD" + data[:2000])  # no such tag
    patient_first = tmp_path / "patient.dcm"  # a dataset that starts at group 0010
    del ds[0x00080000:0x00100000]
    patient_first.write_bytes(_bare(ds, implicit=True))
    for path in (junk, unknown, patient_first):
        result = read_header(str(path), str(path))
        assert not isinstance(result, FileHeader), path
        assert "not a DICOM file" in str(result)
        assert path.name in str(result)


def test_explicit_dataset_with_new_uids_is_one_series(shared_data: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-02.dcm")
    ds.SOPInstanceUID = generate_uid()
    path = tmp_path / "one.dcm"
    path.write_bytes(_bare(ds, implicit=False))
    header = read_header(str(path), str(path))
    assert isinstance(header, FileHeader)
    assert header.note is not None
    assert "preamble" in header.note


@pytest.mark.parametrize("bits", [8, 16])
def test_strict_rle_decoder_matches_the_source(
    shared_data: Path, tmp_path: Path, bits: int
) -> None:
    ds = pydicom.dcmread(shared_data / "mr-brain-24" / "1-05.dcm")
    if bits == 8:
        ds.PixelData = (ds.pixel_array >> 4).astype(np.uint8).tobytes()
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    expected = ds.pixel_array.copy()
    ds.compress(RLELossless, encoding_plugin="pydicom")
    ds.save_as(tmp_path / "rle.dcm")
    assert plugins_for(RLELossless)[0] == RLE
    volume = load_series(tmp_path / "rle.dcm")
    assert volume.warnings == []
    assert np.array_equal(volume.voxels[0], expected)


def test_jpeg_baseline_8_bit_matches_gdcm(shared_data: Path, tmp_path: Path, dcmcjpeg: str) -> None:
    source = shared_data / "ct-wholebody-269" / SLICES[0]
    ds = pydicom.dcmread(source)
    ds.PixelData = (
        np.clip((ds.pixel_array.astype(np.int32) - 824) * 255 // 400, 0, 255)
        .astype(np.uint8)
        .tobytes()
    )
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.save_as(tmp_path / "8bit.dcm")
    subprocess.run(
        [dcmcjpeg, "--encode-baseline", str(tmp_path / "8bit.dcm"), str(tmp_path / "baseline.dcm")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    volume = load_series(tmp_path / "baseline.dcm")
    assert volume.warnings == []
    gdcm_hu = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "baseline.dcm")))
    assert np.array_equal(volume.voxels, gdcm_hu)  # Pillow (libjpeg-turbo) and GDCM agree


def test_compressed_series_loads_when_worker_processes_cannot_start(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.dicom import workers

    def refuse(method: str | None = None) -> None:
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(workers, "_pool", None)
    monkeypatch.setattr(workers, "_broken", False)
    monkeypatch.setattr(workers.multiprocessing, "get_context", refuse)
    monkeypatch.setattr(storage.dicom.decoders, "GIL_FREE", frozenset())
    folder = tmp_path / "jpegls"
    folder.mkdir()
    for path in sorted((shared_data / "ct-chest-30").glob("*.dcm"))[:20]:
        ds = pydicom.dcmread(path)
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
        ds.save_as(folder / path.name)
    volume = load_series(folder)
    assert workers.pool() is None
    assert volume.warnings == []
    assert volume.slices_loaded == 20
    assert volume.voxels.any(axis=(1, 2)).all()


def test_retired_jpeg_progressive_opens_through_gdcm(
    shared_data: Path, tmp_path: Path, dcmcjpeg: str
) -> None:
    """pydicom has no decoder for JPEG Full Progression (1.2.840.10008.1.2.4.55); GDCM has."""
    folder = tmp_path / "progressive"
    folder.mkdir()
    for name in SLICES[:3]:
        subprocess.run(
            [
                dcmcjpeg,
                "--encode-progressive",
                str(shared_data / "ct-wholebody-269" / name),
                str(folder / name),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    ts = pydicom.dcmread(folder / SLICES[0], stop_before_pixels=True).file_meta.TransferSyntaxUID
    assert ts == "1.2.840.10008.1.2.4.55"
    volume = load_series(folder)
    assert volume.warnings == []
    for k, name in enumerate(_by_position(folder, SLICES[:3])):
        gdcm_hu = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / name)))[0]
        assert np.array_equal(volume.voxels[k], gdcm_hu)
