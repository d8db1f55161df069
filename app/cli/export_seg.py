"""``caliper export sr``: the DICOM SEG of a timepoint's Smart caliper contours (issue 16).

Beside each timepoint's SR, the contours stored with its semi-automatic measurements are
written as one binary DICOM SEG over their series (``<subject>_<label>_SEG.dcm``), and the
SR references each measurement's segment (:func:`storage.exchange.sr.build_timepoint_sr`,
``segments``).  A timepoint without contours, or whose series is not under ``--images``,
gets no SEG (the SR is written as before).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from storage.exchange.seg import SegContour, SegError, build_seg, segment_references, write_seg
from storage.exchange.sr import SegmentReference


def _series_in_volume_order(images: dict[str, Path], series_uid: str) -> list[pydicom.Dataset]:
    """The series' single-frame images, lowest along the slice normal first (the loader's order)."""
    found: list[tuple[float, Path]] = []
    for path in images.values():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if str(ds.get("SeriesInstanceUID", "")) != series_uid:
                continue
            iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
            position = np.asarray(ds.ImagePositionPatient, dtype=float)
        except (AttributeError, ValueError, OSError, pydicom.errors.InvalidDicomError):
            continue
        found.append((float(position @ np.cross(iop[:3], iop[3:])), path))
    return [pydicom.dcmread(path, stop_before_pixels=True) for _, path in sorted(found)]


def lesion_contours(db: Any, timeline: Any) -> dict[int, list[Any]]:
    """Timepoint id → the lesion contours stored at it (``storage.db`` records)."""
    store = db.read_only_store()
    return {
        tp.id: list(store.segmentations.for_timepoint(tp.id, "lesion"))
        for tp in timeline.timepoints
    }


def write_timepoint_seg(
    contours: dict[int, list[Any]],
    timeline: Any,
    timepoint: Any,
    images: dict[str, Path],
    out: Path,
) -> tuple[Path | None, dict[int, SegmentReference]]:
    """Write the timepoint's lesion contours as a SEG; the SR's references to its segments.

    Returns ``(None, {})`` when there is nothing to write (no contour of a reported
    measurement, or its series' images are not found).
    """
    measured = {m.id: m for m in timeline.measurements if m.timepoint_id == timepoint.id}
    stored = [s for s in contours.get(timepoint.id, []) if s.measurement_id in measured]
    if not stored:
        return None, {}
    series_uid = stored[-1].series_instance_uid
    stored = [s for s in stored if s.series_instance_uid == series_uid]
    source = _series_in_volume_order(images, series_uid)
    if not source:
        return None, {}
    codes = {lesion.id: lesion.code for lesion in timeline.lesions}
    segments = [
        SegContour(
            codes.get(measured[s.measurement_id].lesion_id, "lesion"),
            s.mask.offset,
            s.mask.mask,
            "lesion",
            s.algorithm,
            s.algorithm_version,
        )
        for s in stored
    ]
    try:
        seg = build_seg(source, segments)
    except SegError:
        return None, {}
    path = write_seg(out / f"{timeline.patient.subject_id}_{timepoint.label}_SEG.dcm", seg)
    refs = segment_references(seg, segments, [(s.measurement_id, s.volume_ml) for s in stored])
    return path, refs
