"""Reading TID 1500 measurement reports back into lesions and measurements.

Reading is tolerant (highdicom's principle for decoding): any Measurement Group
(DCM 125007) anywhere in the content tree is read, whether it came from Caliper,
OHIF, 3D Slicer/dcmqi or PixelMed.  Long axis, Length and Diameter all count as
the long axis; Short axis as the short axis; other measurements are kept in
``other`` but not turned into records.

A Long or Short axis carrying a TID 4019 Algorithm Identification (:class:`SrAlgorithm`) and
a group whose Comment says ``Measurement method: semi-automatic...`` (Caliper's SRs, see
:mod:`storage.exchange.sr`) are imported as ``Method.SEMI_AUTO`` measurements, with that
sentence in the measurement's note.

Turning groups into records is strict: a group becomes a target, a non-target
or a new lesion only from an explicit code (Target / Non-Target Lesion at
Baseline of CID 6145, Caliper's New lesion); every other group is listed in
:func:`skipped_groups` with the reason, never guessed into the sum.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
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
    Method,
    Segment,
)
from recist.organs import is_lymph_node
from storage.exchange.sr_codes import (
    ALGORITHM_NAME,
    ALGORITHM_PARAMETERS,
    ALGORITHM_VERSION,
    ANATOMIC_IDENTIFIER,
    BEST_OVERALL_RESPONSE,
    BODY_STRUCTURE,
    COALESCED_INTO,
    COMMENT,
    EQUIVOCAL,
    FRAGMENT,
    IRECIST_RESPONSE,
    KIND_OF_FINDING,
    LONG_AXIS_NAMES,
    MEASUREMENT_METHOD_PREFIX,
    NEW_LESIONS_FINDING,
    OVERALL_BY_CODE,
    OVERALL_RESPONSE,
    PRESENT,
    RESPONSE_BY_CODE,
    RESPONSE_EVALUATION,
    SHORT_AXIS_NAMES,
    STATUS_NAME,
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
SUBJECT_TIME_POINT = "126072"
PROTOCOL_TIME_POINT = "126071"
PERSON_OBSERVER = "121008"
LOGIN_NAME = "128774"
TIME_POINT_ORDER = "126073"
IMAGE_LIBRARY = "111028"
IMAGE_MODALITY = "121139"
IMAGE_SLICE_THICKNESS = "112225"
_UNIT_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0}
_OLD_NEW_LESION = "52988006"  # Caliper's SRs before the New lesion code


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
class SrAlgorithm:
    """The TID 4019 Algorithm Identification of a measurement: the algorithm produced it."""

    name: str
    version: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class SrMeasurement:
    """One NUM content item of a group."""

    name: str
    code: str
    value_mm: float | None
    unit: str
    coordinates: Coordinates = field(default_factory=Coordinates)
    algorithm: SrAlgorithm | None = None


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
    finding_meaning: str = ""
    kind: LesionKind | None = None
    location: str = ""
    equivocal: bool = False
    fragments_mm: tuple[float, ...] = ()
    coalesced_into: str | None = None
    method: str | None = None
    measurement_method: str = ""

    @property
    def semi_automatic(self) -> bool:
        """An algorithm proposed the measurement (its diameters name the algorithm, or the
        group's Comment says ``Measurement method: semi-automatic``)."""
        named = any(n is not None and n.algorithm for n in (self.long_axis, self.short_axis))
        return named or self.measurement_method.startswith("semi-automatic")


@dataclass(frozen=True)
class SrClinicalTrial:
    """The Clinical Trial Subject and Study modules of a report (empty strings if absent)."""

    sponsor: str = ""
    protocol_id: str = ""
    site_id: str = ""
    site_name: str = ""
    subject_id: str = ""
    time_point_id: str = ""


@dataclass(frozen=True)
class SrVerification:
    """Who verified a report (VERIFIED documents only)."""

    observer_name: str
    organization: str
    datetime: str


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
    patient_name: str = ""
    study_instance_uid: str = ""
    study_date: date | None = None
    observer_login: str | None = None
    clinical_trial: SrClinicalTrial = field(default_factory=SrClinicalTrial)
    verification: SrVerification | None = None
    preliminary: str = ""
    completion: str = ""
    predecessors: tuple[str, ...] = ()
    time_point_order: int | None = None
    cycle: int | None = None
    observation_date: date | None = None
    evidence_series: tuple[str, ...] = ()
    image_library: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


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
    except (OSError, pydicom.errors.InvalidDicomError, ValueError, EOFError) as exc:
        raise SrImportError(f"{name}: not a readable DICOM file ({exc})") from exc
    if getattr(ds, "Modality", None) != "SR" or "ContentSequence" not in ds:
        raise SrImportError(f"{name}: not a DICOM structured report (Modality SR)")
    try:
        return _report(ds)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise SrImportError(f"{name}: a damaged structured report ({exc!r})") from exc


def _report(ds: Dataset) -> SrReport:
    containers = _find_groups(ds.ContentSequence)
    groups = tuple(_group(item) for item in containers if not _is_response(item))
    root = ds.ContentSequence
    observer = next(
        (str(i.PersonName) for i in root if _code(i) == PERSON_OBSERVER and "PersonName" in i),
        None,
    )
    login = next(
        (str(i.TextValue) for i in root if _code(i) == LOGIN_NAME and "TextValue" in i), None
    )
    root_tp = next(
        (str(i.TextValue) for i in root if _code(i) in TIME_POINT and "TextValue" in i), None
    )
    time_point = root_tp or next((g.time_point for g in groups if g.time_point), None)
    order, cycle = _time_point_numbers(containers)
    series_of_sop = _series_of_sop(ds)
    return SrReport(
        sop_instance_uid=str(ds.SOPInstanceUID),
        patient_id=str(ds.get("PatientID", "")),
        observer=observer,
        time_point=time_point,
        groups=groups,
        series_of_sop=series_of_sop,
        responses=_responses(containers),
        patient_name=str(ds.get("PatientName", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        study_date=_date(ds.get("StudyDate")),
        observer_login=login,
        clinical_trial=SrClinicalTrial(
            *(
                str(ds.get(k, "") or "")
                for k in (
                    "ClinicalTrialSponsorName",
                    "ClinicalTrialProtocolID",
                    "ClinicalTrialSiteID",
                    "ClinicalTrialSiteName",
                    "ClinicalTrialSubjectID",
                    "ClinicalTrialTimePointID",
                )
            )
        ),
        verification=_verification(ds),
        preliminary=str(ds.get("PreliminaryFlag", "")),
        completion=str(ds.get("CompletionFlag", "")),
        predecessors=tuple(
            str(sop.ReferencedSOPInstanceUID)
            for study in ds.get("PredecessorDocumentsSequence", [])
            for series in study.get("ReferencedSeriesSequence", [])
            for sop in series.get("ReferencedSOPSequence", [])
        ),
        time_point_order=order,
        cycle=cycle,
        observation_date=next(
            (d for c in containers if (d := _date(c.get("ObservationDateTime")))), None
        ),
        evidence_series=tuple(dict.fromkeys(series_of_sop.values())),
        image_library=_image_library(root),
    )


def _acquisition(items: Sequence[Dataset] | None) -> dict[str, object]:
    """Modality and slice thickness (mm) among Image Library acquisition context items."""
    found: dict[str, object] = {}
    for item in items or []:
        code = _code(item)
        if code == IMAGE_MODALITY and item.get("ConceptCodeSequence"):
            found["modality"] = _value(item)
        elif code == IMAGE_SLICE_THICKNESS and item.get("MeasuredValueSequence"):
            found["slice_thickness_mm"] = float(item.MeasuredValueSequence[0].NumericValue)
    return found


def _image_library(root: pydicom.Sequence) -> dict[str, dict[str, object]]:
    """``{sop_uid: {"modality", "slice_thickness_mm"}}`` from the Image Library (TID 1600)."""
    entries: dict[str, dict[str, object]] = {}
    for library in root:
        if _code(library) != IMAGE_LIBRARY:
            continue
        for group in library.get("ContentSequence", []):
            common = _acquisition(group.get("ContentSequence", []))
            for image in group.get("ContentSequence", []):
                if image.get("ValueType") != "IMAGE":
                    continue
                for ref in image.get("ReferencedSOPSequence", []):
                    entries[str(ref.ReferencedSOPInstanceUID)] = {
                        **common,
                        **_acquisition(image.get("ContentSequence", [])),
                    }
    return entries


def _date(value: object) -> date | None:
    text = str(value or "").strip()[:8]
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _verification(ds: Dataset) -> SrVerification | None:
    if ds.get("VerificationFlag") != "VERIFIED" or not ds.get("VerifyingObserverSequence"):
        return None
    item = ds.VerifyingObserverSequence[0]
    return SrVerification(
        str(item.get("VerifyingObserverName", "")),
        str(item.get("VerifyingOrganization", "")),
        str(item.get("VerificationDateTime", "")),
    )


def _time_point_numbers(containers: list[Dataset]) -> tuple[int | None, int | None]:
    """(Time Point Order, cycle from a ``cycle N`` Protocol Time Point Identifier)."""
    order = cycle = None
    for container in containers:
        for item in container.get("ContentSequence", []):
            code = _code(item)
            if code == TIME_POINT_ORDER and item.get("MeasuredValueSequence") and order is None:
                order = int(float(item.MeasuredValueSequence[0].NumericValue))
            elif code == PROTOCOL_TIME_POINT and "TextValue" in item and cycle is None:
                words = str(item.TextValue).split()
                if len(words) == 2 and words[0] == "cycle" and words[1].isdigit():
                    cycle = int(words[1])
    return order, cycle


def _code(item: Dataset) -> str | None:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].CodeValue) if seq else None


def _meaning(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].CodeMeaning) if seq else ""


