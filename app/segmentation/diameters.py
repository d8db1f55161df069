"""RECIST diameters of a 3-D mask: the longest axial diameter and its longest perpendicular.

The outline of a mask on a slice is taken as the 0.5 iso-line of the binary image under
bilinear interpolation (what marching squares draws): the points half-way between an inside
and an outside pixel centre.  A disc of diameter D then measures D to within a few tenths of a
pixel, where pixel-centre distances would give D minus one pixel.

- Long axis: on every axial slice, the largest distance between two outline points (found on
  their convex hull); the slice with the largest one wins (RECIST 1.1: "longest diameter in the
  plane of measurement").
- Short axis: on that slice, the longest chord of the mask perpendicular to the long axis
  (every 0.2 mm along the long axis; the chord runs from the first to the last 0.5 crossing).

Coordinates are continuous ``(row, column)`` pixel indices with pixel centres at integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Step between perpendicular chords and between samples along one, in millimetres.
CHORD_STEP_MM = 0.2


@dataclass(frozen=True, slots=True)
class SliceDiameters:
    """The RECIST diameters on one axial slice.

    Attributes
    ----------
    slice_index : int
        The slice (index along the volume's first axis).
    long_axis_mm, short_axis_mm : float
        Longest diameter and longest diameter perpendicular to it.
    long_px, short_px : tuple of two (row, column) points
        End points in continuous pixel indices of that slice.
    """

    slice_index: int
    long_axis_mm: float
    short_axis_mm: float
    long_px: tuple[tuple[float, float], tuple[float, float]]
    short_px: tuple[tuple[float, float], tuple[float, float]]


def outline_points(mask2d: np.ndarray) -> np.ndarray:
    """Points of the 0.5 iso-line of a 2-D binary mask, ``(n, 2)`` as ``(row, column)``.

    Each point lies half-way between a pair of 4-neighbouring pixels of which exactly one is
    inside; pixels outside the array count as outside.
    """
    m = np.pad(np.asarray(mask2d, dtype=bool), 1)
    rows_v, cols_v = np.nonzero(m[1:, :] != m[:-1, :])  # vertical neighbours differ
    rows_h, cols_h = np.nonzero(m[:, 1:] != m[:, :-1])  # horizontal neighbours differ
    pts_v = np.column_stack([rows_v + 0.5, cols_v]).astype(float)
    pts_h = np.column_stack([rows_h, cols_h + 0.5]).astype(float)
    return np.vstack([pts_v, pts_h]) - 1.0  # undo the padding


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull of 2-D points (Andrew's monotone chain), in order."""
    pts = np.unique(np.asarray(points, dtype=float), axis=0)
    if len(pts) < 3:
        return pts

    def half(seq: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in seq:
            while len(chain) >= 2:
                a, b = chain[-2], chain[-1]
                if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower = half(pts)
    upper = half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def longest_diameter(
    mask2d: np.ndarray, pixel_mm: tuple[float, float]
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The longest distance across a 2-D mask, with its end points ``(row, column)``.

    Returns None for an empty mask.
    """
    pts = outline_points(mask2d)
    if len(pts) == 0:
        return None
    hull = convex_hull(pts)
    scale = np.asarray(pixel_mm, dtype=float)
    mm = hull * scale
    d2 = ((mm[:, None, :] - mm[None, :, :]) ** 2).sum(axis=2)
    i, j = np.unravel_index(int(np.argmax(d2)), d2.shape)
    return float(np.sqrt(d2[i, j])), hull[i], hull[j]


def _bilinear(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at continuous indices (0 outside)."""
    padded = np.pad(image.astype(np.float32), 1)
    r = np.clip(rows + 1.0, 0.0, padded.shape[0] - 1.001)
    c = np.clip(cols + 1.0, 0.0, padded.shape[1] - 1.001)
    r0, c0 = np.floor(r).astype(int), np.floor(c).astype(int)
    fr, fc = r - r0, c - c0
    out: np.ndarray = (
        padded[r0, c0] * (1 - fr) * (1 - fc)
        + padded[r0 + 1, c0] * fr * (1 - fc)
        + padded[r0, c0 + 1] * (1 - fr) * fc
        + padded[r0 + 1, c0 + 1] * fr * fc
    )
    return out


def longest_perpendicular(
    mask2d: np.ndarray, pixel_mm: tuple[float, float], start: np.ndarray, end: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The longest chord of the mask perpendicular to ``start-end`` (pixel points).

    Returns its length in mm and its end points ``(row, column)``; length 0 at the midpoint of
    the long axis when no chord is found (a one-pixel-wide mask).
    """
    scale = np.asarray(pixel_mm, dtype=float)
    a, b = np.asarray(start, dtype=float) * scale, np.asarray(end, dtype=float) * scale
    length = float(np.hypot(*(b - a)))
    mid_px = (np.asarray(start) + np.asarray(end)) / 2.0
    if length == 0:
        return 0.0, mid_px, mid_px
    u = (b - a) / length
    v = np.array([-u[1], u[0]])
    offsets = np.arange(0.0, length + 1e-9, CHORD_STEP_MM)
    half = length  # a perpendicular chord is never longer than the long axis
    along = np.arange(-half, half + 1e-9, CHORD_STEP_MM)
    centres = a[None, :] + offsets[:, None] * u[None, :]  # (n, 2) in mm
    samples_mm = centres[:, None, :] + along[None, :, None] * v[None, None, :]  # (n, m, 2)
    values = _bilinear(mask2d, samples_mm[..., 0] / scale[0], samples_mm[..., 1] / scale[1])
    inside = values >= 0.5
    best = (0.0, mid_px, mid_px)
    any_inside = inside.any(axis=1)
    if not any_inside.any():
        return best
    first = np.argmax(inside, axis=1)
    last = inside.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1)
    chord = np.where(any_inside, (last - first) * CHORD_STEP_MM, -1.0)
    i = int(np.argmax(chord))
    # refine both ends to the 0.5 crossing between the last outside and first inside sample
    lo = _crossing(values[i], int(first[i]), -1)
    hi = _crossing(values[i], int(last[i]), +1)
    p = centres[i] + (along[0] + lo * CHORD_STEP_MM) * v
    q = centres[i] + (along[0] + hi * CHORD_STEP_MM) * v
    return float(np.hypot(*(q - p))), p / scale, q / scale


def _crossing(profile: np.ndarray, index: int, step: int) -> float:
    """Sub-sample position of the 0.5 crossing next to ``index`` in direction ``step``."""
    other = index + step
    if not 0 <= other < len(profile):
        return float(index)
    inside, outside = float(profile[index]), float(profile[other])
    if inside == outside:
        return float(index)
    return index + step * (inside - 0.5) / (inside - outside)


def recist_diameters(mask: np.ndarray, spacing_mm: tuple[float, float, float]) -> SliceDiameters:
    """The RECIST long axis (axial slice where it is longest) and its perpendicular.

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean ``(slices, rows, columns)``.
    spacing_mm : tuple of float
        ``(slice, row, column)`` spacing.

    Returns
    -------
    SliceDiameters
        Slice index relative to ``mask``; end points in that slice's pixels.

    Raises
    ------
    ValueError
        If the mask is empty.
    """
    pixel_mm = (float(spacing_mm[1]), float(spacing_mm[2]))
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    for index in np.nonzero(mask.reshape(mask.shape[0], -1).any(axis=1))[0]:
        found = longest_diameter(mask[index], pixel_mm)
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], int(index), found[1], found[2])
    if best is None:
        raise ValueError("the mask is empty: there is nothing to measure")
    long_mm, k, p, q = best
    short_mm, s, t = longest_perpendicular(mask[k], pixel_mm, p, q)
    short_mm = min(short_mm, long_mm)

    def pt(x: np.ndarray) -> tuple[float, float]:
        return (float(x[0]), float(x[1]))

    return SliceDiameters(
        slice_index=k,
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        long_px=(pt(p), pt(q)),
        short_px=(pt(s), pt(t)),
    )
