"""Where a bidirectional caliper's two length labels go, in screen pixels.

Pure geometry, so that "the labels never overlap" can be tested without a view.
"""

from __future__ import annotations

import numpy as np

Point2 = tuple[float, float]

#: Screen pixels between a caliper end point and its label (constant while zooming).
LABEL_GAP_PX = 8.0


def _unit(v: np.ndarray, default: tuple[float, float]) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-9 else np.asarray(default, dtype=float)


def _half_extent(size: tuple[float, float], d: np.ndarray) -> float:
    """Half the extent along unit vector *d* of an axis-aligned box of *size* ``(w, h)``."""
    return float(size[0] * abs(d[0]) + size[1] * abs(d[1])) / 2


def _anchor(size: tuple[float, float], centre: np.ndarray) -> tuple[float, float]:
    """TextItem anchor putting the box centre at *centre* (px) from its position."""
    w, h = max(size[0], 1.0), max(size[1], 1.0)
    return 0.5 - float(centre[0]) / w, 0.5 - float(centre[1]) / h


def bidirectional_label_anchors(
    long_axis: tuple[Point2, Point2],
    short_axis: tuple[Point2, Point2],
    pixel_mm: tuple[float, float],
    long_size: tuple[float, float],
    short_size: tuple[float, float],
    gap_px: float = LABEL_GAP_PX,
) -> tuple[tuple[int, tuple[float, float]], tuple[int, tuple[float, float]]]:
    """Where the two labels of a bidirectional caliper go, so that they never overlap.

    The long-axis label sits beyond the long axis's right-hand end, the
    short-axis label beyond the short axis's lower end, both *gap_px* screen
    pixels out.  The short-axis label is slid back along the long axis until it
    lies entirely before the long axis's end, while the long-axis label lies
    entirely beyond it: a line perpendicular to the long axis separates them at
    any zoom and for any lesion size.

    Parameters
    ----------
    long_axis, short_axis : tuple of two points
        End points in display pixels.
    pixel_mm : tuple of float
        Millimetres per display pixel ``(x, y)``; the view locks its aspect to
        this, so it gives screen directions.
    long_size, short_size : tuple of float
        Label sizes ``(width, height)`` in screen pixels.
    gap_px : float
        Distance between an end point and its label.

    Returns
    -------
    tuple
        ``((long_end, long_anchor), (short_end, short_anchor))``: the index (0
        or 1) of the end point carrying each label, and the ``pg.TextItem``
        anchor to use with the label positioned on that end point.
    """
    scale = np.asarray(pixel_mm, dtype=float)
    l0, l1 = (np.asarray(p, dtype=float) * scale for p in long_axis)
    long_end = 1 if (l1[0], l1[1]) >= (l0[0], l0[1]) else 0
    u = _unit((l1 - l0) if long_end else (l0 - l1), (1.0, 0.0))
    long_centre = (gap_px + _half_extent(long_size, u)) * u

    s0, s1 = (np.asarray(p, dtype=float) * scale for p in short_axis)
    n = _unit(s1 - s0, (-u[1], u[0]))
    short_end = 1 if (n[1], n[0]) >= (-n[1], -n[0]) else 0  # the lower (then right) end
    n = n if short_end else -n
    slide = max(0.0, _half_extent(short_size, u))
    short_centre = (gap_px + _half_extent(short_size, n)) * n - slide * u
    return (long_end, _anchor(long_size, long_centre)), (
        short_end,
        _anchor(short_size, short_centre),
    )


#: Screen pixels kept between the labels of different calipers.
LABEL_SPACING_PX = 2.0


def spread_label_offsets(
    boxes: list[tuple[object, float, float, float, float]], spacing: float = LABEL_SPACING_PX
) -> list[float]:
    """Downward shifts (screen pixels) that keep labels of different calipers apart.

    Parameters
    ----------
    boxes : list of ``(owner, x, y, width, height)``
        Each label's box on screen; labels of one *owner* (one caliper) are
        already placed apart by :func:`bidirectional_label_anchors` and are not
        moved against each other.
    spacing : float
        Gap left between two boxes of different owners.

    Returns
    -------
    list of float
        One shift per box, in the order given; one caliper's labels move
        together.  0 for labels that overlap no other caliper's; otherwise
        enough to sit just below the box they hit.  Calipers are placed top to
        bottom, so the result never overlaps.
    """
    owners: dict[int, list[int]] = {}  # by id(): owners need not be hashable
    for i, box in enumerate(boxes):
        owners.setdefault(id(box[0]), []).append(i)
    groups = sorted(owners.values(), key=lambda g: min((boxes[i][2], boxes[i][1]) for i in g))
    placed: list[tuple[float, float, float, float]] = []
    shifts = [0.0] * len(boxes)
    for group in groups:
        dy, moved = 0.0, True
        while moved:
            moved = False
            for i in group:
                _, x, y, w, h = boxes[i]
                for ox, oy, ow, oh in placed:
                    top = y + dy
                    if x < ox + ow and ox < x + w and top < oy + oh + spacing and oy < top + h:
                        dy += oy + oh + spacing - top
                        moved = True
        for i in group:
            shifts[i] = dy
            _, x, y, w, h = boxes[i]
            placed.append((x, y + dy, w, h))
    return shifts
