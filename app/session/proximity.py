"""Is a "new lesion" caliper drawn where a tracked lesion was measured before?

At a follow-up a new lesion means progressive disease.  A reader who leaves the Next caliper
bar on "New lesion" and draws on a lesion that is already tracked (the demo's T1 at C3) would
record a new lesion N1 there, and a PD, without noticing.  The viewer asks first when the
caliper lies near a tracked lesion; this module says which one.

The rule (:func:`nearest_tracked`): the caliper's place is the middle of its long axis
(patient LPS mm).  A tracked lesion's place is the middle of the long axis of its latest
measurement before the current timepoint that has a caliper
(:func:`app.segmentation.follow_up.earlier_lesion`, the follow-up Smart caliper's seed).  The
caliper is near a lesion when it lies within ``max(NEAR_MM, that lesion's earlier long axis)``
of its place; of several such lesions the nearest one is offered.  At the baseline there is no
earlier timepoint, so nothing is near.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.session.records import pick_measurement
from recist.model import Timepoint

#: The smallest distance (mm) within which a caliper counts as on a tracked lesion.
NEAR_MM = 10.0

Point = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class TrackedPlace:
    """Where a tracked lesion was last measured before the current timepoint."""

    lesion_id: int
    code: str
    timepoint_label: str
    centre_lps_mm: Point
    long_axis_mm: float


def caliper_centre(geometry: Any) -> Point | None:
    """The middle of a caliper's long axis (LPS mm), or None without a long axis."""
    long_axis = getattr(geometry, "long_axis", None)
    if long_axis is None:
        return None
    a, b = long_axis.start_lps_mm, long_axis.end_lps_mm
    x, y, z = ((float(p) + float(q)) / 2.0 for p, q in zip(a, b, strict=True))
    return (x, y, z)


def nearest_tracked(centre: Point, places: Iterable[TrackedPlace]) -> TrackedPlace | None:
    """The tracked lesion whose place is nearest to ``centre`` among those it lies near.

    Near: within ``max(NEAR_MM, the lesion's earlier long axis)`` mm (3-D distance).
    """
    best: tuple[float, TrackedPlace] | None = None
    for place in places:
        distance = math.dist(centre, place.centre_lps_mm)
        if not math.isfinite(distance) or distance > max(NEAR_MM, place.long_axis_mm):
            continue
        if best is None or distance < best[0]:
            best = (distance, place)
    return None if best is None else best[1]


def tracked_places(
    timepoints: Sequence[Timepoint],
    current: Timepoint,
    lesions: Iterable[Any],
    measurements_at: Any,
    reader_id: int | None,
) -> list[TrackedPlace]:
    """The place of every lesion measured with a caliper before ``current``.

    ``measurements_at(timepoint_id)`` lists a timepoint's measurements (the session's
    ``measurements``); each lesion's latest earlier measurement with a caliper counts (this
    reader's own, else another reader's, as ``ReadingSession.measurement_for``).
    """
    from app.segmentation.follow_up import earlier_lesion  # numpy: not at session import

    codes = {int(les.id): str(les.code) for les in lesions if les.id is not None}
    found: dict[int, TrackedPlace] = {}
    earlier = sorted((t for t in timepoints if t.order < current.order), key=lambda t: t.order)
    for tp in reversed(earlier):
        if tp.id is None:
            continue
        listed = list(measurements_at(tp.id))
        for lesion_id, code in codes.items():
            if lesion_id in found:
                continue
            measurement = pick_measurement(listed, lesion_id, reader_id)
            where = earlier_lesion(measurement) if measurement is not None else None
            if where is not None:
                found[lesion_id] = TrackedPlace(
                    lesion_id, code, tp.label, where.centre_lps_mm, where.long_axis_mm
                )
    return list(found.values())
