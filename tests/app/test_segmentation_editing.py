"""app.segmentation.editing: brush strokes on a contour and the diameters of the edited mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.segmentation import SegmentationError, recist_diameters
from app.segmentation.editing import (
    EDIT_ALGORITHM,
    Box,
    changed_voxels,
    copy_box,
    cropped,
    distance_in_plane,
    edited_measurement,
    edited_provenance,
    footprint,
    in_plane,
    paint,
    stamp,
)

SPACING = (1.0, 1.0, 1.0)
SHAPE = (20, 40, 40)


def _empty() -> Box:
    return Box((0, 0, 0), np.zeros((0, 0, 0), dtype=bool))


def test_a_2d_stamp_adds_exactly_the_disc_on_its_slice() -> None:
    box = stamp(_empty(), (5, 10, 10), footprint(2.0, SPACING, sphere=False), SHAPE)
    full = box.full(SHAPE)
    k, r, c = np.nonzero(full)
    assert set(k.tolist()) == {5}
    expected = {
        (rr, cc) for rr in range(40) for cc in range(40) if (rr - 10) ** 2 + (cc - 10) ** 2 <= 4
    }
    assert set(zip(r.tolist(), c.tolist(), strict=True)) == expected
    assert len(expected) == 13


def test_a_3d_stamp_is_a_ball_that_reaches_the_neighbouring_slices() -> None:
    ball = stamp(_empty(), (5, 10, 10), footprint(2.0, SPACING, sphere=True), SHAPE).full(SHAPE)
    assert int(ball.sum()) == 33  # lattice points in a ball of radius 2
    assert sorted(set(np.nonzero(ball)[0].tolist())) == [3, 4, 5, 6, 7]
    # with 5 mm slices a 3 mm ball stays on its slice; a 6 mm one reaches one slice each side
    thick = (5.0, 1.0, 1.0)
    assert footprint(3.0, thick, sphere=True).shape[0] == 1
    assert footprint(6.0, thick, sphere=True).shape[0] == 3


def test_erase_removes_only_the_brush_and_never_grows_the_box() -> None:
    mask = np.ones((3, 10, 10), dtype=bool)
    box = copy_box((4, 5, 5), mask)
    after = stamp(box, (5, 9, 9), footprint(1.0, SPACING, sphere=False), SHAPE, erase=True)
    assert after.offset == (4, 5, 5)
    assert after.mask.shape == (3, 10, 10)
    assert int(after.mask.sum()) == 300 - 5  # the centre and its 4 neighbours
    assert not after.mask[1, 4, 4]
    assert after.mask[0, 4, 4]
    assert after.mask[2, 4, 4]
    assert mask.all()  # the original (a stored contour) is untouched
    away = stamp(after, (15, 30, 30), footprint(3.0, SPACING, sphere=True), SHAPE, erase=True)
    assert away is after


def test_painting_outside_the_box_grows_it_and_stays_inside_the_volume() -> None:
    box = copy_box((5, 5, 5), np.ones((1, 3, 3), dtype=bool))
    grown = stamp(box, (5, 0, 39), footprint(3.0, SPACING, sphere=False), SHAPE)
    assert grown.offset[1] == 0
    assert grown.offset[2] == 5
    assert grown.offset[2] + grown.mask.shape[2] == 40  # clipped at the volume's edge
    full = grown.full(SHAPE)
    assert full[5, 5:8, 5:8].all()  # the old voxels are kept
    assert full[5, 0, 39]
    assert full[5, 3, 39]
    assert not full[5, 4, 39]


def test_a_drag_paints_a_band_without_gaps() -> None:
    box = paint(_empty(), 3, [(10.0, 5.0), (10.0, 30.0)], 2.0, SPACING, SHAPE)
    full = box.full(SHAPE)
    assert full[3, 10, 5:31].all()
    assert full[3, 8, 5:31].all()
    assert full[3, 12, 5:31].all()
    assert not full[3, 13].any()
    assert not full[2].any()
    assert changed_voxels(_empty(), box) == (int(full.sum()), 0)


def _disc(radius_px: float, centre: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    r, c = np.ogrid[: shape[0], : shape[1]]
    return np.asarray((r - centre[0]) ** 2 + (c - centre[1]) ** 2 <= radius_px**2)


def test_diameters_of_an_edited_mask_equal_those_of_the_same_mask_built_directly() -> None:
    spacing = (5.0, 0.8, 0.8)
    shape = (4, 80, 80)
    # a 10-voxel-radius disc, then the brush adds a bump on its right and erases a bite
    start = np.zeros(shape, dtype=bool)
    start[1] = _disc(10, (40, 40), shape[1:])
    box = copy_box((0, 0, 0), start)
    box = paint(box, 1, [(40.0, 52.0)], 4.0, spacing, shape)
    box = paint(box, 1, [(30.0, 40.0)], 2.4, spacing, shape, erase=True)
    direct = np.zeros(shape, dtype=bool)
    direct[1] = (_disc(10, (40, 40), shape[1:]) | _disc(5, (40, 52), shape[1:])) & ~_disc(
        3, (30, 40), shape[1:]
    )
    assert np.array_equal(box.full(shape), direct)
    tight = cropped(box)
    assert tight is not None
    edited = recist_diameters(tight.mask, spacing)
    built = recist_diameters(direct, spacing)
    assert edited.long_axis_mm == pytest.approx(built.long_axis_mm)
    assert edited.short_axis_mm == pytest.approx(built.short_axis_mm)
    assert edited.slice_index + tight.offset[0] == built.slice_index == 1
    # the bump makes the long axis longer than the disc's 16 mm diameter
    assert edited.long_axis_mm > 16.0 * 1.1


@dataclass
class _Volume:
    voxels: np.ndarray
    spacing_mm: tuple[float, float, float]
    series_instance_uid: str = "1.2.3"


def test_edited_measurement_reports_diameters_volume_hu_and_provenance() -> None:
    spacing = (5.0, 0.8, 0.8)
    shape = (4, 80, 80)
    voxels = np.full(shape, 60, dtype=np.int16)
    disc = _disc(10, (40, 40), shape[1:])
    voxels[1][disc] = 20
    box = copy_box((1, 0, 0), disc[None])
    m = edited_measurement(
        _Volume(voxels, spacing),
        box,
        algorithm="caliper-lesion",
        algorithm_version="1.2",
        parameters={"smoothing_mm": 1.5},
        edit={"radius_mm": 3.0, "sphere": False},
    )
    direct = recist_diameters(disc[None], spacing)
    assert m.long_axis_mm == round(direct.long_axis_mm, 1)
    assert m.slice_index == 1
    assert m.volume_ml == pytest.approx(int(disc.sum()) * 5.0 * 0.64 / 1000.0)
    assert m.mean_hu == pytest.approx(20.0)
    assert m.sd_hu == pytest.approx(0.0)
    assert m.algorithm == EDIT_ALGORITHM
    assert m.parameters["source"]["algorithm"] == "caliper-lesion"
    assert m.parameters["edits"] == 1
    # a second edit keeps the original source and counts
    name, _, params = edited_provenance(
        m.algorithm, m.algorithm_version, m.parameters, {"radius_mm": 2.0}
    )
    assert name == EDIT_ALGORITHM
    assert params["source"]["algorithm"] == "caliper-lesion"
    assert params["edits"] == 2


def test_the_edited_volume_adds_the_voxels_painted_to_the_volume_before() -> None:
    spacing = (5.0, 0.8, 0.8)
    shape = (4, 80, 80)
    voxels = np.full(shape, 60, dtype=np.int16)
    disc = _disc(10, (40, 40), shape[1:])
    before = copy_box((1, 0, 0), disc[None])
    after = paint(copy_box((1, 0, 0), disc[None]), 1, [(40.0, 52.0)], 4.0, spacing, shape)
    added, removed = changed_voxels(before, after)
    assert added > 0
    assert removed == 0
    m = edited_measurement(
        _Volume(voxels, spacing),
        after,
        algorithm="a",
        algorithm_version="1",
        parameters={},
        edit={},
        before=before,
        before_volume_ml=2.0,  # the algorithm's partial-volume corrected volume
    )
    assert m.volume_ml == pytest.approx(2.0 + added * 5.0 * 0.64 / 1000.0)


def test_an_erased_away_contour_is_refused() -> None:
    with pytest.raises(SegmentationError, match="empty"):
        edited_measurement(
            _Volume(np.zeros((2, 5, 5), dtype=np.int16), SPACING),
            copy_box((0, 0, 0), np.zeros((2, 5, 5), dtype=bool)),
            algorithm="a",
            algorithm_version="1",
            parameters={},
            edit={},
        )


CT_SPACING = (5.0, 0.7, 0.7)  # thick slices, fine pixels
CT_SHAPE = (20, 60, 60)


def test_a_2d_stroke_on_a_coronal_plane_paints_that_row_of_every_slice_round_in_mm() -> None:
    # coronal plane of row 30: points are (slice, column); a 5 mm disc spans 3 slices
    box = paint(_empty(), 30, [(10.0, 20.0)], 5.0, CT_SPACING, CT_SHAPE, axis=1)
    full = box.full(CT_SHAPE)
    k, r, c = np.nonzero(full)
    assert set(r.tolist()) == {30}  # one coronal plane of voxels
    assert sorted(set(k.tolist())) == [9, 10, 11]  # +-5 mm of 5 mm slices
    assert (c.min(), c.max()) == (20 - 7, 20 + 7)  # +-5 mm of 0.7 mm pixels
    for kk, cc in zip(k.tolist(), c.tolist(), strict=True):  # a disc in millimetres
        assert ((kk - 10) * 5.0) ** 2 + ((cc - 20) * 0.7) ** 2 <= 25.0 + 1e-9
    # sagittal plane of column 40: points are (slice, row)
    sag = paint(_empty(), 40, [(10.0, 25.0), (10.0, 35.0)], 2.0, CT_SPACING, CT_SHAPE, axis=2)
    k, r, c = np.nonzero(sag.full(CT_SHAPE))
    assert set(c.tolist()) == {40}
    assert set(k.tolist()) == {10}
    assert set(range(25, 36)) <= set(r.tolist())  # the drag left no gap


def test_a_3d_stroke_on_a_coronal_plane_is_a_ball_in_mm_across_rows() -> None:
    box = paint(_empty(), 30, [(10.0, 20.0)], 5.0, CT_SPACING, CT_SHAPE, sphere=True, axis=1)
    full = box.full(CT_SHAPE)
    ball = stamp(_empty(), (10, 30, 20), footprint(5.0, CT_SPACING, sphere=True), CT_SHAPE).full(
        CT_SHAPE
    )
    assert np.array_equal(full, ball)  # the same ball as an axial 3-D stroke at that voxel
    assert sorted(set(np.nonzero(full)[1].tolist())) == list(range(30 - 7, 30 + 8))


def test_distance_in_plane_and_in_plane_components() -> None:
    box = copy_box((8, 28, 18), np.ones((3, 3, 3), dtype=bool))  # slices 8-10, rows/cols 28-30
    assert in_plane((9.0, 29.0, 40.0), 1) == (9.0, 40.0)
    assert in_plane((9.0, 29.0, 40.0), 2) == (9.0, 29.0)
    # coronal plane of row 29: nearest voxel (slice 10, column 20) from (slice 12, column 20)
    assert distance_in_plane(box, 1, 29, (12.0, 20.0), CT_SPACING) == pytest.approx(10.0)
    assert distance_in_plane(box, 1, 31, (9.0, 19.0), CT_SPACING) is None  # row 31: not crossed
    assert distance_in_plane(box, 2, 19, (9.0, 35.0), CT_SPACING) == pytest.approx(5 * 0.7)
    with pytest.raises(ValueError, match="axis"):
        footprint(2.0, CT_SPACING, sphere=False, axis=3)
