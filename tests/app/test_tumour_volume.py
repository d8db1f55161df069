"""The tumour volume of the liver volumetry is the lesions' own volume (issue 16).

The Smart caliper stores a lesion's volume partial-volume corrected (its blurred rim counted
by fraction); the volumetry counted the voxels of the lesion's contour instead, a smaller
figure (the demo's T1: 7.9 mL in its measurement, 5.0 mL of voxels), and its FLR used that.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.segmentation import volumetry
from app.segmentation.liver import (
    TUMOUR_FROM_BOTH,
    TUMOUR_FROM_LESION_VOLUMES,
    TUMOUR_FROM_VOXELS,
    TumourVolume,
)
from app.segmentation.resection import lesion_tumour_volume, touches, tumours_touching

SPACING = (1.0, 1.0, 1.0)  # 1 voxel = 0.001 mL


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """A 4 mL liver block, and the resection: its columns 0-9."""
    liver = np.ones((10, 20, 20), dtype=bool)
    resected = np.zeros_like(liver)
    resected[:, :, :10] = True
    return liver, resected


def test_each_lesion_counts_its_own_volume_split_as_its_voxels_are() -> None:
    _, resected = _grid()
    lesion = np.ones((2, 10, 10), dtype=bool)  # 200 voxels = 0.2 mL, 3/10 in the resection
    other = np.ones((1, 5, 4), dtype=bool)  # 20 voxels, all in the remnant
    got = lesion_tumour_volume(
        SPACING, resected, [((0, 0, 7), lesion, 0.3), ((5, 5, 12), other, 0.05)]
    )
    assert got.resected_ml == pytest.approx(0.3 * 0.3)
    assert got.remnant_ml == pytest.approx(0.3 * 0.7 + 0.05)
    assert got.basis == TUMOUR_FROM_LESION_VOLUMES


def test_a_lesion_without_its_own_volume_counts_its_voxels() -> None:
    _, resected = _grid()
    lesion = np.ones((2, 10, 10), dtype=bool)
    for missing in (None, math.nan, 0.0):
        got = lesion_tumour_volume(SPACING, resected, [((0, 0, 7), lesion, missing)])
        assert got.resected_ml == pytest.approx(0.06)  # 60 voxels
        assert got.remnant_ml == pytest.approx(0.14)
        assert got.basis == TUMOUR_FROM_VOXELS
    both = lesion_tumour_volume(
        SPACING, resected, [((0, 0, 7), lesion, None), ((5, 5, 12), lesion[:1, :5, :4], 0.05)]
    )
    assert both.basis == TUMOUR_FROM_BOTH
    # outside the grid: not counted
    assert lesion_tumour_volume(SPACING, resected, [((20, 0, 0), lesion, 0.3)]).remnant_ml == 0.0


def test_the_flr_subtracts_the_lesions_own_volume_not_their_voxels() -> None:
    liver, resected = _grid()
    lesion = np.ones((2, 10, 10), dtype=bool)
    offset = (0, 0, 7)
    tumours = tumours_touching(liver, [(offset, lesion)])
    own = lesion_tumour_volume(SPACING, resected, [(offset, lesion, 0.3)])
    v = volumetry(liver, SPACING, resected, tumours, tumour_volume=own)
    assert v.total_liver_ml == pytest.approx(4.0)  # voxels of the liver
    assert v.resected_ml == pytest.approx(2.0)  # voxels of the liver in the resection
    assert v.tumour_ml == pytest.approx(0.3)  # the lesion's own volume, not its 0.2 mL of voxels
    assert v.tumour_resected_ml == pytest.approx(0.09)
    assert v.tumour_remnant_ml == pytest.approx(0.21)
    assert v.remnant_ml == pytest.approx(2.0 - 0.21)
    assert v.flr_percent == pytest.approx((2.0 - 0.21) / (4.0 - 0.3) * 100)
    assert v.tumour_basis == TUMOUR_FROM_LESION_VOLUMES
    d = v.to_dict()
    assert d["tumour_ml"] == 0.3
    assert d["tumour_basis"] == TUMOUR_FROM_LESION_VOLUMES
    # by voxels (no own volume): the figures of before
    by_voxels = volumetry(liver, SPACING, resected, tumours)
    assert by_voxels.tumour_ml == pytest.approx(0.2)
    assert by_voxels.remnant_ml == pytest.approx(2.0 - 0.14)
    assert by_voxels.tumour_basis == TUMOUR_FROM_VOXELS


def test_a_side_s_tumour_is_at_most_the_liver_on_that_side() -> None:
    liver, resected = _grid()
    v = volumetry(liver, SPACING, resected, tumour_volume=TumourVolume(2.5, 0.5))
    assert v.tumour_resected_ml == pytest.approx(2.0)
    assert v.flr_percent == pytest.approx(1.5 / 1.5 * 100)


def test_touches_is_the_one_voxel_neighbourhood() -> None:
    liver = np.zeros((3, 10, 10), dtype=bool)
    liver[:, 2:6, 2:6] = True
    one = np.ones((1, 2, 2), dtype=bool)
    assert touches(liver, (1, 6, 3), one)  # beside the edge
    assert not touches(liver, (1, 7, 3), one)  # one voxel away
    assert not touches(liver, (5, 0, 0), one)  # outside the grid


def test_voxels_two_contours_share_count_once() -> None:
    """The same metastasis measured for two lesions (by mistake): not twice its volume."""
    _, resected = _grid()
    lesion = np.ones((2, 10, 10), dtype=bool)  # 200 voxels
    half = lesion[:, :, :5]  # 100 of them again, columns 7-11
    got = lesion_tumour_volume(
        SPACING, resected, [((0, 0, 7), lesion, 0.3), ((0, 0, 7), half, 0.2)]
    )
    assert got.resected_ml + got.remnant_ml == pytest.approx(0.3)
    partly = np.ones((2, 10, 4), dtype=bool)  # columns 15-18: half of it new (cols 17-18)
    got = lesion_tumour_volume(
        SPACING, resected, [((0, 0, 7), lesion, 0.3), ((0, 0, 15), partly, 0.1)]
    )
    assert got.remnant_ml == pytest.approx(0.3 * 0.7 + 0.1 * 0.5)
