"""Discovery on the real data: folders, DICOMDIR, zip, single files, the header cache."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from storage.dicom import DicomLoadError, SeriesInfo, load_series, scan
from storage.dicom.index import HeaderIndex
from storage.paths import cache_dir


@pytest.mark.parametrize(
    ("name", "modality", "n_images", "rows", "columns"),
    [
        ("ct-wholebody-269", "CT", 269, 512, 512),
        ("ct-chest-30", "CT", 30, 512, 512),
        ("mr-brain-24", "MR", 24, 320, 260),
        ("ct-head-tilt-ge", "CT", 28, 512, 512),
    ],
)
def test_folder_of_one_series(
    shared_data: Path, name: str, modality: str, n_images: int, rows: int, columns: int
) -> None:
    report = scan(shared_data / name)
    assert report.problems == []
    assert len(report.series) == 1
    info = report.series[0]
    assert (info.modality, info.n_images, info.rows, info.columns) == (
        modality,
        n_images,
        rows,
        columns,
    )
    assert len(info.files) == n_images
    assert (
        info.series_instance_uid
        == pydicom.dcmread(info.files[0], stop_before_pixels=True).SeriesInstanceUID
    )


def test_non_image_objects_are_reported_not_grouped(shared_data: Path) -> None:
    report = scan(shared_data / "dcmqi")
    messages = {Path(p.path).name: p.message for p in report.problems}
    assert "Segmentation Storage" in messages["liver.dcm"]
    assert "SR" in messages["sr.dcm"]
    assert "not a DICOM file" in messages["liver_seg.nrrd"]
    modalities = {s.modality for s in report.series}
    assert modalities == {"CT", "MR"}
    assert all(s.modality not in ("SEG", "SR") for s in report.series)


def test_enhanced_multiframe_counts_frames(shared_data: Path) -> None:
    report = scan(shared_data / "enhanced-mr")
    by_files = {len(s.files): s for s in report.series}
    assert by_files[1].n_images == 64  # Philips: one file, 64 frames
    assert by_files[4].n_images == 24  # Siemens XA10: four files of 6 frames


def test_single_file(shared_data: Path) -> None:
    report = scan(shared_data / "ct-chest-30" / "1-05.dcm")
    assert [s.n_images for s in report.series] == [1]


def test_missing_path_raises_with_name(tmp_path: Path) -> None:
    with pytest.raises(DicomLoadError, match="nowhere"):
        scan(tmp_path / "nowhere")


def _write_dicomdir(files: list[Path], dest: Path) -> None:
    """Build a CD-style file set (DICOMDIR + renamed copies), as media exports look."""
    fs = FileSet()
    for path in files:
        ds = pydicom.dcmread(path)
        for keyword, value in (
            ("StudyDate", "20000101"),
            ("StudyTime", "000000"),
            ("StudyID", "1"),
            ("PatientID", "anon"),
            ("SeriesNumber", 1),
        ):
            if not ds.get(keyword):
                setattr(ds, keyword, value)
        fs.add(ds)
    fs.write(dest)


def test_dicomdir(shared_data: Path, tmp_path: Path) -> None:
    _write_dicomdir(sorted((shared_data / "ct-head-tilt-ge").glob("*.dcm")), tmp_path / "cd")
    dicomdir = tmp_path / "cd" / "DICOMDIR"
    report = scan(dicomdir)
    assert report.problems == []
    assert [s.n_images for s in report.series] == [28]
    volume = load_series(dicomdir)
    reference = load_series(shared_data / "ct-head-tilt-ge")
    assert (volume.voxels == reference.voxels).all()
    assert volume.origin_lps_mm == reference.origin_lps_mm


def test_dicomdir_missing_file_is_reported(shared_data: Path, tmp_path: Path) -> None:
    _write_dicomdir(sorted((shared_data / "ct-chest-30").glob("1-0*.dcm")), tmp_path / "cd")
    victim = next(p for p in (tmp_path / "cd").rglob("*") if p.is_file() and p.name != "DICOMDIR")
    victim.unlink()
    report = scan(tmp_path / "cd" / "DICOMDIR")
    assert len(report.problems) == 1
    assert victim.name in report.problems[0].path
    assert "missing" in report.problems[0].message
    assert report.series[0].n_images == 8


def test_zip_is_read_in_memory(shared_data: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((shared_data / "ct-chest-30").glob("*.dcm")):
            zf.write(path, f"study/series/{path.name}")
    report = scan(archive)
    assert report.problems == []
    assert report.series[0].n_images == 30
    assert report.series[0].files[0].startswith(f"{archive}::study/series/")
    volume = load_series(archive)
    reference = load_series(shared_data / "ct-chest-30")
    assert (volume.voxels == reference.voxels).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]  # nothing extracted


def test_header_index_makes_rescans_read_nothing(shared_data: Path, copy_series) -> None:
    folder = copy_series("ct-chest-30")
    first = scan(folder)
    assert first.from_cache == 0
    index_files = list((cache_dir() / "dicom-index").glob("*.json"))
    assert len(index_files) == 1
    again = scan(folder)
    assert again.from_cache == 30
    assert [s.to_dict() for s in again.series] == [s.to_dict() for s in first.series]
    # A changed file is read again; the others come from the index.
    changed = folder / "1-07.dcm"
    ds = pydicom.dcmread(changed)
    ds.SeriesDescription = "edited"
    ds.save_as(changed)
    os.utime(changed, ns=(1, 1))
    third = scan(folder)
    assert third.from_cache == 29
    # Loading from cached headers gives the same volume as a cold load.
    assert load_series(third.series[0]).voxels.shape[0] == 30


def test_damaged_index_is_ignored(copy_series) -> None:
    folder = copy_series("mr-brain-24")
    scan(folder)
    index = HeaderIndex(folder)
    index.file.write_text("{not json")
    report = scan(folder)
    assert report.from_cache == 0
    assert report.series[0].n_images == 24
    assert json.loads(index.file.read_text())["entries"]


def test_series_info_without_headers_is_refused() -> None:
    info = SeriesInfo("1.2.3", "1.2", "p", "n", "", "CT", "", None, 1, 1, 1, ["x.dcm"])
    with pytest.raises(DicomLoadError, match="1.2.3"):
        load_series(info)