def _value(item: Dataset) -> str | None:
    seq = item.get("ConceptCodeSequence")
    return str(seq[0].CodeValue) if seq else None


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
        and _value(i) == RESPONSE_EVALUATION.value
        for i in container.get("ContentSequence", [])
    )


def _responses(containers: list[Dataset]) -> dict[str, str]:
    """The timepoint's responses from response groups, in the engine's words.

    Keys: ``target``, ``non_target`` (CID 6144), ``overall``, ``irecist``,
    ``best_overall_response``, ``new_lesions`` (``"yes"``/``"no"``), ``reason``.
    """
    named = {
        OVERALL_RESPONSE.value: "overall",
        IRECIST_RESPONSE.value: "irecist",
        BEST_OVERALL_RESPONSE.value: "best_overall_response",
    }
    found: dict[str, str] = {}
    for container in containers:
        if not _is_response(container):
            continue
        for item in container.get("ContentSequence", []):
            code, value = _code(item), _value(item)
            if item.get("ValueType") == "TEXT" and code == COMMENT.value:
                found["reason"] = str(item.TextValue)
            if item.get("ValueType") != "CODE" or value is None:
                continue
            if value in RESPONSE_BY_CODE:
                key = RESPONSE_BY_CODE[value]
                found[key[0]] = key[1]
            elif code in named and value in OVERALL_BY_CODE:
                found[named[code]] = OVERALL_BY_CODE[value]
            elif code == NEW_LESIONS_FINDING.value:
                found["new_lesions"] = "yes" if value == PRESENT.value else "no"
    return found


