"""What the main window asks the image view to draw: one measurement each.

Also the conversion between caliper end points (display pixels of an axial
slice) and :class:`recist.model.DrawnGeometry` (pixels + LPS millimetres).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from recist.model import DrawnGeometry, Segment
from viewer.image.volume import frame_of

Point2 = tuple[float, float]

_TRAILING_LENGTH = re.compile(r"\s*[-+]?\d+(?:\.\d+)?\s*mm\s*$")


@dataclass(frozen=True, slots=True)
class MeasurementOverlay:
    """A stored measurement to draw on the image.

    Parameters
    ----------
    measurement_id : int
        Sent back in ``measurement_edited`` and ``delete_requested``.
    label : str
        Shown beside the caliper, e.g. ``"T1 23.4 mm"``; a trailing length is
        replaced by the live length while the reader edits the caliper.
    geometry : DrawnGeometry
        Where it was drawn; shown on the slice holding its image
        (:func:`viewer.image.volume.slice_of`), not at ``geometry.slice_index``.
    selected : bool
        Drawn highlighted; the Delete key then requests its deletion.
    """

    measurement_id: int
    label: str
    geometry: DrawnGeometry
    selected: bool = False

    @property
    def caption(self) -> str:
        """The label without its trailing length (``"T1 23.4 mm"`` -> ``"T1"``)."""
        return _TRAILING_LENGTH.sub("", self.label).strip()


def make_segment(volume: Any, slice_index: int, start_px: Point2, end_px: Point2) -> Segment:
    """Build a :class:`Segment` on an axial slice from ``(column, row)`` pixel points.

    Parameters
    ----------
    volume : VolumeLike
        Provides ``index_to_lps(slice, row, column)``.
    slice_index : int
        The axial slice.
    start_px, end_px : tuple of float
        ``(column, row)`` continuous pixel indices (voxel centres at integers).

    Returns
    -------
    Segment
        Pixels and LPS millimetres of both end points.
    """
    start = (float(start_px[0]), float(start_px[1]))
    end = (float(end_px[0]), float(end_px[1]))
    sx, sy, sz = volume.index_to_lps(slice_index, start[1], start[0])
    ex, ey, ez = volume.index_to_lps(slice_index, end[1], end[0])
    start_lps = (float(sx), float(sy), float(sz))
    end_lps = (float(ex), float(ey), float(ez))
    return Segment(start_px=start, end_px=end, start_lps_mm=start_lps, end_lps_mm=end_lps)


def make_geometry(
    volume: Any,
    slice_index: int,
    long_px: Sequence[Point2],
    short_px: Sequence[Point2] | None = None,
) -> DrawnGeometry:
    """Build the :class:`DrawnGeometry` of a caliper drawn on an axial slice.

    Parameters
    ----------
    volume : VolumeLike
        The displayed volume.
    slice_index : int
        The axial slice drawn on.
    long_px : sequence of two points
        Long axis end points, ``(column, row)`` pixels.
    short_px : sequence of two points, optional
        Short axis end points, for a bidirectional measurement.

    Returns
    -------
    DrawnGeometry
    """
    uids = list(getattr(volume, "sop_instance_uids", []) or [])
    sop_uid = uids[slice_index] if 0 <= slice_index < len(uids) else ""
    short = None
    if short_px is not None:
        short = make_segment(volume, slice_index, short_px[0], short_px[1])
    return DrawnGeometry(
        series_instance_uid=volume.series_instance_uid,
        sop_instance_uid=sop_uid,
        slice_index=slice_index,
        long_axis=make_segment(volume, slice_index, long_px[0], long_px[1]),
        short_axis=short,
        frame_number=frame_of(volume, slice_index),
    )


def _segments_close(a: Segment | None, b: Segment | None, tol_px: float) -> bool:
    if a is None or b is None:
        return a is b
    return all(
        math.dist(p, q) <= tol_px for p, q in ((a.start_px, b.start_px), (a.end_px, b.end_px))
    )


def same_geometry(a: DrawnGeometry, b: DrawnGeometry, tol_px: float = 1e-3) -> bool:
    """True when *a* and *b* are on the same image and have the same end points (within *tol_px*).

    The image is the SOP instance and frame; the slice index depends on which
    files of the series were loaded and is not compared.
    """
    return (
        (a.sop_instance_uid, a.frame_number) == (b.sop_instance_uid, b.frame_number)
        and _segments_close(a.long_axis, b.long_axis, tol_px)
        and _segments_close(a.short_axis, b.short_axis, tol_px)
    )
