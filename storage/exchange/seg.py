"""DICOM Segmentation (SEG) out and in: lesion and liver contours as binary segments (highdicom).

Export: :func:`build_seg` turns contours (boolean mask boxes of a series' voxel grid, as
``storage.db.segmentations.MaskBox`` or anything with ``offset`` and ``mask``) into one binary
SEG instance referencing the series' images, one segment per contour (a lesion is
``Neoplasm`` / its code, the liver ``Liver``), with the algorithm that made it (SEMIAUTOMATIC).
Import: :func:`read_seg` maps every segment of a SEG file back onto a series (by the referenced
SOP Instance UIDs of its frames) as :class:`ImportedContour` mask boxes.

Errors name the file and what is wrong (:class:`SegError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from storage.exchange.sr import SegmentReference

#: What this software calls itself in the SEG (Manufacturer / algorithm family).
MANUFACTURER = "Caliper"


class SegError(ValueError):
    """A DICOM SEG could not be written or read (the message names the file and the problem)."""


@dataclass(frozen=True)
class SegContour:
    """One contour to export.

    Attributes
    ----------
    label : str
        Segment label (e.g. the lesion code ``T1`` or ``liver``).
    offset : tuple of int
        ``(slice, row, column)`` of the mask's first voxel in the series.
    mask : numpy.ndarray
        Boolean ``(slices, rows, columns)``.
    kind : str
        ``lesion`` or ``liver``.
    algorithm : str
        Name of the algorithm, ``algorithm_version`` its version.
    """

    label: str
    offset: tuple[int, int, int]
    mask: np.ndarray = field(repr=False)
    kind: str = "lesion"
    algorithm: str = "caliper"
    algorithm_version: str = "1.0"


@dataclass(frozen=True)
class ImportedContour:
    """A segment of a SEG file mapped onto a series (slice index = position in the series)."""

    label: str
    segment_number: int
    offset: tuple[int, int, int]
    mask: np.ndarray = field(repr=False)
    property_type: str = ""


def _category_type(kind: str) -> tuple[Any, Any]:
    if kind == "liver":
        return codes.SCT.Organ, codes.SCT.Liver
    return codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Neoplasm


def build_seg(
    source_images: Sequence[pydicom.Dataset],
    contours: Sequence[SegContour],
    *,
    series_number: int = 901,
    content_label: str = "CALIPER",
) -> hd.seg.Segmentation:
    """A binary SEG of ``contours`` over ``source_images`` (the series' slices, in volume order).

    Raises
    ------
    SegError
        No images or contours, a contour outside the series, or an image of another size.
    """
    if not source_images:
        raise SegError("a DICOM SEG needs the source images of the series; none were given")
    if not contours:
        raise SegError("a DICOM SEG needs at least one contour; none were given")
    rows, cols = int(source_images[0].Rows), int(source_images[0].Columns)
    n = len(source_images)
    pixels = np.zeros((n, rows, cols, len(contours)), dtype=np.uint8)
    descriptions = []
    for i, c in enumerate(contours, start=1):
        k0, r0, c0 = (int(v) for v in c.offset)
        dk, dr, dc = c.mask.shape
        if k0 < 0 or r0 < 0 or c0 < 0 or k0 + dk > n or r0 + dr > rows or c0 + dc > cols:
            raise SegError(
                f"contour {c.label!r} (offset {c.offset}, shape {c.mask.shape}) lies outside the "
                f"series ({n} images of {rows}x{cols})"
            )
        pixels[k0 : k0 + dk, r0 : r0 + dr, c0 : c0 + dc, i - 1] = c.mask.astype(np.uint8)
        category, kind = _category_type(c.kind)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=i,
                segment_label=c.label[:64] or f"segment {i}",
                segmented_property_category=category,
                segmented_property_type=kind,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
                algorithm_identification=hd.AlgorithmIdentificationSequence(
                    name=c.algorithm[:64],
                    version=c.algorithm_version[:64],
                    # region growing from a seed's neighbourhood, thresholds, morphology (CID 7162)
                    family=codes.cid7162.NeighborhoodAnalysis,
                ),
            )
        )
    try:
        return hd.seg.Segmentation(
            source_images=list(source_images),
            pixel_array=pixels,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=hd.UID(),
            series_number=series_number,
            sop_instance_uid=hd.UID(),
            instance_number=1,
            manufacturer=MANUFACTURER,
            manufacturer_model_name="Caliper workstation",
            software_versions="1.0",
            device_serial_number="0",
            content_label=content_label,
            omit_empty_frames=True,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise SegError(f"could not build the DICOM SEG: {exc}") from exc


def segment_references(
    seg: hd.seg.Segmentation,
    contours: Sequence[SegContour],
    measurements: Sequence[tuple[int, float]],
) -> dict[int, SegmentReference]:
    """Measurement id → its segment in ``seg`` (built by :func:`build_seg` from ``contours``).

    ``measurements`` pairs each contour, in the same order, with the id of the measurement it
    belongs to and its volume (mL); the SR then references the segment from that
    measurement's lesion (:func:`storage.exchange.sr.build_timepoint_sr`, ``segments``).
    """
    if len(measurements) != len(contours):
        raise SegError(
            f"{len(contours)} contours but {len(measurements)} measurements to link them to"
        )
    source_series = str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)
    return {
        measurement_id: SegmentReference(
            sop_class_uid=str(seg.SOPClassUID),
            sop_instance_uid=str(seg.SOPInstanceUID),
            segment_number=number,
            source_series_uid=source_series,
            volume_ml=float(volume_ml),
            algorithm=c.algorithm,
            algorithm_version=c.algorithm_version,
            study_instance_uid=str(seg.StudyInstanceUID),
            series_instance_uid=str(seg.SeriesInstanceUID),
        )
        for number, (c, (measurement_id, volume_ml)) in enumerate(
            zip(contours, measurements, strict=True), start=1
        )
    }


def write_seg(path: str | Path, seg: hd.seg.Segmentation) -> Path:
    """Write ``seg`` to ``path``; returns the path."""
    out = Path(path)
    try:
        seg.save_as(out)
    except OSError as exc:
        raise SegError(f"cannot write {out}: {exc}") from exc
    return out


def read_seg(path: str | Path, sop_instance_uids: Sequence[str]) -> list[ImportedContour]:
    """The segments of a SEG file as mask boxes over a series.

    Parameters
    ----------
    path
        The SEG file.
    sop_instance_uids
        SOP Instance UID of every slice of the series, in volume order.

    Raises
    ------
    SegError
        Not a readable SEG, or none of its frames refers to an image of the series.
    """
    p = Path(path)
    try:
        ds = pydicom.dcmread(p)
    except (OSError, pydicom.errors.InvalidDicomError) as exc:
        raise SegError(f"{p}: not a readable DICOM file ({exc})") from exc
    if getattr(ds, "Modality", "") != "SEG" or "SegmentSequence" not in ds:
        raise SegError(f"{p}: not a DICOM Segmentation (Modality {getattr(ds, 'Modality', '?')})")
    try:
        seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
        referenced = {str(uid) for _, _, uid in seg.get_source_image_uids()}
        wanted = [uid for uid in sop_instance_uids if uid in referenced]
        if not wanted:
            raise SegError(f"{p}: none of its frames refers to an image of this series")
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=wanted,
            segment_numbers=list(seg.get_segment_numbers()),
            dtype=np.uint8,
            # frames name their source image; dcmqi's omit SpatialLocationsPreserved
            ignore_spatial_locations=True,
        )
    except SegError:
        raise
    except Exception as exc:  # noqa: BLE001 - highdicom/pydicom raise many kinds for bad files
        raise SegError(f"{p}: its segments cannot be read ({exc})") from exc
    index = {uid: i for i, uid in enumerate(sop_instance_uids)}
    slices = [index[uid] for uid in wanted]
    rows, cols = pixels.shape[1], pixels.shape[2]
    masks: dict[int, np.ndarray] = {}
    for j, number in enumerate(seg.get_segment_numbers()):
        full = np.zeros((len(sop_instance_uids), rows, cols), dtype=bool)
        full[slices] = pixels[..., j].astype(bool)
        masks[int(number)] = full
    labels = {int(s.SegmentNumber): s for s in ds.SegmentSequence}
    out = []
    for number, full in sorted(masks.items()):
        nz = np.nonzero(full)
        if not len(nz[0]):
            continue
        lo = [int(a.min()) for a in nz]
        hi = [int(a.max()) + 1 for a in nz]
        segment = labels.get(number)
        prop = ""
        if segment is not None and "SegmentedPropertyTypeCodeSequence" in segment:
            prop = str(segment.SegmentedPropertyTypeCodeSequence[0].CodeMeaning)
        out.append(
            ImportedContour(
                label=str(getattr(segment, "SegmentLabel", f"segment {number}")),
                segment_number=number,
                offset=(lo[0], lo[1], lo[2]),
                mask=full[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].copy(),
                property_type=prop,
            )
        )
    return out