def _series_of_sop(ds: Dataset) -> dict[str, str]:
    mapping = {}
    for key in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(key, []):
            for series in study.get("ReferencedSeriesSequence", []):
                for sop in series.get("ReferencedSOPSequence", []):
                    mapping[str(sop.ReferencedSOPInstanceUID)] = str(series.SeriesInstanceUID)
    return mapping


def _group(container: Dataset) -> SrGroup:  # noqa: C901 - one branch per content item kind
    values: dict[str, str | None] = {}
    numbers: list[SrMeasurement] = []
    status = None
    equivocal = False
    site_is_body_structure = False
    identifiers: list[str] = []
    for item in container.get("ContentSequence", []):
        code, vtype = _code(item), item.get("ValueType")
        if code == TRACKING_ID and vtype == "TEXT":
            values["tracking_identifier"] = str(item.TextValue)
        elif code == TRACKING_UID and vtype == "UIDREF":
            values["tracking_uid"] = str(item.UID)
        elif code in FINDING_SITE and vtype == "CODE":
            concept = item.ConceptCodeSequence[0]
            site_is_body_structure = str(concept.CodeValue) == BODY_STRUCTURE.value
            values["finding_site"] = organ_name(str(concept.CodeValue), str(concept.CodeMeaning))
        elif code == FINDING and vtype == "CODE":
            values["finding"] = str(item.ConceptCodeSequence[0].CodeValue)
            values["finding_meaning"] = str(item.ConceptCodeSequence[0].CodeMeaning)
        elif code == "370129005" and vtype == "CODE":  # Measurement Method
            values["method"] = _value(item)
        elif code in TIME_POINT and vtype == "TEXT" and "time_point" not in values:
            values["time_point"] = str(item.TextValue)
        elif vtype == "CODE" and code in (STATUS_NAME.value, "STATUS"):
            value = _value(item) or ""
            if value == EQUIVOCAL.value:
                equivocal = True
            else:
                status = status_from_code(value)
        elif vtype == "TEXT" and code == ANATOMIC_IDENTIFIER.value:
            identifiers.append(str(item.TextValue))
        elif vtype == "TEXT" and code == COALESCED_INTO.value:
            values["coalesced_into"] = str(item.TextValue)
        elif vtype == "TEXT" and code == COMMENT.value:
            text = str(item.TextValue)
            if text.startswith(MEASUREMENT_METHOD_PREFIX):
                values["measurement_method"] = text[len(MEASUREMENT_METHOD_PREFIX) :]
        elif vtype == "NUM" and code != TIME_POINT_ORDER:
            numbers.append(_number(item))
    organ = values.get("finding_site")
    if site_is_body_structure and identifiers and identifiers[0].startswith("organ: "):
        organ = identifiers.pop(0)[len("organ: ") :]
    long_axis = next((n for n in numbers if n.code in LONG_AXIS_NAMES), None)
    short_axis = next((n for n in numbers if n.code in SHORT_AXIS_NAMES), None)
    fragments = tuple(n.value_mm for n in numbers if n.code == FRAGMENT.value and n.value_mm)
    other = tuple(
        n
        for n in numbers
        if n is not long_axis and n is not short_axis and n.code != FRAGMENT.value
    )
    finding = values.get("finding")
    return SrGroup(
        tracking_identifier=values.get("tracking_identifier"),
        tracking_uid=values.get("tracking_uid"),
        finding_site=organ,
        finding=finding,
        time_point=values.get("time_point"),
        status=status,
        long_axis=long_axis,
        short_axis=short_axis,
        other=other,
        finding_meaning=str(values.get("finding_meaning", "")),
        kind=_kind(str(finding or ""), values.get("method"), values.get("tracking_identifier")),
        location="; ".join(identifiers),
        equivocal=equivocal,
        fragments_mm=fragments,
        coalesced_into=values.get("coalesced_into"),
        method=values.get("method"),
        measurement_method=values.get("measurement_method") or "",
    )


