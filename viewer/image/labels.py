"""Where a bidirectional caliper's two length labels go, in screen pixels.

Pure geometry, so that "the labels never overlap" can be tested without a view.
"""

from __future__ import annotations

from functools import partial

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


Box = tuple[float, float, float, float]  # x, y, width, height (screen pixels)


def _hits(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(box: Box, bounds: Box | None) -> Box:
    """*box* slid (not resized) into *bounds*; a box larger than the bounds keeps its top-left."""
    if bounds is None:
        return box
    x, y, w, h = box
    bx, by, bw, bh = bounds
    x = max(bx, min(x, bx + bw - w))
    y = max(by, min(y, by + bh - h))
    return x, y, w, h


def _cost(
    box: Box, *, origin: Point2, blocks: list[Box], others: list[Box]
) -> tuple[bool, bool, float]:
    """Rank of a place for a label: clear of the obstacles, then of other labels, then near."""
    return (
        any(_hits(box, o) for o in blocks),
        any(_hits(box, o) for o in others),
        (box[0] - origin[0]) ** 2 + (box[1] - origin[1]) ** 2,
    )


def keep_out_offsets(
    boxes: list[Box],
    obstacles: list[Box],
    bounds: Box | None = None,
    spacing: float = LABEL_SPACING_PX,
) -> list[tuple[float, float]]:
    """Shifts ``(dx, dy)`` (screen pixels) that take caliper labels off fixed texts and the edge.

    The orientation letters at the view's edges ("R", "A"...) and the view's border are
    fixed; a caliper near them would put its length label under a letter or beyond the edge.
    Each label that hits an obstacle or reaches out of *bounds* moves the least distance that
    clears every obstacle (by *spacing*) and keeps it inside *bounds*, preferring a place where
    it overlaps no other label; labels clear of both do not move.

    Parameters
    ----------
    boxes : list of ``(x, y, width, height)``
        Each label's box on screen, in order (a label is checked against the others at their
        final places: those before it moved, those after it not yet).
    obstacles : list of ``(x, y, width, height)``
        Boxes no label may cover.
    bounds : ``(x, y, width, height)``, optional
        The view: every label is kept inside it (when it fits).
    spacing : float
        Gap kept between a moved label and an obstacle.

    Returns
    -------
    list of ``(dx, dy)``
        One shift per box, in the order given.
    """
    placed = list(boxes)
    shifts = [(0.0, 0.0)] * len(boxes)
    padded = [
        (x - spacing, y - spacing, w + 2 * spacing, h + 2 * spacing) for x, y, w, h in obstacles
    ]
    for i, box in enumerate(boxes):
        if _inside(box, bounds) == box and not any(_hits(box, o) for o in obstacles):
            continue
        x0, y0, w, h = box
        candidates = [_inside(box, bounds)]
        for _ in range(2):  # clearing one letter may land on another: one more step
            for cx, cy, _, _ in list(candidates):
                for ox, oy, ow, oh in padded:
                    if not _hits((cx, cy, w, h), (ox, oy, ow, oh)):
                        continue
                    for nx, ny in ((ox - w, cy), (ox + ow, cy), (cx, oy - h), (cx, oy + oh)):
                        candidates.append(_inside((nx, ny, w, h), bounds))
        others = placed[:i] + placed[i + 1 :]
        best = min(candidates, key=partial(_cost, origin=(x0, y0), blocks=padded, others=others))
        placed[i] = best
        shifts[i] = (best[0] - x0, best[1] - y0)
    return shifts


def label_shifts(
    boxes: list[tuple[object, float, float, float, float]],
    obstacles: list[Box],
    bounds: Box | None = None,
) -> list[tuple[float, float]]:
    """Shifts ``(dx, dy)`` (screen pixels) placing caliper labels as every image view does.

    The labels of different calipers are first slid apart (:func:`spread_label_offsets`,
    *boxes* as there: ``(owner, x, y, width, height)``), then off the *obstacles* (the
    orientation letters) and inside *bounds* (the view) (:func:`keep_out_offsets`).  One
    shift per box, in the order given.
    """
    spread = spread_label_offsets(boxes)
    moved = [(x, y + dy, w, h) for (_, x, y, w, h), dy in zip(boxes, spread, strict=True)]
    kept = keep_out_offsets(moved, obstacles, bounds)
    return [(mx, dy + my) for dy, (mx, my) in zip(spread, kept, strict=True)]
