"""Per-frame geometry and rescale of classic and enhanced multi-frame headers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset

from storage.dicom.records import FrameHeader
from storage.dicom.values import Header, first_float, floats, get_value


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
            frames.append(FrameHeader(
                index=i,
                position=floats(value("PlanePositionSequence", "ImagePositionPatient"), 3,
                                 "ImagePositionPatient"),
                orientation=floats(value("PlaneOrientationSequence", "ImageOrientationPatient")
                                    or get_value(ds, "ImageOrientationPatient"), 6,
                                    "ImageOrientationPatient"),
                pixel_spacing=floats(value("PixelMeasuresSequence", "PixelSpacing")
                                      or get_value(ds, "PixelSpacing"), 2, "PixelSpacing"),
                slope=slope if slope is not None else (top_slope or 1.0),
                intercept=icpt if icpt is not None else (top_icpt or 0.0),
                slice_thickness=first_float(value("PixelMeasuresSequence", "SliceThickness")),
            ))
        return tuple(frames)
    position = floats(get_value(ds, "ImagePositionPatient"), 3, "ImagePositionPatient")
    orientation = floats(get_value(ds, "ImageOrientationPatient"), 6, "ImageOrientationPatient")
    spacing = floats(get_value(ds, "PixelSpacing") or get_value(ds, "ImagerPixelSpacing"), 2,
                     "PixelSpacing")
    offsets = get_value(ds, "GridFrameOffsetVector")
    frames = []
    for i in range(n_frames):
        pos = position if i == 0 else None
        if position is not None and orientation is not None and offsets and i < len(offsets):
            normal = _cross(orientation[:3], orientation[3:])
            d = float(offsets[i])
            pos = (position[0] + d * normal[0], position[1] + d * normal[1],
                   position[2] + d * normal[2])
        frames.append(FrameHeader(
            index=i, position=pos, orientation=orientation, pixel_spacing=spacing,
            slope=top_slope if top_slope is not None else 1.0,
            intercept=top_icpt if top_icpt is not None else 0.0,
            slice_thickness=first_float(get_value(ds, "SliceThickness")),
        ))
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