def _kind(finding: str, method: object, tracking_identifier: object) -> LesionKind | None:
    """The RECIST category, from explicit codes only (see the module docstring)."""
    if finding in KIND_OF_FINDING:
        return KIND_OF_FINDING[finding]
    # Caliper's own reports before the New lesion code: SCT Lesion + RECIST 1.1 + "N<k>"
    code = str(tracking_identifier or "")
    if (
        finding == _OLD_NEW_LESION
        and method == "126081"
        and code.startswith("N")
        and code[1:].isdigit()
    ):
        return LesionKind.NEW
    return None


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
    algorithm: dict[str, list[str]] = {}
    for child in item.get("ContentSequence", []):
        vtype = child.get("ValueType")
        data = [float(v) for v in child.get("GraphicData", [])]
        if vtype == "TEXT" and _code(child) in _ALGORITHM_ITEMS:
            algorithm.setdefault(str(_code(child)), []).append(str(child.get("TextValue", "")))
        elif vtype == "SCOORD":
            sop, frame_number = None, None
            for image in child.get("ContentSequence", []):
                for ref in image.get("ReferencedSOPSequence", []):
                    sop = str(ref.ReferencedSOPInstanceUID)
                    frames = ref.get("ReferencedFrameNumber")
                    if frames is not None and str(frames).strip():
                        frame_number = int(frames[0] if isinstance(frames, MultiValue) else frames)
            points = tuple((data[i], data[i + 1]) for i in range(0, len(data) - 1, 2))
            coords = Coordinates(
                points, sop, coords.points_lps, coords.frame_of_reference_uid, frame_number
            )
        elif vtype == "SCOORD3D":
            points3 = tuple((data[i], data[i + 1], data[i + 2]) for i in range(0, len(data) - 2, 3))
            frame = child.get("ReferencedFrameOfReferenceUID")
            coords = Coordinates(
                coords.points_px,
                coords.sop_instance_uid,
                points3,
                str(frame) if frame else None,
                coords.frame_number,
            )
    names = algorithm.get(ALGORITHM_NAME.value)
    return SrMeasurement(
        name=_meaning(item),
        code=_code(item) or "",
        value_mm=value,
        unit=unit,
        coordinates=coords,
        algorithm=SrAlgorithm(
            names[0],
            (algorithm.get(ALGORITHM_VERSION.value) or [""])[0],
            tuple(algorithm.get(ALGORITHM_PARAMETERS.value, [])),
        )
        if names
        else None,
    )


_ALGORITHM_ITEMS = {ALGORITHM_NAME.value, ALGORITHM_VERSION.value, ALGORITHM_PARAMETERS.value}


