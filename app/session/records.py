"""Pure helpers of the reading session: lesion codes, tracking UIDs, records from geometry."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypedDict

from app.session.errors import SessionError
from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Method,
)

__all__ = [
    "CODE_PREFIX",
    "UNSPECIFIED_ORGAN",
    "measurement_from_geometry",
    "new_tracking_uid",
    "next_lesion_code",
    "merge_values",
    "pick_measurement",
    "round_mm",
    "split_values",
    "with_status",
]

CODE_PREFIX: dict[LesionKind, str] = {
    LesionKind.TARGET: "T",
    LesionKind.NON_TARGET: "NT",
    LesionKind.NEW: "N",
}
"""Lesion code prefix by kind: T1..T5 targets, NT1.. non-targets, N1.. new lesions."""

UNSPECIFIED_ORGAN = "unspecified"
"""Organ recorded for a lesion drawn before the reader chose one (change it with change_lesion)."""

_STATUSES_WITHOUT_LENGTHS = frozenset(
    {
        MeasurementStatus.TOO_SMALL,
        MeasurementStatus.ABSENT,
        MeasurementStatus.NOT_EVALUABLE,
        MeasurementStatus.PRESENT,
        MeasurementStatus.UNEQUIVOCAL_PROGRESSION,
        MeasurementStatus.FURTHER_INCREASE,
    }
)


def next_lesion_code(kind: LesionKind, lesions: Iterable[Lesion]) -> str:
    """The lowest free code of ``kind`` among ``lesions`` (T1, T2, ... / NT1 ... / N1 ...).

    Codes are counted across all kinds, so a lesion re-categorised from target
    to non-target keeps its code without a new T-lesion reusing it.

    Examples
    --------
    >>> next_lesion_code(LesionKind.TARGET, [])
    'T1'
    """
    prefix = CODE_PREFIX[kind]
    pattern = re.compile(rf"^{prefix}(\d+)$")
    taken = {int(m.group(1)) for les in lesions if (m := pattern.match(les.code.strip().upper()))}
    n = 1
    while n in taken:
        n += 1
    return f"{prefix}{n}"


#: A lesion code: T, NT or N and a number (a re-categorised lesion keeps its prefix).
LESION_CODE = re.compile(r"^(T|NT|N)([1-9]\d{0,3})$")


def checked_lesion_code(code: str) -> str:
    """*code* in its stored form (upper case, no spaces), or ValueError saying what a code is.

    >>> checked_lesion_code(" t3 ")
    'T3'
    """
    text = code.strip().upper()
    if not LESION_CODE.match(text):
        raise ValueError(
            f"{code.strip()!r} is not a lesion code: T, NT or N followed by a number "
            "(e.g. T3, NT2, N1)"
        )
    return text


def new_tracking_uid() -> str:
    """A fresh DICOM UID (``2.25.<uuid4>``) for TID 4108 Tracking Unique Identifier."""
    return f"2.25.{uuid.uuid4().int}"


def round_mm(value: float) -> float:
    """A length rounded to 0.1 mm, the precision RECIST readings are recorded in."""
    return round(value + 0.0, 1)


def _ordered_axes(geometry: DrawnGeometry) -> DrawnGeometry:
    """Swap the two lines of a bidirectional measurement if the "short" one is longer."""
    short = geometry.short_axis
    if short is not None and short.length_mm > geometry.long_axis.length_mm:
        return replace(geometry, long_axis=short, short_axis=geometry.long_axis)
    return geometry


class _DrawnValues(TypedDict):
    """The fields a drawing sets on a measurement (new or re-measured)."""

    status: MeasurementStatus
    long_axis_mm: float
    short_axis_mm: float | None
    geometry: DrawnGeometry
    method: Method
    measured_at: datetime
    fragments_mm: tuple[float, ...]
    coalesced_into: str | None


def measurement_from_geometry(
    geometry: DrawnGeometry,
    *,
    lesion_id: int | None,
    timepoint_id: int,
    reader_id: int | None,
    base: Measurement | None = None,
    method: Method | None = None,
) -> Measurement:
    """A ``MEASURED`` record of the lines drawn: long axis, and short axis when bidirectional.

    Parameters
    ----------
    geometry
        The caliper lines in image and patient coordinates.
    lesion_id, timepoint_id, reader_id
        Whose measurement of what, where.
    base
        An existing measurement being re-measured: its id and notes are kept.
    method
        How the lines were drawn; None keeps ``base``'s method (a moved caliper), else manual.

    Returns
    -------
    Measurement
        Lengths rounded to 0.1 mm; the longer line is the long axis.
    """
    geometry = _ordered_axes(geometry)
    short = geometry.short_axis
    values: _DrawnValues = {
        "status": MeasurementStatus.MEASURED,
        "long_axis_mm": round_mm(geometry.long_axis.length_mm),
        "short_axis_mm": round_mm(short.length_mm) if short is not None else None,
        "geometry": geometry,
        "method": method or (base.method if base is not None else Method.MANUAL),
        "measured_at": datetime.now(UTC),
        "fragments_mm": (),
        "coalesced_into": None,
    }
    if base is not None:
        return replace(base, **values)
    return Measurement(
        id=None, lesion_id=lesion_id, timepoint_id=timepoint_id, reader_id=reader_id, **values
    )


def with_status(measurement: Measurement, status: MeasurementStatus) -> Measurement:
    """``measurement`` with ``status``; statuses that carry no length drop lengths and lines."""
    changed = replace(measurement, status=status, measured_at=datetime.now(UTC))
    if status in _STATUSES_WITHOUT_LENGTHS:
        return replace(
            changed,
            long_axis_mm=None,
            short_axis_mm=None,
            geometry=None,
            fragments_mm=(),
            coalesced_into=None,
        )
    return changed


def pick_measurement(
    measurements: list[Measurement], lesion_id: int, reader_id: int | None
) -> Measurement | None:
    """The reader's own measurement of the lesion, else the latest other one."""
    mine = [m for m in measurements if m.lesion_id == lesion_id and m.reader_id == reader_id]
    if mine:
        return mine[-1]
    others = [m for m in measurements if m.lesion_id == lesion_id]
    return others[-1] if others else None


