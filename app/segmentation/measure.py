"""From a click to a proposed RECIST measurement: segmentation + diameters + statistics.

The volume is duck-typed (``voxels``, ``spacing_mm``, ``lps_to_index``, ``index_to_lps``,
``sop_instance_uids``, ``series_instance_uid``, optionally ``frame_numbers``), as
``storage.dicom.Volume`` provides.  Points the reader clicks are in patient LPS millimetres.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.segmentation.diameters import recist_diameters
from app.segmentation.errors import SegmentationCancelled, SegmentationError
from app.segmentation.lesion import (
    ALGORITHM,
    ALGORITHM_VERSION,
    Cancelled,
    LesionParameters,
    Progress,
    RegionResult,
    segment_lesion,
    spacing3,
)
from app.segmentation.liver import (
    LIVER_ALGORITHM,
    LIVER_ALGORITHM_VERSION,
    LiverParameters,
    segment_liver,
)
from recist.model import DrawnGeometry, Segment

Point2 = tuple[float, float]

#: A region narrower than this is refused, not proposed: two smoothing widths (1.5 mm), a
#: few voxels of noise or a partial-volume speck, not a lesion edge.  On the demo follow-up
#: a click in the fat beside the pancreas gave 4 voxels, "1.8 x 1.8 mm, 0.5 mL" (a new
#: lesion, so PD), and one voxel beside it 0.8 x 0.8 mm.  Regions the reader edits with the
#: brush are not held to it (``measurement_from_region``).
MIN_LONG_AXIS_MM = 3.0


@dataclass(frozen=True)
class LesionMeasurement:
    """A proposed measurement of one lesion (nothing is stored until the reader accepts it).

    Attributes
    ----------
    long_axis_mm, short_axis_mm : float
        RECIST diameters, rounded to 0.1 mm.
    volume_ml : float
        Partial-volume corrected volume.
    mean_hu, sd_hu : float
        Intensity of the voxels of the mask.
    slice_index : int
        Axial slice of the diameters.
    long_px, short_px : two ``(column, row)`` points each
        End points on that slice, as the viewer's calipers use them.
    region : RegionResult
        The 3-D mask (a box of the volume) and the intensities it was cut between.
    algorithm, algorithm_version : str
    parameters : dict
        Everything needed to reproduce the result (stored with it).
    seconds : float
        Time from the click to the result.
    """

    long_axis_mm: float
    short_axis_mm: float
    volume_ml: float
    mean_hu: float
    sd_hu: float
    slice_index: int
    long_px: tuple[Point2, Point2]
    short_px: tuple[Point2, Point2]
    region: RegionResult = field(repr=False)
    algorithm: str = ALGORITHM
    algorithm_version: str = ALGORITHM_VERSION
    parameters: dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0

    def geometry(self, volume: Any) -> DrawnGeometry:
        """The proposed bidirectional caliper as the session stores it."""
        k = self.slice_index
        uids = list(getattr(volume, "sop_instance_uids", []) or [])
        frames = list(getattr(volume, "frame_numbers", []) or [])
        frame = frames[k] if k < len(frames) and uids.count(uids[k]) > 1 else None
        return DrawnGeometry(
            series_instance_uid=str(volume.series_instance_uid),
            sop_instance_uid=uids[k] if k < len(uids) else "",
            slice_index=k,
            long_axis=_segment(volume, k, self.long_px),
            short_axis=_segment(volume, k, self.short_px),
            frame_number=frame,
        )

    def to_dict(self, volume: Any | None = None) -> dict[str, object]:
        """The ``caliper measure --json`` record."""
        uids = list(getattr(volume, "sop_instance_uids", []) or []) if volume is not None else []
        return {
            "long_axis_mm": self.long_axis_mm,
            "short_axis_mm": self.short_axis_mm,
            "volume_ml": round(self.volume_ml, 2),
            "mean_hu": round(self.mean_hu, 1),
            "sd_hu": round(self.sd_hu, 1),
            "slice_index": self.slice_index,
            "sop_instance_uid": uids[self.slice_index] if self.slice_index < len(uids) else None,
            "algorithm": self.algorithm,
            "algorithm_version": self.algorithm_version,
            "parameters": self.parameters,
            "seconds": round(self.seconds, 3),
        }


def _segment(volume: Any, k: int, pts: tuple[Point2, Point2]) -> Segment:
    (c0, r0), (c1, r1) = pts
    a = volume.index_to_lps(k, r0, c0)
    b = volume.index_to_lps(k, r1, c1)
    return Segment(
        start_px=(c0, r0),
        end_px=(c1, r1),
        start_lps_mm=(float(a[0]), float(a[1]), float(a[2])),
        end_lps_mm=(float(b[0]), float(b[1]), float(b[2])),
    )


def wait_until_loaded(volume: Any, cancelled: Cancelled | None = None) -> None:
    """Block until a series still loading in the background has all its slices.

    Slices not decoded yet hold zeros (``storage.dicom.Volume``): a segmentation started while
    the series loads would take them for 0 HU tissue beside the lesion or the liver.  Polls
    ``cancelled`` every 0.1 s; volumes without ``wait`` (complete ones) return at once.

    Raises
    ------
    SegmentationCancelled
        The reader cancelled while waiting.
    """
    wait = getattr(volume, "wait", None)
    if not callable(wait):
        return
    while not getattr(volume, "is_complete", True):
        if cancelled is not None and cancelled():
            raise SegmentationCancelled("cancelled while the series was loading")
        try:
            wait(0.1)
        except TimeoutError:
            continue


def seed_index(volume: Any, point_lps_mm: tuple[float, float, float]) -> tuple[int, int, int]:
    """The voxel nearest to an LPS point, refused with a clear message when outside the image."""
    k, r, c = (float(v) for v in volume.lps_to_index(*point_lps_mm))
    shape = volume.voxels.shape
    idx = (int(round(k)), int(round(r)), int(round(c)))
    if not all(math.isfinite(v) for v in (k, r, c)) or any(
        not -0.5 <= v < n - 0.5 for v, n in zip((k, r, c), shape, strict=True)
    ):
        x, y, z = point_lps_mm
        raise SegmentationError(
            f"the point ({x:.1f}, {y:.1f}, {z:.1f}) mm LPS is outside the image (it maps to "
            f"slice {k:.1f}, row {r:.1f}, column {c:.1f} of {shape[0]}x{shape[1]}x{shape[2]})"
        )
    return idx


def measure_lesion(
    volume: Any,
    seed: tuple[int, int, int],
    parameters: LesionParameters | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> LesionMeasurement:
    """Segment the lesion at ``seed`` (``(slice, row, column)``) and propose its RECIST caliper.

    Raises
    ------
    SegmentationError
        When the image around the seed cannot be segmented (the message says why), or the
        region found is narrower than :data:`MIN_LONG_AXIS_MM`.
    """
    t0 = time.perf_counter()
    p = parameters or LesionParameters()
    region = segment_lesion(
        volume.voxels, spacing3(volume.spacing_mm), seed, p, progress=progress, cancelled=cancelled
    )
    found = measurement_from_region(volume, region, p.to_dict(), time.perf_counter() - t0)
    if found.long_axis_mm < MIN_LONG_AXIS_MM:
        raise SegmentationError(
            f"the region at the point is only {found.long_axis_mm:.1f} mm across, under the "
            f"{MIN_LONG_AXIS_MM:.0f} mm this method resolves: no lesion edge there (click "
            "inside the lesion, or measure it by hand)"
        )
    return found


def measurement_from_region(
    volume: Any,
    region: RegionResult,
    parameters: dict[str, object],
    seconds: float = 0.0,
    *,
    algorithm: str = ALGORITHM,
    algorithm_version: str = ALGORITHM_VERSION,
) -> LesionMeasurement:
    """Diameters and statistics of a region (a segmentation, or a contour the reader edited)."""
    d = recist_diameters(region.mask, region.spacing_mm)
    k0, r0, c0 = region.offset
    box = tuple(slice(o, o + n) for o, n in zip(region.offset, region.mask.shape, strict=True))
    values = np.asarray(volume.voxels[box])[region.mask].astype(np.float64)

    def px(p: tuple[float, float]) -> Point2:  # (row, column) in the box -> (column, row)
        return (round(p[1] + c0, 3), round(p[0] + r0, 3))

    return LesionMeasurement(
        long_axis_mm=round(d.long_axis_mm, 1),
        short_axis_mm=round(min(d.short_axis_mm, d.long_axis_mm), 1),
        volume_ml=region.volume_ml,
        mean_hu=float(values.mean()) if values.size else float("nan"),
        sd_hu=float(values.std()) if values.size else float("nan"),
        slice_index=d.slice_index + k0,
        long_px=(px(d.long_px[0]), px(d.long_px[1])),
        short_px=(px(d.short_px[0]), px(d.short_px[1])),
        region=region,
        algorithm=algorithm,
        algorithm_version=algorithm_version,
        parameters=parameters,
        seconds=seconds,
    )


@dataclass(frozen=True)
class LiverSegmentation:
    """The liver segmented from a click: its mask (full volume), volume and provenance."""

    region: RegionResult = field(repr=False)
    volume_ml: float
    algorithm: str
    algorithm_version: str
    parameters: dict[str, object]
    seconds: float

    def to_dict(self) -> dict[str, object]:
        """The ``caliper measure --liver --json`` record."""
        return {
            "volume_ml": round(self.volume_ml, 1),
            "algorithm": self.algorithm,
            "algorithm_version": self.algorithm_version,
            "parameters": self.parameters,
            "seconds": round(self.seconds, 3),
        }


def measure_liver(
    volume: Any,
    seed: tuple[int, int, int],
    parameters: LiverParameters | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> LiverSegmentation:
    """Segment the liver from a click inside it."""
    t0 = time.perf_counter()
    p = parameters or LiverParameters()
    region = segment_liver(
        volume.voxels,
        spacing3(volume.spacing_mm),
        seed,
        p,
        progress=progress,
        cancelled=cancelled,
        index_to_lps=getattr(volume, "index_to_lps", None),
    )
    return LiverSegmentation(
        region,
        region.volume_ml,
        LIVER_ALGORITHM,
        LIVER_ALGORITHM_VERSION,
        p.to_dict(),
        time.perf_counter() - t0,
    )
