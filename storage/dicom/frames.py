"""Per-frame geometry and rescale of classic and enhanced multi-frame headers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset

from storage.dicom.records import FrameHeader
from storage.dicom.values import Header, first_float, floats, get_value

#: Largest pixel spacing accepted (mm); beyond it a caliper would measure nonsense.
MAX_PIXEL_SPACING_MM = 1000.0
#: Largest coordinate or slice distance accepted (mm): far outside any patient.
MAX_COORDINATE_MM = 1e6
#: How far the orientation cosines may stray from unit length and from perpendicular.
ORTHONORMAL_TOLERANCE = 0.01


def _numbers(values: Sequence[float]) -> str:
    return "\\".join(f"{v:g}" for v in values)


def check_geometry(frame: FrameHeader) -> FrameHeader:
    """Return *frame*, or raise ValueError naming the tag whose value cannot be measured on.

    PixelSpacing must be positive and finite, RescaleSlope/Intercept finite,
    positions and thicknesses finite, and ImageOrientationPatient two
    orthonormal cosines (each of unit length, perpendicular to each other).
    """
    spacing = frame.pixel_spacing
    if spacing is not None and not all(0 < v <= MAX_PIXEL_SPACING_MM for v in spacing):
        raise ValueError(
            f"PixelSpacing {_numbers(spacing)} is not a positive finite spacing of "
            f"at most {MAX_PIXEL_SPACING_MM:g} mm"
        )
    for name, value in (("RescaleSlope", frame.slope), ("RescaleIntercept", frame.intercept)):
        if not math.isfinite(value) or (name == "RescaleSlope" and value == 0):
            raise ValueError(f"{name} {value:g} is not a finite (non-zero) number")
    if frame.position is not None and not all(abs(v) <= MAX_COORDINATE_MM for v in frame.position):
        raise ValueError(
            f"ImagePositionPatient {_numbers(frame.position)} is not a finite position in mm"
        )
    thickness = frame.slice_thickness
    if thickness is not None and not 0 <= thickness <= MAX_COORDINATE_MM:
        raise ValueError(f"SliceThickness {thickness:g} is not a finite thickness >= 0 mm")
    if frame.orientation is not None:
        row, col = frame.orientation[:3], frame.orientation[3:]
        norms = (math.fsum(v * v for v in row), math.fsum(v * v for v in col))
        dot = math.fsum(a * b for a, b in zip(row, col, strict=True))
        if not (
            all(abs(math.sqrt(n) - 1) <= ORTHONORMAL_TOLERANCE for n in norms)
            and abs(dot) <= ORTHONORMAL_TOLERANCE
        ):
            raise ValueError(
                f"ImageOrientationPatient {_numbers(frame.orientation)} is not two "
                "perpendicular unit vectors"
            )
    return frame


def _item(seq_owner: Dataset | None, keyword: str) -> Dataset | None:
    if seq_owner is None:
        return None
    seq = seq_owner.get(keyword)
    return seq[0] if seq else None


def _frame_value(per: Dataset | None, shared: Dataset | None, seq: str, keyword: str) -> Any:
    for owner in (per, shared):
        item = _item(owner, seq)
        if item is not None and keyword in item:
            return get_value(item, keyword)
    return None


def frame_headers(ds: Header, n_frames: int) -> tuple[FrameHeader, ...]:
    """Per-frame geometry and rescale (enhanced multi-frame or classic)."""
    top_slope = first_float(get_value(ds, "RescaleSlope"))
    top_icpt = first_float(get_value(ds, "RescaleIntercept"))
    per_frame = get_value(ds, "PerFrameFunctionalGroupsSequence")
    shared_seq = get_value(ds, "SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    if per_frame is not None or shared is not None:
        frames = []
        for i in range(n_frames):
            per = per_frame[i] if per_frame is not None and i < len(per_frame) else None

            def value(seq: str, kw: str, per: Dataset | None = per) -> Any:
                return _frame_value(per, shared, seq, kw)

            slope = first_float(value("PixelValueTransformationSequence", "RescaleSlope"))
            icpt = first_float(value("PixelValueTransformationSequence", "RescaleIntercept"))
            frames.append(
                check_geometry(
                    FrameHeader(
                        index=i,
                        position=floats(
                            value("PlanePositionSequence", "ImagePositionPatient"),
                            3,
                            "ImagePositionPatient",
                        ),
                        orientation=floats(
                            value("PlaneOrientationSequence", "ImageOrientationPatient")
                            or get_value(ds, "ImageOrientationPatient"),
                            6,
                            "ImageOrientationPatient",
                        ),
                        pixel_spacing=floats(
                            value("PixelMeasuresSequence", "PixelSpacing")
                            or get_value(ds, "PixelSpacing"),
                            2,
                            "PixelSpacing",
                        ),
                        slope=slope if slope is not None else (top_slope or 1.0),
                        intercept=icpt if icpt is not None else (top_icpt or 0.0),
                        slice_thickness=first_float(
                            value("PixelMeasuresSequence", "SliceThickness")
                        ),
                    )
                )
            )
        return tuple(frames)
    position = floats(get_value(ds, "ImagePositionPatient"), 3, "ImagePositionPatient")
    orientation = floats(get_value(ds, "ImageOrientationPatient"), 6, "ImageOrientationPatient")
    spacing = floats(
        get_value(ds, "PixelSpacing") or get_value(ds, "ImagerPixelSpacing"), 2, "PixelSpacing"
    )
    offsets = get_value(ds, "GridFrameOffsetVector")
    frames = []
    for i in range(n_frames):
        pos = position if i == 0 else None
        if position is not None and orientation is not None and offsets and i < len(offsets):
            normal = _cross(orientation[:3], orientation[3:])
            d = float(offsets[i])
            pos = (
                position[0] + d * normal[0],
                position[1] + d * normal[1],
                position[2] + d * normal[2],
            )
        frames.append(
            check_geometry(
                FrameHeader(
                    index=i,
                    position=pos,
                    orientation=orientation,
                    pixel_spacing=spacing,
                    slope=top_slope if top_slope is not None else 1.0,
                    intercept=top_icpt if top_icpt is not None else 0.0,
                    slice_thickness=first_float(get_value(ds, "SliceThickness")),
                )
            )
        )
    return tuple(frames)


def _cross(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def window(ds: Header) -> tuple[float | None, float | None]:
    """Window centre and width: top level, else the first frame's VOI LUT."""
    center = first_float(get_value(ds, "WindowCenter"))
    width = first_float(get_value(ds, "WindowWidth"))
    if center is None:
        for owner_kw in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            seq = ds.get(owner_kw)
            voi = _item(seq[0], "FrameVOILUTSequence") if seq else None
            if voi is not None:
                center = first_float(get_value(voi, "WindowCenter"))
                width = first_float(get_value(voi, "WindowWidth"))
                break
    return center, width
