"""Follow-up: find a lesion measured at an earlier timepoint again, from a click near it.

The earlier measurement's caliper gives the lesion's centre in patient LPS millimetres (the
middle of its long axis) and, when it was semi-automatic, its mean HU.  At follow-up the
reader selects that lesion and clicks near it: the seed is the voxel of the clicked slice
within reach of the click whose neighbourhood looks most like the lesion did (closest to its
mean HU, nearest to the mapped centre on ties), so a click on the lesion's edge or just
beside it still starts inside it.  No registration: the two scans are taken to share the
patient's coordinates (same table position convention), which is what "mapped by patient
position" means here; a lesion that moved more than the reach is not found, and the reader
clicks in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.segmentation.errors import SegmentationError

#: How many of the best-matching places a follow-up click tries (after the click itself).
FOLLOW_UP_TRIES = 4


@dataclass(frozen=True, slots=True)
class EarlierLesion:
    """What a follow-up proposal is seeded from: the lesion at an earlier timepoint."""

    centre_lps_mm: tuple[float, float, float]
    long_axis_mm: float
    mean_hu: float | None = None


def earlier_lesion(measurement: Any, mean_hu: float | None = None) -> EarlierLesion | None:
    """The centre (middle of the long axis, LPS mm) of a measurement with a drawn caliper."""
    geometry = getattr(measurement, "geometry", None)
    long_axis = getattr(geometry, "long_axis", None)
    if long_axis is None or not getattr(measurement, "long_axis_mm", None):
        return None
    a, b = long_axis.start_lps_mm, long_axis.end_lps_mm
    centre = tuple((float(x) + float(y)) / 2.0 for x, y in zip(a, b, strict=True))
    return EarlierLesion(
        (centre[0], centre[1], centre[2]), float(measurement.long_axis_mm), mean_hu
    )


def follow_up_seed(
    volume: Any,
    click: tuple[int, int, int],
    earlier: EarlierLesion,
    *,
    reach_mm: float | None = None,
) -> tuple[int, int, int]:
    """The seed for the lesion ``earlier`` at follow-up, from a click near it.

    Parameters
    ----------
    volume
        The follow-up series (``voxels``, ``spacing_mm``, ``lps_to_index``).
    click : tuple of int
        ``(slice, row, column)`` of the click.
    earlier : EarlierLesion
        The lesion as measured before.
    reach_mm : float, optional
        How far from the click the seed may move (default: half the earlier long axis, at
        least 5 mm).

    Raises
    ------
    SegmentationError
        The click is further than the earlier lesion's size plus 20 mm from where the lesion
        was (another lesion is selected, or the click is elsewhere).
    """
    spacing = tuple(float(s) for s in volume.spacing_mm)
    k, r, c = (float(v) for v in volume.lps_to_index(*earlier.centre_lps_mm))
    away = math.dist(
        (k * spacing[0], r * spacing[1], c * spacing[2]),
        (click[0] * spacing[0], click[1] * spacing[1], click[2] * spacing[2]),
    )
    allowed = earlier.long_axis_mm + 20.0
    if not math.isfinite(away) or away > allowed:
        raise SegmentationError(
            f"the click is {away:.0f} mm from where the selected lesion was "
            f"(more than {allowed:.0f} mm): click on that lesion, or choose another"
        )
    reach = reach_mm if reach_mm is not None else _default_reach_mm(earlier)
    if earlier.mean_hu is None:
        return click
    return _ranked(volume, click, earlier, reach, 1)[0]


def _default_reach_mm(earlier: EarlierLesion) -> float:
    """How far from the click a follow-up seed may move: half the earlier long axis, at
    least 5 mm."""
    return max(5.0, earlier.long_axis_mm / 2.0)


def _ranked(
    volume: Any,
    click: tuple[int, int, int],
    earlier: EarlierLesion,
    reach: float,
    count: int,
    apart_mm: float = 3.0,
) -> list[tuple[int, int, int]]:
    """Up to ``count`` seeds of the clicked slice within ``reach`` of the click, best first
    (:func:`follow_up_seed`'s cost), each at least ``apart_mm`` from the ones before."""
    target = earlier.mean_hu
    if target is None:
        return [click]
    spacing = tuple(float(s) for s in volume.spacing_mm)
    _, r, c = (float(v) for v in volume.lps_to_index(*earlier.centre_lps_mm))
    voxels = volume.voxels
    kk, rr, cc = click
    hr = max(1, int(round(reach / spacing[1])))
    hc = max(1, int(round(reach / spacing[2])))
    r0, c0 = max(rr - hr, 0), max(cc - hc, 0)
    patch = np.asarray(voxels[kk, r0 : rr + hr + 1, c0 : cc + hc + 1], dtype=np.float32)
    # 5x5 box mean: the neighbourhood's value, not one noisy voxel
    pad = np.pad(patch, 2, mode="edge")
    cs = pad.cumsum(0).cumsum(1)
    cs = np.pad(cs, ((1, 0), (1, 0)))
    mean = (cs[5:, 5:] - cs[:-5, 5:] - cs[5:, :-5] + cs[:-5, :-5]) / 25.0
    rows, cols = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]]
    d_click = np.hypot((rows + r0 - rr) * spacing[1], (cols + c0 - cc) * spacing[2])
    d_centre = np.hypot((rows + r0 - r) * spacing[1], (cols + c0 - c) * spacing[2])
    cost = np.abs(mean - target) + 0.5 * d_centre  # 0.5 HU per mm towards the centre
    cost[d_click > reach] = np.inf
    found: list[tuple[int, int, int]] = []
    while len(found) < count and np.isfinite(cost).any():
        i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
        found.append((kk, int(i) + r0, int(j) + c0))
        near = np.hypot((rows - i) * spacing[1], (cols - j) * spacing[2]) < apart_mm
        cost[near] = np.inf
    return found or [click]


