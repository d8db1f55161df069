"""Reading TID 1500 measurement reports back into lesions and measurements.

Reading is tolerant (highdicom's principle for decoding): any Measurement Group
(DCM 125007) anywhere in the content tree is read, whether it came from Caliper,
OHIF, 3D Slicer/dcmqi or PixelMed.  Long axis, Length and Diameter all count as
the long axis; Short axis as the short axis; other measurements are kept in
``other`` but not turned into records.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from recist.model import (
    DrawnGeometry,
    Lesion,
    LesionKind,
    Measurement,
    MeasurementStatus,
    Segment,
)
from storage.exchange.sr_codes import (
    LONG_AXIS_NAMES,
    RESPONSE_BY_CODE,
    RESPONSE_EVALUATION,
    SHORT_AXIS_NAMES,
    lps_to_pixel,
    organ_name,
    pixel_to_lps,
    status_from_code,
)

MEASUREMENT_GROUP = "125007"
TRACKING_ID = "112039"
TRACKING_UID = "112040"
FINDING_SITE = {"363698007", "G-C0E3"}
FINDING = "121071"
TIME_POINT = {"126070", "C2348792"}
PERSON_OBSERVER = "121008"
TIME_POINT_ORDER = "126073"
_UNIT_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


class SrImportError(ValueError):
    """A file that is not a readable measurement report; the message names it."""


@dataclass(frozen=True)
class Coordinates:
    """End points of a measurement: image pixels (SCOORD) and/or LPS mm (SCOORD3D)."""

    points_px: tuple[tuple[float, float], ...] = ()
    sop_instance_uid: str | None = None
    points_lps: tuple[tuple[float, float, float], ...] = ()
    frame_of_reference_uid: str | None = None
    frame_number: int | None = None  # of a multi-frame source image (ReferencedFrameNumber)


@dataclass(frozen=True)
class SrMeasurement:
    """One NUM content item of a group."""

    name: str
    code: str
    value_mm: float | None
    unit: str
    coordinates: Coordinates = field(default_factory=Coordinates)


@dataclass(frozen=True)
class SrGroup:
    """One measurement group: a lesion at the report's timepoint."""

    tracking_identifier: str | None
    tracking_uid: str | None
    finding_site: str | None
    finding: str | None
    time_point: str | None
    status: MeasurementStatus | None
    long_axis: SrMeasurement | None
    short_axis: SrMeasurement | None
    other: tuple[SrMeasurement, ...] = ()


@dataclass(frozen=True)
class SrReport:
    """What a TID 1500 report says, in Caliper's terms."""

    sop_instance_uid: str
    patient_id: str
    observer: str | None
    time_point: str | None
    groups: tuple[SrGroup, ...]
    series_of_sop: Mapping[str, str] = field(default_factory=dict)
    responses: Mapping[str, str] = field(default_factory=dict)


def read_sr(source: str | Path | Dataset) -> SrReport:
    """Read a TID 1500 report from a file or dataset.

    Raises
    ------
    SrImportError
        When the file cannot be parsed or is not a structured report.
    """
    name = str(source) if not isinstance(source, Dataset) else "<dataset>"
    try:
        ds = source if isinstance(source, Dataset) else pydicom.dcmread(source)
    except (OSError, pydicom.errors.InvalidDicomError) as exc:
        raise SrImportError(f"{name}: not a readable DICOM file ({exc})") from exc
    if getattr(ds, "Modality", None) != "SR" or "ContentSequence" not in ds:
        raise SrImportError(f"{name}: not a DICOM structured report (Modality SR)")
    containers = _find_groups(ds.ContentSequence)
    responses = _responses(containers)
    groups = tuple(_group(item) for item in containers if not _is_response(item))
    observer = next(
        (
            str(i.PersonName)
            for i in ds.ContentSequence
            if _code(i) == PERSON_OBSERVER and "PersonName" in i
        ),
        None,
    )
    root_tp = next(
        (
            str(i.TextValue)
            for i in ds.ContentSequence
            if _code(i) in TIME_POINT and "TextValue" in i
        ),
        None,
    )
    time_point = root_tp or next((g.time_point for g in groups if g.time_point), None)
    return SrReport(
        sop_instance_uid=str(ds.SOPInstanceUID),
        patient_id=str(ds.get("PatientID", "")),
        observer=observer,
        time_point=time_point,
        groups=groups,
        series_of_sop=_series_of_sop(ds),
        responses=responses,
    )


def _code(item: Dataset) -> str | None:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].CodeValue) if seq else None


def _meaning(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].CodeMeaning) if seq else ""


