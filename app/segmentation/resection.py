"""Virtual resection from a cut line drawn on an axial slice (issue 16, liver volumetry).

The cut is the plane through the line, perpendicular to the axial plane: one 2-D side mask
(:func:`app.segmentation.liver.plane_side` on one slice) broadcast over the slices, so a
whole-body CT costs one slice of memory.  Tumours are the union of mask boxes (the lesion
contours of the timepoint) on the volume's grid; their volume is the lesions' own volumes as
stored with their measurements (:func:`lesion_tumour_volume`), split between the resection
and the remnant by where their contours' voxels are.  numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from app.segmentation.errors import SegmentationError
from app.segmentation.liver import (
    TUMOUR_FROM_BOTH,
    TUMOUR_FROM_LESION_VOLUMES,
    TUMOUR_FROM_VOXELS,
    TumourVolume,
    plane_side,
)

Point2 = tuple[float, float]  # (row, column) voxel index on an axial slice


def cut_plane(
    a: Point2, b: Point2, spacing_mm: tuple[float, float, float], *, flip: bool = False
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Point and normal (``(slice, row, column)`` order, millimetres) of the plane through the
    axial line ``a``-``b``, perpendicular to the axial plane.

    The normal points to the left of the line a→b in (column, row) display coordinates, or the
    other way with ``flip``.

    Raises
    ------
    SegmentationError
        If the two ends coincide.
    """
    dr = (b[0] - a[0]) * spacing_mm[1]
    dc = (b[1] - a[1]) * spacing_mm[2]
    if abs(dr) < 1e-6 and abs(dc) < 1e-6:
        raise SegmentationError("the cut line needs two different points")
    sign = -1.0 if flip else 1.0
    return (0.0, float(a[0]), float(a[1])), (0.0, sign * -dc, sign * dr)


def resection_from_cut(
    shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
    a: Point2,
    b: Point2,
    *,
    flip: bool = False,
) -> np.ndarray:
    """Boolean mask (a read-only broadcast view of ``shape``) of the side that is resected."""
    point, normal = cut_plane(a, b, spacing_mm, flip=flip)
    side = plane_side((1, shape[1], shape[2]), spacing_mm, point, normal)
    return np.broadcast_to(side, shape)


def union_of_boxes(
    shape: tuple[int, int, int], boxes: Iterable[tuple[tuple[int, int, int], np.ndarray]]
) -> np.ndarray:
    """Full-grid mask of mask boxes ``(offset, mask)`` (parts outside the grid are dropped)."""
    out = np.zeros(shape, dtype=bool)
    for offset, mask in boxes:
        m = np.asarray(mask, dtype=bool)
        clipped = _clip_box(shape, offset, m.shape)
        if clipped is not None:
            src, dst = clipped
            out[dst] |= m[src]
    return out


def _clip_box(
    shape: tuple[int, ...], offset: tuple[int, int, int], size: tuple[int, ...]
) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """(box slices, grid slices) of the part of a box at ``offset`` inside the grid ``shape``
    (None when nothing of it is)."""
    lo = [max(int(o), 0) for o in offset]
    hi = [min(int(o) + n, s) for o, n, s in zip(offset, size, shape, strict=True)]
    if any(h <= low for low, h in zip(lo, hi, strict=True)):
        return None
    src = tuple(slice(low - int(o), h - int(o)) for low, h, o in zip(lo, hi, offset, strict=True))
    dst = tuple(slice(low, h) for low, h in zip(lo, hi, strict=True))
    return src, dst


def lesion_tumour_volume(
    spacing_mm: tuple[float, float, float],
    resected: np.ndarray,
    lesions: Iterable[tuple[tuple[int, int, int], np.ndarray, float | None]],
) -> TumourVolume:
    """The tumour volume of lesion contours ``(offset, mask, volume_ml)``, split by ``resected``.

    Each lesion counts its own volume ``volume_ml`` (the one stored with its measurement: the
    Smart caliper's is partial-volume corrected, its blurred rim counted by fraction, so it
    can exceed the contour's voxels) when it has one (finite and positive), else its
    contour's voxels on the grid; the lesion is shared between the resection and the remnant
    as its contour's voxels are.  Voxels of two contours count once: the later lesion counts
    the share of its volume its own voxels make.  ``resected`` is a full-grid mask (a
    broadcast view will do).
    """
    shape = resected.shape
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    found = list(lesions)
    # voxels two contours share count once (the first lesion's): a share of the second's
    # own volume
    claimed = np.zeros(shape, dtype=bool) if len(found) > 1 else None
    inside = outside = 0.0
    by_volume = by_voxels = 0
    for offset, mask, volume_ml in found:
        m = np.asarray(mask, dtype=bool)
        clipped = _clip_box(shape, offset, m.shape)
        if clipped is None:
            continue
        src, dst = clipped
        part = m[src]
        n = int(part.sum())
        if n == 0:
            continue
        if claimed is not None:
            new = part & ~claimed[dst]
            claimed[dst] |= part
        else:
            new = part
        k = int(new.sum())
        if k == 0:
            continue
        fraction = int((new & resected[dst]).sum()) / k
        own = volume_ml is not None and math.isfinite(volume_ml) and volume_ml > 0
        ml = float(volume_ml) * k / n if own and volume_ml is not None else k * voxel_ml
        by_volume, by_voxels = by_volume + own, by_voxels + (not own)
        inside += ml * fraction
        outside += ml * (1.0 - fraction)
    basis = (
        TUMOUR_FROM_BOTH
        if by_volume and by_voxels
        else TUMOUR_FROM_VOXELS
        if by_voxels
        else TUMOUR_FROM_LESION_VOLUMES
    )
    return TumourVolume(inside, outside, basis)


def _grow(mask: np.ndarray) -> np.ndarray:
    """``mask`` dilated by one voxel (6-neighbourhood)."""
    out = mask.copy()
    for axis in range(mask.ndim):
        for shift in (1, -1):
            rolled = np.roll(mask, shift, axis=axis)
            edge = [slice(None)] * mask.ndim
            edge[axis] = slice(0, 1) if shift == 1 else slice(-1, None)
            rolled[tuple(edge)] = False
            out |= rolled
    return out


def touches(liver: np.ndarray, offset: tuple[int, int, int], mask: np.ndarray) -> bool:
    """True when the mask box ``(offset, mask)`` is inside or touches ``liver`` (one voxel)."""
    m = np.asarray(mask, dtype=bool)
    lo = [max(int(o) - 1, 0) for o in offset]
    hi = [min(int(o) + n + 1, s) for o, n, s in zip(offset, m.shape, liver.shape, strict=True)]
    if any(h <= low for low, h in zip(lo, hi, strict=True)):
        return False
    local_shape = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    local_offset = (int(offset[0]) - lo[0], int(offset[1]) - lo[1], int(offset[2]) - lo[2])
    here = union_of_boxes(local_shape, [(local_offset, m)])
    box = tuple(slice(low, h) for low, h in zip(lo, hi, strict=True))
    return bool((_grow(here) & liver[box]).any())


def tumours_touching(
    liver: np.ndarray, boxes: Iterable[tuple[tuple[int, int, int], np.ndarray]]
) -> np.ndarray:
    """Full-grid mask of the tumour boxes inside or touching ``liver`` (within one voxel).

    A peripheral metastasis can fall outside a liver contour; the liver volume includes its
    tumours, so these are added to the liver before the volumetry.
    """
    inside = [(offset, mask) for offset, mask in boxes if touches(liver, offset, mask)]
    return union_of_boxes(liver.shape, inside)
