"""Contours on the image: the outline of 3-D masks (a proposed lesion, a liver) on the shown slice.

A contour is a boolean mask in a box of the volume's voxel grid (``offset`` = its first
``(slice, row, column)``).  :class:`ContourOverlay` draws the outline of every contour that
crosses the shown axial slice as one RGBA image over the CT, pixel-exact (the voxels inside
that touch a voxel outside); other planes show none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg

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

    def show(self, slice_index: int | None, shape: tuple[int, int]) -> None:
        """Outline the contours on axial ``slice_index``; None (another plane) hides them."""
        image = None if slice_index is None else outline_rgba(self._contours, slice_index, shape)
        if image is None:
            self._item.clear()
            self._item.setVisible(False)
            return
        self._item.setImage(image, autoLevels=False, levels=(0, 255))
        self._item.setVisible(True)