def skip_reason(group: SrGroup) -> str | None:
    """Why a group is not imported (None when it becomes a lesion)."""
    name = group.tracking_identifier or "(no tracking identifier)"
    if group.kind is None:
        finding = (
            f"finding {group.finding_meaning or group.finding!r}"
            if group.finding
            else "no finding type"
        )
        return (
            f"group {name!r}: {finding} is no RECIST category (Target or Non-Target Lesion "
            "at Baseline, New lesion)"
        )
    if (
        group.kind is LesionKind.TARGET
        and group.long_axis is None
        and group.short_axis is None
        and group.status in (None, MeasurementStatus.MEASURED, MeasurementStatus.PRESENT)
    ):
        return f"group {name!r}: a target lesion without a diameter or status"
    return None


def skipped_groups(report: SrReport) -> list[str]:
    """One line per group that :func:`records_from_sr` leaves out, with the reason."""
    return [reason for g in report.groups if (reason := skip_reason(g)) is not None]


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
        From :func:`read_sr`; ``group.kind`` must be set (see :func:`skip_reason`).
    images
        Source images by SOP Instance UID; used to fill in pixel or LPS end points
        that the report gives only in the other space.
    slice_of_sop
        Slice index of each SOP Instance UID in its loaded series (0 if unknown).
    index
        Used for a lesion code when the report has no tracking identifier.

    Raises
    ------
    SrImportError
        When the group has no RECIST category.
    """
    if group.kind is None:
        raise SrImportError(skip_reason(group) or "group without a RECIST category")
    code = group.tracking_identifier or f"SR{index}"
    organ = group.finding_site or "unknown"
    lesion = Lesion(
        id=None,
        patient_id=None,
        code=code[:32],
        kind=group.kind,
        organ=organ,
        tracking_uid=group.tracking_uid or f"2.25.{uuid.uuid4().int}",
        location=group.location,
        nodal=is_lymph_node(organ),
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
        fragments_mm=tuple(_round(f) or 0.0 for f in group.fragments_mm),
        coalesced_into=group.coalesced_into,
        equivocal=group.equivocal,
        note=f"imported from SR {report.sop_instance_uid}"
        + (f" (observer {report.observer})" if report.observer else "")
        + _method_note(group),
        method=Method.SEMI_AUTO if group.semi_automatic else Method.MANUAL,
    )
    return lesion, measurement


def _method_note(group: SrGroup) -> str:
    """``; semi-automatic, <algorithm> ...`` for the note of an imported measurement."""
    if group.measurement_method:
        return f"; {group.measurement_method}"
    found = next(
        (n.algorithm for n in (group.long_axis, group.short_axis) if n and n.algorithm), None
    )
    if found is None:
        return ""
    return f"; semi-automatic, {found.name} {found.version}".rstrip()


def _round(value: float | None) -> float | None:
    """Micrometre precision (the case format's), which also undoes float noise of DS values."""
    return None if value is None else round(value, 3)


def _segment(m: SrMeasurement | None, images: Mapping[str, Dataset]) -> Segment | None:
    if m is None:
        return None
    c = m.coordinates
    image = images.get(c.sop_instance_uid or "")
    px = [(x - 0.5, y - 0.5) for x, y in c.points_px[:2]]
    lps = list(c.points_lps[:2])
    if len(lps) == 2 and image is not None and "ImagePositionPatient" in image:
        # SCOORD is single precision; the SCOORD3D doubles give the pixels back exactly
        px = [lps_to_pixel(image, p) for p in lps]
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
    drawn = (
        group.long_axis
        if group.long_axis and group.long_axis.coordinates.sop_instance_uid
        else group.short_axis
    )
    if drawn is None:
        return None
    long_seg = _segment(drawn, images)
    if long_seg is None:
        return None
    sop = drawn.coordinates.sop_instance_uid
    image = images.get(sop or "")
    series = report.series_of_sop.get(sop or "") or (
        str(image.SeriesInstanceUID) if image is not None else None
    )
    if not sop or not series:
        return None
    short_seg = _segment(group.short_axis, images) if drawn is group.long_axis else None
    return DrawnGeometry(
        series_instance_uid=series,
        sop_instance_uid=sop,
        slice_index=slice_of_sop.get(sop, 0),
        long_axis=long_seg,
        short_axis=short_seg,
        frame_number=drawn.coordinates.frame_number,
    )


def records_from_sr(
    report: SrReport,
    *,
    images: Mapping[str, Dataset] | None = None,
    slice_of_sop: Mapping[str, int] | None = None,
) -> list[tuple[Lesion, Measurement]]:
    """The lesion groups of a report as (Lesion, Measurement) pairs.

    Groups without a RECIST category code are left out; :func:`skipped_groups`
    names them and says why.
    """
    return [
        group_to_records(g, report, images=images, slice_of_sop=slice_of_sop, index=i)
        for i, g in enumerate(report.groups, start=1)
        if skip_reason(g) is None
    ]
