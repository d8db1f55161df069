"""Editing a contour with a brush: stamping, erasing and measuring the edited mask (issue 16).

A contour is a boolean mask in a box of the series' voxel grid: ``offset`` is the index
``(slice, row, column)`` of the box's first voxel (as ``storage.db.segmentations.MaskBox`` and
``app.segmentation.RegionResult`` hold it).  The brush is a disc of ``radius_mm`` on the plane
painted (2-D) or a ball of that radius in millimetres (3-D: it reaches the neighbouring
planes within the radius).  The plane is an axial slice, or a coronal (one row of every
slice) or sagittal (one column) reformat: ``axis`` 0, 1 or 2 is the voxel axis normal to it.
The disc is round in millimetres whatever the spacing: on a coronal plane of 5 mm slices
and 0.7 mm pixels a 5 mm brush spans three slices and 15 columns.  Painting grows the box
as needed (never beyond the volume); erasing only removes.  Pure numpy on masks: nothing
is stored or drawn here.

The edited mask of a lesion is measured as the Smart caliper's proposal is
(:func:`app.segmentation.measurement_from_region`): the longest axial diameter on the slice
where it is longest, its longest perpendicular, the mean and SD of HU, and the volume, which
for a drawn border is the voxel count times the voxel volume (the algorithm's partial-volume
correction belongs to the border it found, not to one the reader drew): when the contour
before the edit has a volume of its own (the algorithm's partial-volume corrected one), the
edited volume is that volume plus the voxels added minus those removed, so a stroke that adds
never makes the lesion smaller.  Its provenance says that it was edited by hand and from
what (:func:`edited_provenance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Algorithm name and version of a contour edited with the brush.
EDIT_ALGORITHM = "manual edit"
EDIT_ALGORITHM_VERSION = "1"
#: Brush radius limits in millimetres.
MIN_RADIUS_MM, MAX_RADIUS_MM = 0.5, 50.0

Index3 = tuple[int, int, int]
Point2 = tuple[float, float]  # (row, column), continuous voxel index on an axial slice


@dataclass(frozen=True)
class Box:
    """A boolean mask in a box of the volume: ``offset`` ``(slice, row, column)`` and ``mask``."""

    offset: Index3
    mask: np.ndarray

    @property
    def voxel_count(self) -> int:
        """Voxels inside."""
        return int(np.count_nonzero(self.mask))

    def full(self, shape: tuple[int, int, int]) -> np.ndarray:
        """The mask on the whole grid of ``shape`` (parts outside it are dropped)."""
        out = np.zeros(shape, dtype=bool)
        lo = [max(o, 0) for o in self.offset]
        hi = [min(o + n, s) for o, n, s in zip(self.offset, self.mask.shape, shape, strict=True)]
        if all(h > low for low, h in zip(lo, hi, strict=True)):
            dst = tuple(slice(low, h) for low, h in zip(lo, hi, strict=True))
            src = tuple(
                slice(low - o, h - o) for low, h, o in zip(lo, hi, self.offset, strict=True)
            )
            out[dst] = self.mask[src]
        return out


#: Voxel axis ``(slice, row, column)`` normal to each plane.
PLANE_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}


def footprint(
    radius_mm: float, spacing_mm: tuple[float, float, float], *, sphere: bool, axis: int = 0
) -> np.ndarray:
    """The brush: boolean ``(2a+1, 2b+1, 2c+1)`` of the voxels within ``radius_mm`` of the centre.

    ``sphere`` False gives one voxel thick along ``axis`` (0: ``a`` = 0, the disc on the axial
    plane; 1 coronal, 2 sagittal).  The centre voxel is always in it, however small the radius.
    """
    if axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2 (slice, row, column), got {axis!r}")
    radius = float(min(max(radius_mm, MIN_RADIUS_MM), MAX_RADIUS_MM))
    half = [int(math.floor(radius / float(s) + 1e-9)) for s in spacing_mm]
    if not sphere:
        half[axis] = 0
    k, r, c = np.ogrid[-half[0] : half[0] + 1, -half[1] : half[1] + 1, -half[2] : half[2] + 1]
    d2 = (
        (k * float(spacing_mm[0])) ** 2
        + (r * float(spacing_mm[1])) ** 2
        + (c * float(spacing_mm[2])) ** 2
    )
    out: np.ndarray = d2 <= radius * radius + 1e-9
    return out


def _grown(box: Box, lo: Sequence[int], hi: Sequence[int]) -> Box:
    """``box`` enlarged to hold the voxels ``lo`` to ``hi`` (exclusive)."""
    end = [o + n for o, n in zip(box.offset, box.mask.shape, strict=True)]
    if box.mask.size == 0:
        new_lo, new_hi = list(lo), list(hi)
    else:
        new_lo = [min(a, b) for a, b in zip(box.offset, lo, strict=True)]
        new_hi = [max(a, b) for a, b in zip(end, hi, strict=True)]
    if new_lo == list(box.offset) and new_hi == end:
        return box
    mask = np.zeros([h - low for low, h in zip(new_lo, new_hi, strict=True)], dtype=bool)
    if box.mask.size:
        at = tuple(
            slice(o - low, o - low + n)
            for o, low, n in zip(box.offset, new_lo, box.mask.shape, strict=True)
        )
        mask[at] = box.mask
    return Box((new_lo[0], new_lo[1], new_lo[2]), mask)


def stamp(
    box: Box,
    centre: Index3,
    brush: np.ndarray,
    shape: tuple[int, int, int],
    *,
    erase: bool = False,
) -> Box:
    """Paint (or erase) the brush centred on voxel ``centre`` into ``box``.

    Parameters
    ----------
    box : Box
        The contour; painted in place when the brush falls inside its box, else a larger box
        is returned (the mask is copied into it).
    centre : tuple of int
        ``(slice, row, column)`` in the volume.
    brush : numpy.ndarray
        From :func:`footprint` (odd sizes).
    shape : tuple of int
        The volume's shape: nothing is painted outside it.
    erase : bool
        Remove the brush's voxels instead of adding them.
    """
    half = [n // 2 for n in brush.shape]
    lo = [max(c - h, 0) for c, h in zip(centre, half, strict=True)]
    hi = [min(c + h + 1, s) for c, h, s in zip(centre, half, shape, strict=True)]
    if any(h <= low for low, h in zip(lo, hi, strict=True)):
        return box  # the brush is outside the volume
    if erase:
        end = [o + n for o, n in zip(box.offset, box.mask.shape, strict=True)]
        lo = [max(a, b) for a, b in zip(lo, box.offset, strict=True)]
        hi = [min(a, b) for a, b in zip(hi, end, strict=True)]
        if any(h <= low for low, h in zip(lo, hi, strict=True)):
            return box  # nothing of the contour under the brush
    else:
        box = _grown(box, lo, hi)
    src = tuple(
        slice(low - c + h, hi_ - c + h) for low, hi_, c, h in zip(lo, hi, centre, half, strict=True)
    )
    dst = tuple(slice(low - o, hi_ - o) for low, hi_, o in zip(lo, hi, box.offset, strict=True))
    if erase:
        box.mask[dst] &= ~brush[src]
    else:
        box.mask[dst] |= brush[src]
    return box


def stroke_centres(
    points: Sequence[Point2], radius_mm: float, pixel_mm: tuple[float, float]
) -> list[tuple[int, int]]:
    """The voxels to stamp along a drag through ``points`` (continuous, in-plane indices).

    ``points`` and ``pixel_mm`` are in the plane's two voxel axes (``(row, column)`` on an
    axial slice, ``(slice, column)`` on a coronal plane, ``(slice, row)`` on a sagittal one).

    Consecutive stamps are at most a quarter of the radius apart, so a fast drag paints a
    band without gaps.
    """
    if not points:
        return []
    step = max(min(max(radius_mm, MIN_RADIUS_MM) / 4.0, 2.0), 0.1)
    out: list[tuple[int, int]] = []
    prev = points[0]
    out.append((int(round(prev[0])), int(round(prev[1]))))
    for p in points[1:]:
        dr = (p[0] - prev[0]) * pixel_mm[0]
        dc = (p[1] - prev[1]) * pixel_mm[1]
        n = max(1, int(math.ceil(math.hypot(dr, dc) / step)))
        for i in range(1, n + 1):
            t = i / n
            v = (
                int(round(prev[0] + (p[0] - prev[0]) * t)),
                int(round(prev[1] + (p[1] - prev[1]) * t)),
            )
            if v != out[-1]:
                out.append(v)
        prev = p
    return out


def paint(
    box: Box,
    slice_index: int,
    points: Sequence[Point2],
    radius_mm: float,
    spacing_mm: tuple[float, float, float],
    shape: tuple[int, int, int],
    *,
    sphere: bool = False,
    erase: bool = False,
    axis: int = 0,
) -> Box:
    """A brush stroke along ``points`` on plane ``slice_index`` normal to voxel ``axis``.

    ``axis`` 0 (default): axial slice ``slice_index``, ``points`` are ``(row, column)``; 1: the
    coronal plane of row ``slice_index``, ``points`` ``(slice, column)``; 2: the sagittal plane
    of column ``slice_index``, ``points`` ``(slice, row)``.
    """
    brush = footprint(radius_mm, spacing_mm, sphere=sphere, axis=axis)
    a, b = (i for i in range(3) if i != axis)
    for p, q in stroke_centres(points, radius_mm, (float(spacing_mm[a]), float(spacing_mm[b]))):
        centre = [0, 0, 0]
        centre[axis], centre[a], centre[b] = int(slice_index), p, q
        box = stamp(box, (centre[0], centre[1], centre[2]), brush, shape, erase=erase)
    return box


def in_plane(index: Sequence[float], axis: int) -> Point2:
    """The two in-plane components of voxel index ``(slice, row, column)`` (see :func:`paint`)."""
    a, b = (i for i in range(3) if i != axis)
    return float(index[a]), float(index[b])


def distance_in_plane(
    box: Box,
    axis: int,
    plane_index: int,
    point: Point2,
    spacing_mm: tuple[float, float, float],
) -> float | None:
    """Millimetres from in-plane ``point`` to the nearest voxel of ``box`` on the plane
    ``plane_index`` normal to ``axis`` (None: the mask does not cross that plane)."""
    local = plane_index - box.offset[axis]
    if not 0 <= local < box.mask.shape[axis]:
        return None
    section = np.take(box.mask, local, axis=axis)
    u, v = np.nonzero(section)
    if u.size == 0:
        return None
    a, b = (i for i in range(3) if i != axis)
    du = (u + box.offset[a] - point[0]) * float(spacing_mm[a])
    dv = (v + box.offset[b] - point[1]) * float(spacing_mm[b])
    return float(np.sqrt((du * du + dv * dv).min()))


def cropped(box: Box) -> Box | None:
    """The smallest box holding the mask's voxels, or None when it is empty."""
    m = box.mask
    if not m.any():
        return None
    sl = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.nonzero(m.any(axis=other))[0]
        sl.append(slice(int(hit[0]), int(hit[-1]) + 1))
    o = box.offset
    return Box(
        (o[0] + sl[0].start, o[1] + sl[1].start, o[2] + sl[2].start),
        np.ascontiguousarray(m[sl[0], sl[1], sl[2]]),
    )