def follow_up_seeds(
    volume: Any,
    click: tuple[int, int, int],
    earlier: EarlierLesion,
) -> list[tuple[int, int, int]]:
    """The seeds to try, in order, for the lesion ``earlier`` at follow-up.

    With the earlier contour's mean HU: :func:`follow_up_seed`, then the click, then the next
    best places of its cost (3 mm apart, :data:`FOLLOW_UP_TRIES` in all): the best match
    can be the lesion's rim, whose 5x5 mean lies between a lesion darker than before and
    the liver (the demo's T1 at C3, seeded at its rim: "no edge around the point").  Without it (the
    earlier caliper was drawn by hand, as every caliper before the Smart caliper, or read
    from an SR or a case file): the click, then the voxel of the clicked slice within reach
    of the click that is nearest to where the lesion was, so that a click just beside the
    lesion still finds it.  (Before, a click beside the demo's T1 at C3, 10 mm below the
    middle of its baseline caliper, was refused: "no lesion edge found".)

    Raises
    ------
    SegmentationError
        As :func:`follow_up_seed`.
    """
    first = follow_up_seed(volume, click, earlier)
    if earlier.mean_hu is not None:
        # the best match can be the lesion's rim (a 5x5 mean between a darker lesion and the
        # liver equals the earlier mean): the click, then the next best places, 3 mm apart
        reach = _default_reach_mm(earlier)
        ranked = _ranked(volume, click, earlier, reach, FOLLOW_UP_TRIES)
        return list(dict.fromkeys([first, click, *ranked]))[: FOLLOW_UP_TRIES + 1]
    spacing = tuple(float(s) for s in volume.spacing_mm)
    _, r, c = (float(v) for v in volume.lps_to_index(*earlier.centre_lps_mm))
    kk, rr, cc = click
    dr, dc = (r - rr) * spacing[1], (c - cc) * spacing[2]
    away = math.hypot(dr, dc)
    reach = _default_reach_mm(earlier)
    t = 1.0 if away <= reach else reach / away
    shape = np.shape(volume.voxels)
    row = min(max(int(round(rr + t * dr / spacing[1])), 0), int(shape[1]) - 1)
    col = min(max(int(round(cc + t * dc / spacing[2])), 0), int(shape[2]) - 1)
    towards = (kk, row, col)
    return [first] if towards == first else [first, towards]
