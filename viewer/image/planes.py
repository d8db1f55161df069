"""Planes through a (slices, rows, columns) volume: extraction, index mapping, labels.

Display coordinates are ``(x, y)`` = (display column, display row) with voxel
centres at integers.  Coronal and sagittal planes put the patient's head at
the top, whatever the slice order of the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")

# letters for +/- of each LPS axis
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def axis_vectors(volume: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit LPS vectors of increasing (slice, row, column) index, from ``index_to_lps``."""
    o = np.asarray(volume.index_to_lps(0, 0, 0), dtype=float)
    s = _unit(np.asarray(volume.index_to_lps(1, 0, 0), dtype=float) - o)
    r = _unit(np.asarray(volume.index_to_lps(0, 1, 0), dtype=float) - o)
    c = _unit(np.asarray(volume.index_to_lps(0, 0, 1), dtype=float) - o)
    return s, r, c


def direction_letters(vector: np.ndarray, threshold: float = 0.25) -> str:
    """Orientation letters for an LPS direction, strongest first (``[1,0,0]`` -> ``"L"``)."""
    order = np.argsort(-np.abs(vector))
    letters = []
    for axis in order:
        value = float(vector[axis])
        if abs(value) >= threshold:
            letters.append(_LETTERS[axis][0 if value > 0 else 1])
    return "".join(letters)


@dataclass(frozen=True, slots=True)
class PlaneGeometry:
    """How one plane of a volume is shown.

    Attributes
    ----------
    plane : str
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    count : int
        Number of positions along the plane normal.
    flip_rows : bool
        Reformats whose slice index grows towards the head are flipped so that
        superior is at the top.
    pixel_mm : tuple of float
        Millimetres per display pixel, ``(x, y)``.
    x_lps, y_lps : numpy.ndarray
        LPS unit vectors of increasing display x and y.
    """

    plane: str
    count: int
    flip_rows: bool
    pixel_mm: tuple[float, float]
    x_lps: np.ndarray
    y_lps: np.ndarray

    @classmethod
    def of(cls, volume: Any, plane: str) -> PlaneGeometry:
        """Describe *plane* of *volume*."""
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}; expected one of {', '.join(PLANES)}")
        n_s, n_r, n_c = volume.voxels.shape
        sp_s, sp_r, sp_c = (float(v) for v in volume.spacing_mm)
        s_vec, r_vec, c_vec = axis_vectors(volume)
        if plane == "axial":
            return cls(plane, n_s, False, (sp_c, sp_r), c_vec, r_vec)
        flip = bool(s_vec[2] > 0)  # slice index grows towards the head
        y_vec = -s_vec if flip else s_vec
        if plane == "coronal":
            return cls(plane, n_r, flip, (sp_c, sp_s), c_vec, y_vec)
        return cls(plane, n_c, flip, (sp_r, sp_s), r_vec, y_vec)

    def extract(self, voxels: np.ndarray, index: int) -> np.ndarray:
        """The 2-D image (display rows, display columns) at position *index*."""
        if self.plane == "axial":
            return voxels[index, :, :]
        image = voxels[:, index, :] if self.plane == "coronal" else voxels[:, :, index]
        return image[::-1] if self.flip_rows else image

    def to_index(self, index: int, x: float, y: float, n_slices: int) -> tuple[float, float, float]:
        """Continuous voxel index ``(slice, row, column)`` of display point ``(x, y)``."""
        if self.plane == "axial":
            return float(index), y, x
        s = (n_slices - 1 - y) if self.flip_rows else y
        if self.plane == "coronal":
            return s, float(index), x
        return s, x, float(index)

    def from_index(self, s: float, r: float, c: float, n_slices: int) -> tuple[float, float, float]:
        """Position along the normal and display ``(x, y)`` of voxel index ``(s, r, c)``.

        The inverse of :meth:`to_index`.
        """
        y_s = (n_slices - 1 - s) if self.flip_rows else s
        if self.plane == "axial":
            return s, c, r
        if self.plane == "coronal":
            return r, c, y_s
        return c, r, y_s

    def labels(self) -> dict[str, str]:
        """Orientation letters at the ``left``, ``right``, ``top`` and ``bottom`` edges."""
        return {
            "left": direction_letters(-self.x_lps),
            "right": direction_letters(self.x_lps),
            "top": direction_letters(-self.y_lps),
            "bottom": direction_letters(self.y_lps),
        }

    @property
    def aspect(self) -> float:
        """Ratio for ``ViewBox.setAspectLocked``: screen x-scale over y-scale per pixel."""
        return self.pixel_mm[0] / self.pixel_mm[1]


def lps_to_voxel(volume: Any, lps: tuple[float, float, float]) -> tuple[float, float, float]:
    """Continuous voxel index ``(slice, row, column)`` of patient position *lps* (millimetres).

    Uses ``volume.lps_to_index`` when the volume has it, else inverts the
    affine map that ``index_to_lps`` describes.
    """
    if hasattr(volume, "lps_to_index"):
        s, r, c = volume.lps_to_index(*lps)
        return float(s), float(r), float(c)
    o = np.asarray(volume.index_to_lps(0, 0, 0), dtype=float)
    cols = [np.asarray(volume.index_to_lps(*e), dtype=float) - o for e in np.eye(3)]
    matrix = np.column_stack(cols)
    s, r, c = np.linalg.solve(matrix, np.asarray(lps, dtype=float) - o)
    return float(s), float(r), float(c)