def copy_box(offset: Sequence[int], mask: np.ndarray) -> Box:
    """A :class:`Box` owning a copy of ``mask`` (a stored contour is never painted in place)."""
    return Box((int(offset[0]), int(offset[1]), int(offset[2])), np.array(mask, dtype=bool))


def changed_voxels(before: Box, after: Box) -> tuple[int, int]:
    """Voxels ``(added, removed)`` from ``before`` to ``after``."""
    if before.offset == after.offset and before.mask.shape == after.mask.shape:  # a liver
        x, y = before.mask, after.mask
        return int(np.count_nonzero(y & ~x)), int(np.count_nonzero(x & ~y))
    lo = [min(a, b) for a, b in zip(before.offset, after.offset, strict=True)]
    hi = [
        max(a + n, b + m)
        for a, n, b, m in zip(
            before.offset, before.mask.shape, after.offset, after.mask.shape, strict=True
        )
    ]
    shape = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])

    def local(b: Box) -> np.ndarray:
        return Box((b.offset[0] - lo[0], b.offset[1] - lo[1], b.offset[2] - lo[2]), b.mask).full(
            shape
        )

    x, y = local(before), local(after)
    return int(np.count_nonzero(y & ~x)), int(np.count_nonzero(x & ~y))


def edited_provenance(
    algorithm: str,
    algorithm_version: str,
    parameters: dict[str, Any],
    edit: dict[str, Any],
) -> tuple[str, str, dict[str, Any]]:
    """Algorithm, version and parameters of a contour after a brush edit.

    The parameters keep the algorithm that drew the contour first (``source``: its name,
    version and parameters, carried over unchanged through later edits), count the edits and
    describe the last one (``edit``: brush radius, 2-D or 3-D, voxels added and removed...).
    """
    if algorithm == EDIT_ALGORITHM and isinstance(parameters.get("source"), dict):
        source = parameters["source"]
        edits = int(parameters.get("edits", 0)) + 1
    else:
        source = {
            "algorithm": algorithm,
            "algorithm_version": algorithm_version,
            "parameters": parameters,
        }
        edits = 1
    return (
        EDIT_ALGORITHM,
        EDIT_ALGORITHM_VERSION,
        {"source": source, "edits": edits, "edit": dict(edit)},
    )


