"""A corpus of broken inputs made from the real series at test time.

Every broken file gets a message that names it and says what is wrong, and
the other files of the folder still load.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless, SecondaryCaptureImageStorage, generate_uid

from storage.dicom import DicomLoadError, load_series, scan
from tests.storage.dicom.conftest import rewrite


def _problem_for(report, name: str) -> str:
    hits = [p for p in report.problems if Path(p.path.split("::")[-1]).name == name]
    assert len(hits) == 1, [str(p) for p in report.problems]
    return hits[0].message


def _still_loads(folder: Path, n_good: int) -> None:
    report = scan(folder)
    assert len(report.series) == 1
    volume = load_series(report.series[0])
    assert volume.voxels.shape[0] == n_good
    assert volume.voxels.any()


def test_truncated_pixel_data(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    data = (folder / "1-10.dcm").read_bytes()
    (folder / "1-10.dcm").write_bytes(data[: len(data) // 2])
    message = _problem_for(scan(folder), "1-10.dcm")
    assert message.startswith("truncated")
    _still_loads(folder, 29)


def test_truncated_inside_the_header(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    data = (folder / "1-11.dcm").read_bytes()
    (folder / "1-11.dcm").write_bytes(data[:700])
    message = _problem_for(scan(folder), "1-11.dcm")
    assert "truncated" in message or "no pixel data" in message
    _still_loads(folder, 29)


def test_zero_bytes(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    (folder / "1-12.dcm").write_bytes(b"")
    assert _problem_for(scan(folder), "1-12.dcm") == "empty file (0 bytes)"
    _still_loads(folder, 29)


def test_wrong_preamble(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    data = bytearray((folder / "1-13.dcm").read_bytes())
    data[128:132] = b"XXXX"
    (folder / "1-13.dcm").write_bytes(bytes(data))
    assert "not a DICOM file" in _problem_for(scan(folder), "1-13.dcm")
    _still_loads(folder, 29)


def test_text_and_random_bytes(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    (folder / "notes.txt").write_text("not an image")
    (folder / "noise.dcm").write_bytes(np.random.default_rng(1).bytes(5000))
    report = scan(folder)
    assert "not a DICOM file" in _problem_for(report, "notes.txt")
    assert _problem_for(report, "noise.dcm")
    _still_loads(folder, 30)


def test_missing_pixel_data(copy_series) -> None:
    folder = copy_series("ct-chest-30")

    def drop_pixels(ds: pydicom.Dataset) -> None:
        del ds.PixelData

    rewrite(folder / "1-14.dcm", drop_pixels)
    assert "no pixel data" in _problem_for(scan(folder), "1-14.dcm")
    _still_loads(folder, 29)


def test_absurd_declared_size_is_refused_before_allocating(copy_series) -> None:
    folder = copy_series("ct-chest-30")

    def huge(ds: pydicom.Dataset) -> None:
        ds.Rows = 65535
        ds.Columns = 65535

    rewrite(folder / "1-15.dcm", huge)
    message = _problem_for(scan(folder), "1-15.dcm")
    assert "65535x65535" in message
    assert "refused" in message
    _still_loads(folder, 29)


def test_mixed_series_in_one_folder(shared_data: Path, copy_series) -> None:
    folder = copy_series("ct-chest-30", dest="mixed")
    for path in (shared_data / "mr-brain-24").glob("*.dcm"):
        shutil.copyfile(path, folder / f"mr-{path.name}")
    report = scan(folder)
    assert sorted(s.n_images for s in report.series) == [24, 30]
    for info in report.series:
        assert load_series(info).voxels.shape[0] == info.n_images
    mr_uid = next(s.series_instance_uid for s in report.series if s.modality == "MR")
    assert load_series(folder, mr_uid).modality == "MR"
    largest = load_series(folder)
    assert largest.modality == "CT"
    assert any("2 series found" in w for w in largest.warnings)
    with pytest.raises(DicomLoadError, match="no image series 1.2.3"):
        load_series(folder, "1.2.3")


def test_secondary_capture_in_ct_folder(copy_series, tmp_path: Path) -> None:
    folder = copy_series("ct-chest-30")

    def to_secondary_capture(ds: pydicom.Dataset) -> None:
        ds.SOPClassUID = SecondaryCaptureImageStorage
        ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        ds.Modality = "OT"

    rewrite(
        folder / "1-01.dcm", to_secondary_capture, dest=folder / "screenshot.dcm", new_uids=True
    )
    assert "Secondary Capture" in _problem_for(scan(folder), "screenshot.dcm")
    _still_loads(folder, 30)


def test_zip_with_escaping_paths_is_never_extracted(shared_data: Path, tmp_path: Path) -> None:
    archive = tmp_path / "inner" / "evil.zip"
    archive.parent.mkdir()
    files = sorted((shared_data / "ct-chest-30").glob("*.dcm"))
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files[:-2]:
            zf.write(path, f"ok/{path.name}")
        zf.write(files[-2], "../escaped.dcm")
        zf.writestr("/abs/escaped2.dcm", files[-1].read_bytes())  # write() would strip the "/"
    report = scan(archive)
    escaped = [p for p in report.problems if "escape" in p.message]
    assert sorted(p.path.split("::")[1] for p in escaped) == ["../escaped.dcm", "/abs/escaped2.dcm"]
    assert report.series[0].n_images == 28
    assert load_series(archive).voxels.shape[0] == 28
    assert not (tmp_path / "escaped.dcm").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "inner"]


def test_damaged_zip_raises_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.dcm", b"x" * 1000)
    data = archive.read_bytes()
    archive.write_bytes(data[:-30])  # cut the central directory
    try:
        report = scan(archive)
    except DicomLoadError as exc:
        message = str(exc)
    else:
        assert report.series == []
        return
    assert "broken.zip" in message


def test_duplicate_and_missing_slices_are_warned_with_positions(copy_series) -> None:
    folder = copy_series("ct-chest-30")
    shutil.copyfile(folder / "1-05.dcm", folder / "copy-of-1-05.dcm")
    (folder / "1-20.dcm").unlink()
    volume = load_series(folder)
    assert volume.voxels.shape[0] == 29
    duplicate = next(w for w in volume.warnings if "duplicate" in w)
    assert "copy-of-1-05.dcm" in duplicate
    assert "a copy of" in duplicate
    missing = next(w for w in volume.warnings if "missing slice" in w)
    # 1-20 sat at z = 312 - 19 * 8 = 160 mm, between 152 and 168
    assert "between 152.00 and 168.00 mm" in missing
    assert volume.spacing_mm[0] == 8.0


def test_corrupt_compressed_slice_is_left_blank_and_named(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rle"
    folder.mkdir()
    series_uid = generate_uid()
    for path in sorted((shared_data / "ct-chest-30").glob("1-0[1-4].dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = series_uid
        ds.compress(RLELossless)
        ds.save_as(folder / path.name)
    data = bytearray((folder / "1-03.dcm").read_bytes())
    data[-4000:-8] = b"\xff" * (4000 - 8)
    (folder / "1-03.dcm").write_bytes(bytes(data))
    volume = load_series(folder)
    assert volume.voxels.shape[0] == 4
    bad = [w for w in volume.warnings if "could not be decoded" in w]
    assert len(bad) == 1
    assert "1-03.dcm" in bad[0]
    reference = load_series(shared_data / "ct-chest-30")
    # 1-01..1-04 sit at the top of the chest: slices 29..26 of the full series, reversed here
    blank = int(bad[0].split()[1])
    for k in range(4):
        if k == blank:
            assert (volume.voxels[k] == volume.voxels[k].min()).all()
        else:
            assert np.array_equal(volume.voxels[k], reference.voxels[26 + k])
    assert volume.is_complete


def test_folder_without_images_raises_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(DicomLoadError, match=r"no image series found.*readme\.txt"):
        load_series(tmp_path)


def test_values_beyond_int16_switch_to_float32(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "signed"
    folder.mkdir()
    for name in ("01.dcm", "02.dcm", "03.dcm"):
        shutil.copyfile(shared_data / "dcmqi" / "segmentations" / "ct-3slice" / name, folder / name)

    def extreme(ds: pydicom.Dataset) -> None:
        pixels = ds.pixel_array.copy()
        pixels[0, 0] = -32768  # with intercept -1024 this is below int16
        ds.PixelData = pixels.tobytes()

    rewrite(folder / "02.dcm", extreme)
    volume = load_series(folder)
    assert volume.voxels.dtype == np.float32
    assert volume.value_range()[0] == -32768 - 1024
    assert volume.is_complete
    assert not any("could not" in w for w in volume.warnings)


def test_random_header_damage_never_crashes(shared_data: Path, tmp_path: Path) -> None:
    source = (shared_data / "ct-chest-30" / "1-16.dcm").read_bytes()
    rng = np.random.default_rng(20261124)
    folder = tmp_path / "damaged"
    folder.mkdir()
    for i in range(60):
        data = bytearray(source)
        start = int(rng.integers(132, 3000))
        length = int(rng.integers(1, 40))
        data[start : start + length] = rng.bytes(length)
        if i % 3 == 0:
            data = data[: int(rng.integers(200, len(data)))]
        (folder / f"d{i:02d}.dcm").write_bytes(bytes(data))
    report = scan(folder)  # must not raise
    assert len(report.problems) + sum(len(s.files) for s in report.series) == 60
    for problem in report.problems:
        assert problem.path.startswith(str(folder))
        assert problem.message
    for info in report.series:
        try:
            volume = load_series(info)
        except DicomLoadError as exc:
            message = str(exc)
        else:
            assert volume.is_complete
            continue
        assert message


def test_volume_over_the_memory_limit_is_refused(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.dicom import loader

    monkeypatch.setattr(loader, "MAX_VOLUME_BYTES", 10 * 512 * 512 * 2)
    with pytest.raises(DicomLoadError, match=r"would need .* over the"):
        load_series(shared_data / "ct-chest-30")
