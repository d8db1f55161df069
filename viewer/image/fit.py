"""Where the body is on a slice: the box the CT view zooms to when it opens.

Whole-body PET/CT is reconstructed with a ~500 mm field of view, so the body
fills only part of the image; radiology viewers open on the body instead.
"""

from __future__ import annotations

import numpy as np

#: Voxels above this (HU) count as body: fat is about -100, lung about -850.
BODY_THRESHOLD_HU = -500.0
#: Margin around the body, as a fraction of the box's larger side.
BODY_MARGIN = 0.05


def body_box(
    image: np.ndarray | None, modality: str | None
) -> tuple[float, float, float, float] | None:
    """The display-coordinate box ``(x0, y0, x1, y1)`` around the body on a CT slice.

    The patient table (a long thin arc, separate from the body) is left out.

    Parameters
    ----------
    image : numpy.ndarray or None
        The displayed slice, in HU (voxel centres at integer display coordinates).
    modality : str or None
        DICOM Modality; only ``"CT"`` has a body box.

    Returns
    -------
    tuple of float or None
        The box around the voxels above :data:`BODY_THRESHOLD_HU`, with a
        :data:`BODY_MARGIN` margin, clipped to the image; None for other
        modalities or a slice without body.
    """
    if image is None or modality != "CT" or image.ndim != 2 or not image.size:
        return None
    mask = image > BODY_THRESHOLD_HU
    if not mask.any():
        return None
    y0, x0, y1, x1 = _body_extent(mask)
    margin = BODY_MARGIN * max(x1 - x0, y1 - y0)
    n_rows, n_cols = image.shape
    return (
        float(max(x0 - margin, -0.5)),
        float(max(y0 - margin, -0.5)),
        float(min(x1 + margin, n_cols - 0.5)),
        float(min(y1 + margin, n_rows - 0.5)),
    )


#: Block size of the coarse grid the body's parts are found on.
_BLOCK = 4
#: Parts smaller than this fraction of the largest (cables, noise) are not body.
_MIN_PART = 0.02
#: Parts longer than this many times their thickness (the table) are not body.
_MAX_ELONGATION = 4.0


def _body_extent(mask: np.ndarray) -> tuple[float, float, float, float]:
    """``(y0, x0, y1, x1)`` voxel-edge bounds of the body's parts in *mask*."""
    rows, cols = mask.shape
    pr, pc = -rows % _BLOCK, -cols % _BLOCK
    padded = np.pad(mask, ((0, pr), (0, pc)))
    blocks = padded.reshape(padded.shape[0] // _BLOCK, _BLOCK, -1, _BLOCK)
    coarse = np.asarray(blocks.any(axis=(1, 3)))  # an array; numpy's stubs also allow a scalar
    labels = _connected_parts(coarse)
    ids, areas = np.unique(labels[coarse], return_counts=True)
    keep = np.zeros(coarse.shape, dtype=bool)
    for part, area in zip(ids, areas, strict=True):
        ys, xs = np.nonzero(labels == part)
        h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
        if area == areas.max() or (
            area >= _MIN_PART * areas.max() and max(h, w) <= _MAX_ELONGATION * min(h, w)
        ):
            keep |= labels == part
    fine = np.repeat(np.repeat(keep, _BLOCK, axis=0), _BLOCK, axis=1)[:rows, :cols] & mask
    ys = np.flatnonzero(fine.any(axis=1))
    xs = np.flatnonzero(fine.any(axis=0))
    return ys[0] - 0.5, xs[0] - 0.5, ys[-1] + 0.5, xs[-1] + 0.5


def _connected_parts(mask: np.ndarray) -> np.ndarray:
    """4-connected component labels of a small boolean grid (0 outside the mask)."""
    big = mask.size + 1
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), big)
    while True:
        padded = np.pad(labels, 1, constant_values=big)
        smallest = np.minimum.reduce(
            [labels, padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
        )
        smallest = np.where(mask, smallest, big)
        if np.array_equal(smallest, labels):
            return np.where(mask, labels, 0)
        labels = smallest