def edited_measurement(
    volume: Any,
    box: Box,
    *,
    algorithm: str,
    algorithm_version: str,
    parameters: dict[str, Any],
    edit: dict[str, Any],
    before: Box | None = None,
    before_volume_ml: float | None = None,
) -> Any:
    """The RECIST measurement of an edited lesion contour (``app.segmentation.LesionMeasurement``).

    ``algorithm``, ``algorithm_version`` and ``parameters`` are those of the contour before the
    edit; ``edit`` describes the edit (see :func:`edited_provenance`).  ``before`` and
    ``before_volume_ml``: the contour before the edit and its stored volume; the volume is then
    that volume plus the voxels added minus those removed (see the module docstring), else the
    voxel count of the edited mask.

    Raises
    ------
    SegmentationError
        If the edited contour is empty.
    """
    from app.segmentation.errors import SegmentationError
    from app.segmentation.lesion import RegionResult, spacing3
    from app.segmentation.measure import measurement_from_region

    tight = cropped(box)
    if tight is None:
        raise SegmentationError(
            "the edited contour is empty: erase less, or delete the measurement instead"
        )
    name, version, params = edited_provenance(algorithm, algorithm_version, parameters, edit)
    spacing = spacing3(volume.spacing_mm)
    volume_ml: float | None = None
    if before is not None and before_volume_ml is not None and math.isfinite(before_volume_ml):
        added, removed = changed_voxels(before, tight)
        voxel_ml = float(np.prod(spacing)) / 1000.0
        volume_ml = max(before_volume_ml + (added - removed) * voxel_ml, voxel_ml)
    region = RegionResult(
        mask=tight.mask,
        offset=tight.offset,
        spacing_mm=spacing,
        lesion_hu=float("nan"),
        background_hu=float("nan"),
        partial_volume_ml=volume_ml,
    )
    return measurement_from_region(
        volume, region, params, algorithm=name, algorithm_version=version
    )