def _find_groups(sequence: pydicom.Sequence) -> list[Dataset]:
    found = []
    for item in sequence:
        if item.get("ValueType") == "CONTAINER" and _code(item) == MEASUREMENT_GROUP:
            found.append(item)
        elif "ContentSequence" in item:
            found += _find_groups(item.ContentSequence)
    return found


def _is_response(container: Dataset) -> bool:
    return any(
        _code(i) == FINDING
        and i.get("ValueType") == "CODE"
        and str(i.ConceptCodeSequence[0].CodeValue) == RESPONSE_EVALUATION.value
        for i in container.get("ContentSequence", [])
    )


def _responses(containers: list[Dataset]) -> dict[str, str]:
    """``{"target": "PR", "non_target": "non-CR/non-PD"}`` from response groups (CID 6144)."""
    found: dict[str, str] = {}
    for container in containers:
        if not _is_response(container):
            continue
        for item in container.get("ContentSequence", []):
            if item.get("ValueType") == "CODE" and "ConceptCodeSequence" in item:
                key = RESPONSE_BY_CODE.get(str(item.ConceptCodeSequence[0].CodeValue))
                if key is not None:
                    found[key[0]] = key[1]
    return found


def _series_of_sop(ds: Dataset) -> dict[str, str]:
    mapping = {}
    for key in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(key, []):
            for series in study.get("ReferencedSeriesSequence", []):
                for sop in series.get("ReferencedSOPSequence", []):
                    mapping[str(sop.ReferencedSOPInstanceUID)] = str(series.SeriesInstanceUID)
    return mapping


def _group(container: Dataset) -> SrGroup:
    values: dict[str, object] = {}
    numbers: list[SrMeasurement] = []
    status = None
    for item in container.get("ContentSequence", []):
        code, vtype = _code(item), item.get("ValueType")
        if code == TRACKING_ID and vtype == "TEXT":
            values["tracking_identifier"] = str(item.TextValue)
        elif code == TRACKING_UID and vtype == "UIDREF":
            values["tracking_uid"] = str(item.UID)
        elif code in FINDING_SITE and vtype == "CODE":
            concept = item.ConceptCodeSequence[0]
            values["finding_site"] = organ_name(str(concept.CodeValue), str(concept.CodeMeaning))
        elif code == FINDING and vtype == "CODE":
            values["finding"] = str(item.ConceptCodeSequence[0].CodeValue)
        elif code in TIME_POINT and vtype == "TEXT" and "time_point" not in values:
            values["time_point"] = str(item.TextValue)
        elif vtype == "CODE" and code == "STATUS":
            status = status_from_code(str(item.ConceptCodeSequence[0].CodeValue))
        elif vtype == "NUM" and code != TIME_POINT_ORDER:
            numbers.append(_number(item))
    long_axis = next((n for n in numbers if n.code in LONG_AXIS_NAMES), None)
    short_axis = next((n for n in numbers if n.code in SHORT_AXIS_NAMES), None)
    other = tuple(n for n in numbers if n is not long_axis and n is not short_axis)
    return SrGroup(
        tracking_identifier=values.get("tracking_identifier"),  # type: ignore[arg-type]
        tracking_uid=values.get("tracking_uid"),  # type: ignore[arg-type]
        finding_site=values.get("finding_site"),  # type: ignore[arg-type]
        finding=values.get("finding"),  # type: ignore[arg-type]
        time_point=values.get("time_point"),  # type: ignore[arg-type]
        status=status,
        long_axis=long_axis,
        short_axis=short_axis,
        other=other,
    )


def _number(item: Dataset) -> SrMeasurement:
    value: float | None = None
    unit = ""
    measured = item.get("MeasuredValueSequence")
    if measured:
        unit = str(measured[0].MeasurementUnitsCodeSequence[0].CodeValue)
        value = float(measured[0].NumericValue)
        if unit in _UNIT_TO_MM:
            value *= _UNIT_TO_MM[unit]
    coords = Coordinates()
    for child in item.get("ContentSequence", []):
        vtype = child.get("ValueType")
        data = [float(v) for v in child.get("GraphicData", [])]
        if vtype == "SCOORD":
            sop, frame_number = None, None
            for image in child.get("ContentSequence", []):
                for ref in image.get("ReferencedSOPSequence", []):
                    sop = str(ref.ReferencedSOPInstanceUID)
                    frames = ref.get("ReferencedFrameNumber")
                    if frames is not None and str(frames).strip():
                        frame_number = int(frames[0] if isinstance(frames, MultiValue) else frames)
            points = tuple((data[i], data[i + 1]) for i in range(0, len(data) - 1, 2))
            coords = Coordinates(points, sop, coords.points_lps, coords.frame_of_reference_uid,
                                 frame_number)
        elif vtype == "SCOORD3D":
            points3 = tuple((data[i], data[i + 1], data[i + 2]) for i in range(0, len(data) - 2, 3))
            frame = child.get("ReferencedFrameOfReferenceUID")
            coords = Coordinates(
                coords.points_px, coords.sop_instance_uid, points3, str(frame) if frame else None,
                coords.frame_number,
            )
    return SrMeasurement(
        name=_meaning(item), code=_code(item) or "", value_mm=value, unit=unit, coordinates=coords
    )


