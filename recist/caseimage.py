"""The ``image`` of a lesion entry in the case format: where its caliper was drawn.

An optional object on a target, non-target or new-lesion entry::

    "image": {
      "series_instance_uid": "1.2.840...",      required
      "sop_instance_uid": "1.2.840...",         required: the image (instance) drawn on
      "frame_number": 3,                        optional: 1-based frame of a multi-frame image
      "slice_index": 20,                        optional hint (default 0); the image is found
                                                by its SOP Instance UID, never by this index
      "long_axis":  {"start_lps_mm": [x, y, z], "end_lps_mm": [x, y, z],
                     "start_px": [column, row], "end_px": [column, row]},
      "short_axis": {...}                       optional, as long_axis
    }

End points are in patient coordinates (DICOM LPS, millimetres) and in image
pixels (column, row, sub-pixel).  Reading checks every field and names it in a
:class:`~recist.errors.CaseFormatError`; writing gives exactly what reading
accepts, so a case round-trips unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from recist.errors import CaseFormatError, InvalidRecordError
from recist.limits import text_problem
from recist.model import DrawnGeometry, Segment

_HAS_FRAME = "frame_number" in DrawnGeometry.__dataclass_fields__


def _point(value: object, size: int, where: str) -> tuple[float, ...]:
    numbers = (
        value
        if isinstance(value, list | tuple)
        and len(value) == size
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        else None
    )
    if numbers is None:
        raise CaseFormatError(where, f"expected a list of {size} numbers, got {value!r}")
    return tuple(float(v) for v in numbers)


def _point2(value: object, where: str) -> tuple[float, float]:
    x, y = _point(value, 2, where)
    return x, y


def _point3(value: object, where: str) -> tuple[float, float, float]:
    x, y, z = _point(value, 3, where)
    return x, y, z


def _segment(data: object, where: str) -> Segment:
    if not isinstance(data, Mapping):
        raise CaseFormatError(where, f"expected an object with end points, got {data!r}")
    return Segment(
        start_px=_point2(data.get("start_px"), f"{where}.start_px"),
        end_px=_point2(data.get("end_px"), f"{where}.end_px"),
        start_lps_mm=_point3(data.get("start_lps_mm"), f"{where}.start_lps_mm"),
        end_lps_mm=_point3(data.get("end_lps_mm"), f"{where}.end_lps_mm"),
    )


def _uid(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        raise CaseFormatError(f"{where}.{key}", "is required (a DICOM UID string)")
    if not isinstance(value, str):
        raise CaseFormatError(f"{where}.{key}", f"expected a UID string, got {value!r}")
    problem = text_problem(value, "uid")
    if problem is not None:
        raise CaseFormatError(f"{where}.{key}", problem)
    return value


def _whole(data: Mapping[str, Any], key: str, where: str, minimum: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CaseFormatError(
            f"{where}.{key}", f"expected a whole number >= {minimum}, got {value!r}"
        )
    return value


def image_from_dict(data: Mapping[str, Any], where: str) -> DrawnGeometry | None:
    """The ``image`` of the entry ``data`` (None when absent).

    Parameters
    ----------
    data
        The lesion entry (target, non-target or new lesion).
    where
        The entry's field path, e.g. ``"timepoints[0].targets[1]"``.

    Raises
    ------
    CaseFormatError
        Naming the field, e.g. ``timepoints[0].targets[1].image.long_axis.end_lps_mm``.
    """
    value = data.get("image")
    if value is None:
        return None
    where = f"{where}.image"
    if not isinstance(value, Mapping):
        raise CaseFormatError(where, f"expected an object, got {type(value).__name__}")
    if value.get("long_axis") is None:
        raise CaseFormatError(f"{where}.long_axis", "is required (the caliper's end points)")
    short = value.get("short_axis")
    extra: dict[str, Any] = {}
    frame = _whole(value, "frame_number", where, 1)
    if frame is not None and _HAS_FRAME:
        extra["frame_number"] = frame
    try:
        return DrawnGeometry(
            series_instance_uid=_uid(value, "series_instance_uid", where),
            sop_instance_uid=_uid(value, "sop_instance_uid", where),
            slice_index=_whole(value, "slice_index", where, 0) or 0,
            long_axis=_segment(value["long_axis"], f"{where}.long_axis"),
            short_axis=None if short is None else _segment(short, f"{where}.short_axis"),
            **extra,
        )
    except InvalidRecordError as exc:
        raise CaseFormatError(where, str(exc)) from None


def _segment_dict(segment: Segment) -> dict[str, list[float]]:
    return {
        "start_px": [float(v) for v in segment.start_px],
        "end_px": [float(v) for v in segment.end_px],
        "start_lps_mm": [float(v) for v in segment.start_lps_mm],
        "end_lps_mm": [float(v) for v in segment.end_lps_mm],
    }


def image_to_dict(geometry: DrawnGeometry) -> dict[str, Any]:
    """The ``image`` object of ``geometry`` (the inverse of :func:`image_from_dict`)."""
    out: dict[str, Any] = {
        "series_instance_uid": geometry.series_instance_uid,
        "sop_instance_uid": geometry.sop_instance_uid,
    }
    frame = getattr(geometry, "frame_number", None)
    if frame is not None:
        out["frame_number"] = frame
    out["slice_index"] = geometry.slice_index
    out["long_axis"] = _segment_dict(geometry.long_axis)
    if geometry.short_axis is not None:
        out["short_axis"] = _segment_dict(geometry.short_axis)
    return out