def split_values(fragments_mm: Sequence[float], what: str) -> dict[str, Any]:
    """The values of a split target: each fragment (0.1 mm) and their sum as the long axis.

    Raises
    ------
    SessionError
        Fewer than two fragments, or a fragment that is not a positive, finite
        length; the message starts with ``what``.
    """
    fragments: list[float] = []
    for i, value in enumerate(fragments_mm, start=1):
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or round_mm(number) <= 0:
            raise SessionError(f"{what}: fragment {i} must be a length above 0 mm, got {value!r}.")
        fragments.append(round_mm(number))
    if len(fragments) < 2:
        raise SessionError(
            f"{what}: give the long axis of each fragment in mm (a split lesion has at least two)."
        )
    return {
        "status": MeasurementStatus.SPLIT,
        "fragments_mm": tuple(fragments),
        "long_axis_mm": round_mm(sum(fragments)),
        "short_axis_mm": None,
        "geometry": None,
        "coalesced_into": None,
        "method": Method.MANUAL,
        "measured_at": datetime.now(UTC),
    }


def merge_values(into_code: str) -> dict[str, Any]:
    """The values of a target that coalesced into ``into_code``: 0 mm, linked to that code."""
    return {
        "status": MeasurementStatus.MERGED,
        "coalesced_into": into_code,
        "long_axis_mm": 0.0,
        "short_axis_mm": None,
        "geometry": None,
        "fragments_mm": (),
        "method": Method.MANUAL,
        "measured_at": datetime.now(UTC),
    }