def _kind(group: SrGroup) -> LesionKind:
    if group.finding == "112075":
        return LesionKind.NON_TARGET
    code = (group.tracking_identifier or "").upper()
    if code.startswith("NT"):
        return LesionKind.NON_TARGET
    if code.startswith("N") and code[1:].isdigit():
        return LesionKind.NEW
    return LesionKind.TARGET


def group_to_records(
    group: SrGroup,
    report: SrReport,
    *,
    images: Mapping[str, Dataset] | None = None,
    slice_of_sop: Mapping[str, int] | None = None,
    index: int = 1,
) -> tuple[Lesion, Measurement]:
    """Turn one group into a Lesion and its Measurement (ids None, not stored).

    Parameters
    ----------
    group, report
        From :func:`read_sr`.
    images
        Source images by SOP Instance UID; used to fill in pixel or LPS end points
        that the report gives only in the other space.
    slice_of_sop
        Slice index of each SOP Instance UID in its loaded series (0 if unknown).
    index
        Used for a lesion code when the report has no tracking identifier.
    """
    kind = _kind(group)
    code = group.tracking_identifier or f"SR{index}"
    nodal = (group.finding_site or "") == "lymph node"
    lesion = Lesion(
        id=None,
        patient_id=None,
        code=code[:32],
        kind=kind,
        organ=group.finding_site or "unknown",
        tracking_uid=group.tracking_uid or f"2.25.{uuid.uuid4().int}",
        nodal=nodal,
    )
    long_mm = _round(group.long_axis.value_mm) if group.long_axis else None
    short_mm = _round(group.short_axis.value_mm) if group.short_axis else None
    status = group.status or (
        MeasurementStatus.MEASURED
        if long_mm is not None or short_mm is not None
        else MeasurementStatus.PRESENT
    )
    geometry = _geometry(group, report, images or {}, slice_of_sop or {})
    measurement = Measurement(
        id=None,
        lesion_id=None,
        timepoint_id=None,
        reader_id=None,
        status=status,
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        geometry=geometry,
        note=f"imported from SR {report.sop_instance_uid}",
    )
    return lesion, measurement


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _segment(m: SrMeasurement | None, images: Mapping[str, Dataset]) -> Segment | None:
    if m is None:
        return None
    c = m.coordinates
    image = images.get(c.sop_instance_uid or "")
    px = [(x - 0.5, y - 0.5) for x, y in c.points_px[:2]]
    lps = list(c.points_lps[:2])
    if len(px) == 2 and len(lps) < 2 and image is not None:
        lps = [pixel_to_lps(image, *p) for p in px]
    if len(lps) == 2 and len(px) < 2 and image is not None:
        px = [lps_to_pixel(image, p) for p in lps]
    if len(px) < 2 or len(lps) < 2:
        return None
    return Segment(px[0], px[1], lps[0], lps[1])


def _geometry(
    group: SrGroup, report: SrReport, images: Mapping[str, Dataset], slice_of_sop: Mapping[str, int]
) -> DrawnGeometry | None:
    long_seg = _segment(group.long_axis, images)
    if long_seg is None or group.long_axis is None:
        return None
    sop = group.long_axis.coordinates.sop_instance_uid
    image = images.get(sop or "")
    series = report.series_of_sop.get(sop or "") or (
        str(image.SeriesInstanceUID) if image is not None else None
    )
    if not sop or not series:
        return None
    return DrawnGeometry(
        series_instance_uid=series,
        sop_instance_uid=sop,
        slice_index=slice_of_sop.get(sop, 0),
        long_axis=long_seg,
        short_axis=_segment(group.short_axis, images),
        frame_number=group.long_axis.coordinates.frame_number,
    )


def records_from_sr(
    report: SrReport,
    *,
    images: Mapping[str, Dataset] | None = None,
    slice_of_sop: Mapping[str, int] | None = None,
) -> list[tuple[Lesion, Measurement]]:
    """All groups of a report as (Lesion, Measurement) pairs; see :func:`group_to_records`."""
    return [
        group_to_records(g, report, images=images, slice_of_sop=slice_of_sop, index=i)
        for i, g in enumerate(report.groups, start=1)
    ]
