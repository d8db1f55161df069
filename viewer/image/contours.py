"""Contours on the image: the outline of 3-D masks (a proposed lesion, a liver) on the shown slice.

A contour is a boolean mask in a box of the volume's voxel grid (``offset`` = its first
``(slice, row, column)``).  :class:`ContourOverlay` draws the outline of every contour that
crosses the shown slice as one RGBA image over the CT, pixel-exact (the voxels inside
that touch a voxel outside of the plane's section of the mask): on an axial slice, and on a
coronal or sagittal reformat (the section of every slice at the shown row or column, head at
the top as the reformat shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

#: At most this many image rows per slice when outlining a reformat of thick slices.
MAX_ROW_FACTOR = 8
#: Outline colour (RGBA) of a contour.
CONTOUR_RGBA = (255, 80, 80, 230)


@dataclass(frozen=True)
class Contour:
    """A mask box to outline: ``offset`` ``(slice, row, column)`` and a boolean ``mask``."""

    offset: tuple[int, int, int]
    mask: np.ndarray = field(repr=False)
    rgba: tuple[int, int, int, int] = CONTOUR_RGBA


def outline(mask2d: np.ndarray) -> np.ndarray:
    """The inside pixels of a 2-D mask that touch an outside pixel (4-neighbours)."""
    m = np.pad(np.asarray(mask2d, dtype=bool), 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    edge: np.ndarray = np.asarray(mask2d, dtype=bool) & ~inner
    return edge


def outline_rgba(
    contours: Sequence[Contour], slice_index: int, shape: tuple[int, int]
) -> np.ndarray | None:
    """An RGBA image of the outlines of ``contours`` on axial ``slice_index``, or None."""
    image: np.ndarray | None = None
    for c in contours:
        k = slice_index - c.offset[0]
        if not 0 <= k < c.mask.shape[0] or not c.mask[k].any():
            continue
        if image is None:
            image = np.zeros((*shape, 4), dtype=np.uint8)
        edge = outline(c.mask[k])
        r0, c0 = c.offset[1], c.offset[2]
        rows = slice(max(r0, 0), min(r0 + edge.shape[0], shape[0]))
        cols = slice(max(c0, 0), min(c0 + edge.shape[1], shape[1]))
        part = edge[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0]
        image[rows, cols][part] = c.rgba
    return image


def reformat_outline_rgba(
    contours: Sequence[Contour],
    axis: int,
    index: int,
    shape: tuple[int, int],
    flip_rows: bool,
    row_factor: int = 1,
) -> np.ndarray | None:
    """The outlines on the reformat through row (``axis`` 1, coronal) or column (2, sagittal)
    ``index``: display rows are slices (reversed when ``flip_rows``), columns the other axis.
    ``shape`` is the reformat's ``(slices, columns or rows)``.  ``row_factor`` > 1 draws each
    slice as that many image rows, so the outline of a thick slice is a thin line (the image
    is then ``row_factor`` times taller than the reformat)."""
    image: np.ndarray | None = None
    n_slices = shape[0]
    f = max(int(row_factor), 1)
    out_shape = (shape[0] * f, shape[1])
    for c in contours:
        local = index - c.offset[axis]
        if not 0 <= local < c.mask.shape[axis]:
            continue
        section = np.take(c.mask, local, axis=axis)  # (slices, columns or rows)
        if not section.any():
            continue
        if image is None:
            image = np.zeros((*out_shape, 4), dtype=np.uint8)
        k0, x0 = c.offset[0], c.offset[2 if axis == 1 else 1]
        if flip_rows:
            section = section[::-1]
            k0 = n_slices - (k0 + section.shape[0])
        edge = outline(np.repeat(section, f, axis=0) if f > 1 else section)
        k0 *= f
        rows = slice(max(k0, 0), min(k0 + edge.shape[0], out_shape[0]))
        cols = slice(max(x0, 0), min(x0 + edge.shape[1], out_shape[1]))
        part = edge[rows.start - k0 : rows.stop - k0, cols.start - x0 : cols.stop - x0]
        image[rows, cols][part] = c.rgba
    return image


class ContourOverlay:
    """Draws contours over the image of a view box (one RGBA image item above the CT)."""

    def __init__(self, view_box: Any) -> None:
        self._item = pg.ImageItem(axisOrder="row-major")
        self._item.setPos(-0.5, -0.5)  # voxel centres at integer display coordinates
        self._item.setZValue(5)
        view_box.addItem(self._item)
        self._contours: list[Contour] = []

    @property
    def contours(self) -> list[Contour]:
        """The contours set."""
        return list(self._contours)

    def set_contours(self, contours: Sequence[Contour]) -> None:
        """Replace the contours (shown at the next :meth:`show`)."""
        self._contours = list(contours)

    def show(
        self,
        slice_index: int | None,
        shape: tuple[int, int],
        plane: str = "axial",
        flip_rows: bool = False,
        pixel_mm: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        """Outline the contours on ``slice_index`` of ``plane`` (``axial``, ``coronal`` or
        ``sagittal``; ``flip_rows`` and ``pixel_mm`` ``(x, y)`` as the reformat shows it: a
        slice thicker than a pixel is outlined with thin lines); None hides them."""
        if slice_index is None:
            image = None
        elif plane == "axial":
            image = outline_rgba(self._contours, slice_index, shape)
        else:
            axis = 1 if plane == "coronal" else 2
            ratio = pixel_mm[1] / pixel_mm[0] if pixel_mm[0] > 0 else 1.0
            factor = int(min(max(round(ratio), 1), MAX_ROW_FACTOR))
            image = reformat_outline_rgba(
                self._contours, axis, slice_index, shape, flip_rows, factor
            )
        if image is None:
            self._item.clear()
            self._item.setVisible(False)
            return
        self._item.setImage(image, autoLevels=False, levels=(0, 255))
        # the image covers the shown slice whatever its resolution (placed at -0.5, -0.5:
        # voxel centres at integers)
        self._item.setRect(QtCore.QRectF(0.0, 0.0, float(shape[1]), float(shape[0])))
        self._item.setVisible(True)
