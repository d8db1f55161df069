"""Slice ordering and geometry rules on synthetic headers (no files needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from storage.dicom.geometry import arrange
from storage.dicom.pixels import choose_dtype
from storage.dicom.records import FileHeader, FrameHeader
from storage.dicom.volume import Volume

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _image(
    z: float,
    number: int,
    *,
    rows: int = 4,
    orientation=AXIAL,
    x: float = 0.0,
    y: float = 0.0,
    position: bool = True,
    sop: str | None = None,
    bits_stored: int = 12,
    signed: int = 0,
    slope: float = 1.0,
    intercept: float = 0.0,
) -> tuple[FileHeader, FrameHeader]:
    frame = FrameHeader(
        0, (x, y, z) if position else None, orientation, (0.5, 0.7), slope, intercept, 2.0
    )
    head = FileHeader(
        path=f"f{number:03d}.dcm",
        file_path=f"f{number:03d}.dcm",
        member=None,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        sop_instance_uid=sop or f"1.2.{number}",
        series_instance_uid="1.2.3",
        study_instance_uid="1.2",
        patient_id="p",
        patient_name="n",
        study_date="20250101",
        modality="CT",
        series_description="",
        series_number=1,
        instance_number=number,
        rows=rows,
        columns=3,
        n_frames=1,
        bits_allocated=16,
        bits_stored=bits_stored,
        pixel_representation=signed,
        samples_per_pixel=1,
        photometric="MONOCHROME2",
        transfer_syntax="1.2.840.10008.1.2.1",
        pixel_keyword="PixelData",
        pixel_offset=0,
        pixel_length=rows * 3 * 2,
        window_center=None,
        window_width=None,
        spacing_between_slices=None,
        frames=(frame,),
    )
    return head, frame


def test_sorted_by_position_not_instance_number() -> None:
    images = [_image(z, n) for n, z in [(1, 10.0), (2, 0.0), (3, 5.0), (4, -5.0)]]
    layout = arrange(images)
    assert [img[0].instance_number for img in layout.images] == [4, 2, 3, 1]
    assert layout.spacing_mm == (5.0, 0.5, 0.7)
    assert layout.origin_lps_mm == (0.0, 0.0, -5.0)
    assert layout.warnings == []


def test_missing_slice_is_named_by_position() -> None:
    images = [_image(z, n) for n, z in enumerate([0.0, 2.5, 5.0, 10.0, 12.5])]
    layout = arrange(images)
    assert layout.spacing_mm[0] == 2.5
    (warning,) = layout.warnings
    assert "missing slice" in warning
    assert "between 5.00 and 10.00 mm" in warning


def test_uneven_spacing_is_reported_and_positions_are_exact() -> None:
    zs = [0.0, 1.0, 2.0, 3.5, 5.0, 6.0]
    layout = arrange([_image(z, n) for n, z in enumerate(zs)])
    assert any("uneven slice spacing from 1.00 to 1.50 mm" in w for w in layout.warnings)
    volume = _volume(layout)
    for k, z in enumerate(zs):
        assert volume.index_to_lps(k, 0, 0) == pytest.approx((0.0, 0.0, z))
    assert volume.index_to_lps(2.5, 0, 0)[2] == pytest.approx(2.75)
    assert volume.lps_to_index(0.0, 0.0, 2.75)[0] == pytest.approx(2.5)


def test_four_echoes_per_position_keep_the_first() -> None:
    images = [_image(float(z), 10 * echo + z) for echo in range(4) for z in range(3)]
    layout = arrange(images)
    assert [img[0].instance_number for img in layout.images] == [0, 1, 2]
    assert any("4 images at each of its 3 positions" in w for w in layout.warnings)


def test_images_of_another_size_are_left_out() -> None:
    images = [_image(float(z), z) for z in range(5)] + [_image(9.0, 99, rows=8)]
    layout = arrange(images)
    assert len(layout.images) == 5
    assert any("f099.dcm" in w and "left out" in w for w in layout.warnings)


def test_no_positions_falls_back_to_instance_order() -> None:
    images = [_image(0.0, n, position=False) for n in (3, 1, 2)]
    layout = arrange(images)
    assert [img[0].instance_number for img in layout.images] == [1, 2, 3]
    assert layout.spacing_mm[0] == 2.0  # slice thickness
    assert any("no ImagePositionPatient" in w for w in layout.warnings)


def test_tilt_gives_a_sheared_slice_axis() -> None:
    tilt = math.radians(20.0)
    orientation = (1.0, 0.0, 0.0, 0.0, math.cos(tilt), -math.sin(tilt))
    # the table moves along z while the image plane is tilted about x
    images = [_image(3.0 * k, k, orientation=orientation) for k in range(5)]
    layout = arrange(images)
    assert any("gantry tilt of 20.0 degrees" in w for w in layout.warnings)
    axis = np.array(layout.direction)[:, 2]
    assert axis == pytest.approx([0.0, 0.0, 1.0])
    assert layout.spacing_mm[0] == pytest.approx(3.0)
    volume = _volume(layout)
    for point in [(0, 0, 0), (2, 3, 1), (4.5, 1.5, 2.25)]:
        assert volume.lps_to_index(*volume.index_to_lps(*point)) == pytest.approx(point)


def test_degenerate_orientation_is_an_error() -> None:
    with pytest.raises(ValueError, match="ImageOrientationPatient"):
        arrange([_image(0.0, 1, orientation=(0.0,) * 6), _image(1.0, 2, orientation=(0.0,) * 6)])


@pytest.mark.parametrize(
    ("kwargs", "dtype", "checked"),
    [
        ({"bits_stored": 12, "intercept": -1024.0}, np.int16, False),
        ({"bits_stored": 16, "signed": 1, "intercept": -1024.0}, np.int16, True),
        ({"bits_stored": 16, "signed": 0}, np.int16, True),
        ({"bits_stored": 12, "slope": 0.5}, np.float32, False),
        ({"bits_stored": 12, "intercept": -0.5}, np.float32, False),
    ],
)
def test_output_type(kwargs: dict, dtype: type, checked: bool) -> None:
    assert choose_dtype([_image(0.0, 1, **kwargs)]) == (np.dtype(dtype), checked)


def _volume(layout) -> Volume:
    return Volume(
        np.zeros((len(layout.images), layout.rows, layout.columns), np.int16),
        layout.spacing_mm,
        layout.origin_lps_mm,
        layout.direction,
        layout.slice_positions,
        [h.sop_instance_uid for h, _ in layout.images],
        [1] * len(layout.images),
        {},
        layout.warnings,
    )
