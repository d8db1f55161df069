"""Follow-up seeding: a click near a lesion measured before starts inside it (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.segmentation import SegmentationError
from app.segmentation.follow_up import EarlierLesion, follow_up_seed


@dataclass
class _Volume:
    voxels: np.ndarray
    spacing_mm: tuple[float, float, float] = (5.0, 1.0, 1.0)

    def lps_to_index(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        return (z / 5.0, y, x)  # LPS x = column, y = row, z = slice * 5 mm


def _volume() -> _Volume:
    rng = np.random.default_rng(1)
    v = 60.0 + rng.normal(0, 10, (10, 100, 100))
    r, c = np.mgrid[0:100, 0:100]
    v[:, (r - 50) ** 2 + (c - 56) ** 2 <= 6**2] -= 50.0  # a 12 mm hypodense lesion, moved 6 mm
    return _Volume(v.astype(np.float32))


def test_a_click_beside_the_lesion_is_moved_into_it() -> None:
    earlier = EarlierLesion((50.0, 50.0, 25.0), 12.0, mean_hu=10.0)  # it was at column 50
    k, r, c = follow_up_seed(_volume(), (5, 50, 64), earlier)  # 8 mm right of its centre
    assert k == 5
    assert (r - 50) ** 2 + (c - 56) ** 2 <= 5**2


def test_a_click_far_from_where_the_lesion_was_is_refused() -> None:
    earlier = EarlierLesion((50.0, 50.0, 25.0), 12.0, mean_hu=10.0)
    with pytest.raises(SegmentationError, match="from where the selected lesion was"):
        follow_up_seed(_volume(), (5, 90, 95), earlier)


def test_without_the_earlier_mean_hu_the_seed_falls_back_towards_where_the_lesion_was() -> None:
    """A caliper drawn by hand has no contour: the click first, then towards its centre."""
    from app.segmentation.follow_up import follow_up_seeds

    earlier = EarlierLesion((56.0, 50.0, 25.0), 12.0)  # no mean HU: drawn by hand
    assert follow_up_seeds(_volume(), (5, 50, 64), earlier) == [(5, 50, 64), (5, 50, 58)]
    # (within reach, 6 mm, of the click; the lesion's centre is 8 mm away)
    assert follow_up_seeds(_volume(), (5, 50, 58), earlier) == [(5, 50, 58), (5, 50, 56)]
    assert follow_up_seeds(_volume(), (5, 50, 56), earlier) == [(5, 50, 56)]
    # with it: the best match first, then the click, then the next best places 3 mm apart
    with_hu = EarlierLesion((56.0, 50.0, 25.0), 12.0, mean_hu=10.0)
    seeds = follow_up_seeds(_volume(), (5, 50, 64), with_hu)
    assert seeds[0] == follow_up_seed(_volume(), (5, 50, 64), with_hu)
    assert seeds[1] == (5, 50, 64)
    assert len(seeds) == len(set(seeds)) <= 5
    rest = [s for s in seeds if s != (5, 50, 64)]
    assert all(
        np.hypot(a[1] - b[1], a[2] - b[2]) >= 3.0 for i, a in enumerate(rest) for b in rest[:i]
    )
