"""Header reading: the lean walker agrees with pydicom on every real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.dicom import FileProblem, load_series
from storage.dicom import headers as headers_module
from storage.dicom.fastheader import read_fast
from storage.dicom.headers import read_header
from storage.dicom.records import FileHeader
from storage.dicom.sources import is_safe_member

DATA_FOLDERS = [
    "ct-wholebody-269",
    "ct-chest-30",
    "mr-brain-24",
    "ct-head-tilt-ge",
    "transfer-syntaxes",
    "enhanced-mr",
    "dcmqi",
    "highdicom",
    "tid1500-sr",
]


def _all_files(shared_data: Path) -> list[Path]:
    files: list[Path] = []
    for folder in DATA_FOLDERS:
        found = sorted(p for p in (shared_data / folder).rglob("*") if p.is_file())
        # every file of the small folders; a sample of the large series
        files.extend(found if len(found) < 60 else found[::25])
    return files


def test_fast_walker_and_pydicom_give_the_same_header(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _all_files(shared_data)
    fast = {p: read_header(str(p), str(p)) for p in files}
    monkeypatch.setattr(headers_module, "read_fast", lambda *_args: None)
    slow = {p: read_header(str(p), str(p)) for p in files}
    used_fast = 0
    for path in files:
        assert type(fast[path]) is type(slow[path]), path
        assert fast[path] == slow[path], path
        if isinstance(fast[path], FileHeader) and read_fast(str(path), path.stat().st_size):
            used_fast += 1
    assert used_fast >= 20  # the walker really served the classic CT and MR files


def test_header_records_pixel_offset_of_native_data(shared_data: Path) -> None:
    path = shared_data / "ct-wholebody-269" / "1-001.dcm"
    header = read_header(str(path), str(path))
    assert isinstance(header, FileHeader)
    assert header.pixel_length == 512 * 512 * 2
    assert header.pixel_offset == path.stat().st_size - header.pixel_length
    assert header.frames[0].intercept == -1024.0
    assert header.frames[0].position == (-249.51171875, -465.51171875, -798.0)


def test_compressed_header_has_no_offset(shared_data: Path) -> None:
    path = shared_data / "transfer-syntaxes" / "9.dcm"
    header = read_header(str(path), str(path))
    assert isinstance(header, FileHeader)
    assert header.pixel_offset is None
    assert header.transfer_syntax == "1.2.840.10008.1.2.4.90"


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    result = read_header(str(tmp_path / "gone.dcm"), str(tmp_path / "gone.dcm"))
    assert isinstance(result, FileProblem)
    assert "gone.dcm" in str(result)
    assert "cannot be opened" in result.message


def test_raw_dataset_without_preamble_is_accepted(shared_data: Path, tmp_path: Path) -> None:
    import pydicom
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-01.dcm")
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, ds)  # an old ACR-NEMA style file: no preamble, no meta header
    raw = tmp_path / "raw.dcm"
    raw.write_bytes(buffer.getvalue())
    data = raw.read_bytes()
    assert data[128:132] != b"DICM"
    result = read_header(str(raw), str(raw))
    assert isinstance(result, FileHeader), result
    assert result.rows == 512
    volume = load_series(raw)
    assert (volume.voxels[0] == ds.pixel_array.astype("int32") - 1024).all()


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("a/b/c.dcm", True),
        ("c.dcm", True),
        ("../c.dcm", False),
        ("a/../../c.dcm", False),
        ("/etc/passwd", False),
        ("C:/x.dcm", False),
        ("a\\..\\c.dcm", False),
        ("", False),
    ],
)
def test_zip_member_names(name: str, safe: bool) -> None:
    assert is_safe_member(name) is safe


@pytest.mark.parametrize(
    ("charset", "name"),
    [
        ("ISO_IR 192", "Müller^Zoë"),
        ("ISO_IR 100", "Müller^Zoë"),
        ("GB18030", "王^小明"),
        ("", "Smith^John"),
    ],
)
def test_patient_names_in_their_character_set(
    shared_data: Path, tmp_path: Path, charset: str, name: str
) -> None:
    import pydicom

    ds = pydicom.dcmread(shared_data / "ct-chest-30" / "1-03.dcm")
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    ds.SeriesDescription = "Thorax\\Abdomen"
    path = tmp_path / "named.dcm"
    ds.save_as(path)
    header = read_header(str(path), str(path))
    assert isinstance(header, FileHeader)
    assert header.patient_name == name
    assert header.series_description == "Thorax\\Abdomen"
