"""DICOM SR TID 1500 measurement reports (Comprehensive 3D SR) written with highdicom.

One report per timepoint.  Each lesion measured or assessed at that timepoint is
one TID 1501 measurement group carrying:

* the Tracking Identifier (the lesion code, e.g. ``T1``) and the Tracking Unique
  Identifier (``Lesion.tracking_uid``, the same at every timepoint);
* the finding site (SNOMED CT from :mod:`recist.organs`; an unlisted organ is
  "Body structure" named by an Anatomic Identifier), the lesion's free-text
  location as an Anatomic Identifier (DCM 112050);
* the finding type: Target / Non-Target Lesion at Baseline (CID 6145) or
  New lesion; RECIST 1.1 (DCM 126081, CID 6147) as method;
* the time point context (TID 1502: subject time point identifier = the label,
  time point order, time point type of CID 6146, protocol time point ``cycle N``)
  and the scan date as the group's Observation DateTime;
* Long axis and Short axis in mm, each inferred from a SCOORD POLYLINE on the
  image it was drawn on and a SCOORD3D POLYLINE in its frame of reference;
  fragments of a split lesion, the lesion a merged one coalesced into;
* for anything other than "measured", the lesion status (standard values where
  they exist: Present, Absent, Too small, Coalescent; Equivocal as a flag).

A measurement with a contour (a Smart caliper measurement exported with its DICOM SEG,
:mod:`storage.exchange.seg`) gets a second group for the same lesion (same tracking
identifiers and time point), TID 1411 "Volumetric ROI measurements": the Referenced Segment
(the SEG's SOP Instance UID and segment number, its source series), the volume in mL
(SCT 118565006) and the algorithm's name and version.

How each measurement was made (issue 16; the same facts as the PDF report's footnotes and
the timeline's ``method``/``algorithm``/``edited`` fields, :class:`MeasurementProvenance`):

* A Smart caliper measurement the reader accepted **as proposed** (neither the caliper moved
  nor the contour edited since the proposal) carries on its Long axis and Short axis NUM
  items a TID 4019 Algorithm Identification (HAS CONCEPT MOD): Algorithm Name (DCM 111001),
  Algorithm Version (DCM 111003) and one Algorithm Parameters item (DCM 111002) per
  parameter, ``name=<JSON value>``.  TID 300 defines it as the algorithm that produced the
  value, which is then true.
* One the reader changed (moved the caliper, edited the contour with the brush, replaced the
  lines by a status), or one whose changes are not known (a contour stored before Caliper
  recorded its caliper, or none): no Algorithm Identification, because the value is no longer
  (or not known to be) the algorithm's output; a reader of the SR would otherwise credit the
  algorithm with the reader's numbers.
* Every semi-automatic measurement's group also says so in words, a Comment (DCM 121106)
  ``Measurement method: semi-automatic, <algorithm> <version>, edited by the reader
  (caliper moved)`` (or ``accepted as proposed``, or ``edits by the reader not known``),
  the PDF report's wording.  A manual measurement has neither.
  :mod:`storage.exchange.sr_read` reads both back (``SrMeasurement.algorithm``,
  ``SrGroup.measurement_method``) and imports such a group as a ``Method.SEMI_AUTO``
  measurement.

One more group (finding type DCM 112020 "Response Evaluation") carries the
timepoint's target and non-target responses (CID 6144), the overall response,
the iRECIST response when the patient is read with iRECIST, the new-lesion
finding (Present/Absent), the best overall response so far (DCM 112049) and the
engine's reason as a Comment.

The document carries the Clinical Trial Subject and Study modules (sponsor,
protocol, site, subject id, time point id).  A timepoint with a valid signature
is exported FINAL and VERIFIED with the Verifying Observer (the signer, the site,
the signing time); one whose signature was voided by an amendment names the
report of that signature in the Predecessor Documents Sequence.  Report UIDs are
derived from the patient, the timepoint and the signature, so the report of a
signed state always has the same UID.  Every code and its source:
``docs/sr-codes.md``.  Reading reports back is :mod:`storage.exchange.sr_read`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import UID, Comprehensive3DSRStorage

from recist.model import Lesion, LesionKind, Measurement, Reader, Segment, Timepoint
from recist.organs import find_organ
from storage.exchange.sr_codes import (
    ABSENT,
    ANATOMIC_IDENTIFIER,
    BASELINE_TIME_POINT,
    BEST_OVERALL_RESPONSE,
    CALIPER_SCHEME,
    COALESCED_INTO,
    COMMENT,
    CURRENT_RESPONSE,
    EQUIVOCAL,
    FINDING_TYPE,
    FRAGMENT,
    IRECIST_RESPONSE,
    LESION_RESPONSE,
    LONG_AXIS,
    MEASUREMENT_METHOD_PREFIX,
    MILLIMETRE,
    NEW_LESIONS_FINDING,
    OVERALL_CODES,
    OVERALL_RESPONSE,
    POSTTREATMENT_TIME_POINT,
    PRESENT,
    RECIST_11,
    RESPONSE_EVALUATION,
    SHORT_AXIS,
    STATUS_NAME,
    organ_code,
    person_name,
    status_code,
)
from storage.exchange.timeline import MeasurementProvenance, PatientTimeline

MANUFACTURER = "Caliper"
#: CT, unspecified body region (LOINC), the default procedure reported.
PROCEDURE_CT = hd.sr.CodedConcept("25045-6", "LN", "CT unspecified body region")
_UID_NAMESPACE = uuid.UUID("6c1f3a52-7d0e-4c4b-9a43-2f6c0e5b8d11")


#: Volume (SCT 118565006) in millilitres (UCUM mL), of a lesion's contour.
VOLUME = hd.sr.CodedConcept("118565006", "SCT", "Volume")
MILLILITRE = hd.sr.CodedConcept("mL", "UCUM", "milliliter")


@dataclass(frozen=True)
class SegmentReference:
    """Where a measurement's contour is in a DICOM SEG, for the report to reference it."""

    sop_class_uid: str
    sop_instance_uid: str
    segment_number: int
    source_series_uid: str
    volume_ml: float
    algorithm: str
    algorithm_version: str
    study_instance_uid: str = ""
    series_instance_uid: str = ""

    def evidence(self) -> Dataset:
        """The SEG as the report's evidence (its study, series, class and instance UIDs)."""
        ds = Dataset()
        ds.StudyInstanceUID = self.study_instance_uid
        ds.SeriesInstanceUID = self.series_instance_uid
        ds.SOPClassUID = self.sop_class_uid
        ds.SOPInstanceUID = self.sop_instance_uid
        return ds


class SrExportError(ValueError):
    """The report cannot be written; the message names the lesion or image."""


def derived_uid(*parts: object) -> str:
    """A UID (``2.25.<uuid5>``) that is the same whenever the same parts are given."""
    key = "/".join(str(p) for p in parts)
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, key).int}"


def report_series_uid(timeline: PatientTimeline) -> str:
    """The SR series of a patient's reports (one series for all its timepoints)."""
    return derived_uid(timeline.patient.trial, timeline.patient.subject_id, "sr-series")


def _signatures(timeline: PatientTimeline, timepoint: Timepoint) -> tuple[Any | None, list[Any]]:
    """(the valid signature of the timepoint or None, its voided signatures oldest first)."""
    mine = [s for s in timeline.signatures if getattr(s, "timepoint_id", None) == timepoint.id]
    valid = next((s for s in mine if getattr(s, "voided_at", None) is None), None)
    voided = [s for s in mine if getattr(s, "voided_at", None) is not None]
    return valid, voided


def signed_report_uid(timeline: PatientTimeline, timepoint: Timepoint, signature: Any) -> str:
    """SOP Instance UID of the report of one signed state of a timepoint."""
    return derived_uid(
        timeline.patient.trial,
        timeline.patient.subject_id,
        timepoint.label,
        "signature",
        getattr(signature, "id", None),
        getattr(signature, "content_hash", ""),
    )


def build_timepoint_sr(
    timeline: PatientTimeline,
    timepoint: Timepoint,
    source_images: Sequence[Dataset],
    *,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_number: int = 9001,
    instance_number: int = 1,
    organization: str | None = None,
    sponsor: str | None = None,
    audit_head: tuple[int, str] | None = None,
    segments: Mapping[int, SegmentReference] | None = None,
) -> hd.sr.Comprehensive3DSR:
    """Build the TID 1500 report of one timepoint.

    Parameters
    ----------
    timeline
        The patient's records (lesions, measurements, readers, signatures, result).
    timepoint
        The timepoint to report.
    source_images
        The image datasets the measurements were drawn on (at least the ones whose
        SOP Instance UIDs the geometries reference); the first is also the evidence
        that gives the report its patient and study.
    series_instance_uid, sop_instance_uid
        UIDs of the new report (derived from the patient, timepoint and signature
        by default).
    organization
        The verifying and observing organisation (default: the patient's site).
    sponsor
        Clinical Trial Sponsor Name (default: the patient's trial).
    audit_head
        ``(seq, hash)`` of the audit trail's head at export (also recorded in the witness);
        written as a Comment of the response group, as the PDF report prints it, so that
        `caliper audit verify --expect-head` can be run against a report received elsewhere.
    segments
        Measurement id → its contour's segment in a DICOM SEG: each such measurement's lesion
        gets a TID 1411 group referencing the segment, with the volume.

    Returns
    -------
    highdicom.sr.Comprehensive3DSR
        The report, ready for ``save_as``.

    Raises
    ------
    SrExportError
        When no source image is given, or a geometry references an image that is
        not among ``source_images``.
    """
    if not source_images:
        raise SrExportError(f"timepoint {timepoint.label}: at least one source image is needed")
    by_sop = {str(ds.SOPInstanceUID): ds for ds in source_images}
    pairs = _lesion_measurements(timeline, timepoint)
    groups: list[Any] = [
        _group(lesion, m, timepoint, by_sop, timeline.provenance_of(m)) for lesion, m in pairs
    ]
    seg_evidence: dict[str, Dataset] = {}
    for lesion, m in pairs:
        ref = (segments or {}).get(m.id) if m.id is not None else None
        if ref is not None:
            groups.append(_volume_group(lesion, timepoint, ref))
            seg_evidence[ref.sop_instance_uid] = ref.evidence()
    response = _response_group(timeline, timepoint, audit_head)
    if response is not None:
        groups.append(response)
    patient = timeline.patient
    organisation = organization or patient.site or None
    reader = _reader(timeline, [m for _, m in pairs])
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=person_name(reader.full_name) if reader else "Unknown^",
            login_name=reader.username if reader else None,
            organization_name=organisation,
        ),
    )
    referenced = _referenced_images(pairs, by_sop) or [source_images[0]]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=PROCEDURE_CT,
        imaging_measurements=groups,
        referenced_images=referenced,
    )
    valid, voided = _signatures(timeline, timepoint)
    if sop_instance_uid is None:
        sop_instance_uid = (
            signed_report_uid(timeline, timepoint, valid) if valid is not None else hd.UID()
        )
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*referenced, *seg_evidence.values()],
        content=report,
        series_instance_uid=series_instance_uid or report_series_uid(timeline),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid,
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        series_description=f"RECIST 1.1 measurements {timepoint.label}"[:64],
        is_complete=True,
        is_final=valid is not None,
        is_verified=valid is not None,
        verifying_observer_name=person_name(valid.printed_name) if valid is not None else None,
        verifying_organization=(organisation or "Unknown") if valid is not None else None,
    )
    if valid is not None:
        sr.VerifyingObserverSequence[0].VerificationDateTime = _dicom_datetime(valid.signed_at)
    if voided:
        sr.PredecessorDocumentsSequence = [
            _predecessor(sr, signed_report_uid(timeline, timepoint, voided[-1]))
        ]
    sr.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: reasons say "≤ 0.7 ×", names may be any
    _clinical_trial(sr, timeline, timepoint, sponsor)
    scheme = Dataset()
    scheme.CodingSchemeDesignator = CALIPER_SCHEME
    scheme.CodingSchemeName = "Caliper RECIST terms without a standard code"
    scheme.CodingSchemeResponsibleOrganization = "Caliper"
    sr.CodingSchemeIdentificationSequence = [scheme]
    return sr


def _dicom_datetime(value: datetime) -> str:
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def _predecessor(sr: Dataset, sop_uid: str) -> Dataset:
    """A Predecessor Documents item: the report of the voided signature (same study)."""
    sop = Dataset()
    sop.ReferencedSOPClassUID = Comprehensive3DSRStorage
    sop.ReferencedSOPInstanceUID = sop_uid
    series = Dataset()
    series.SeriesInstanceUID = sr.SeriesInstanceUID
    series.ReferencedSOPSequence = [sop]
    study = Dataset()
    study.StudyInstanceUID = sr.StudyInstanceUID
    study.ReferencedSeriesSequence = [series]
    return study


def _clinical_trial(
    sr: Dataset, timeline: PatientTimeline, timepoint: Timepoint, sponsor: str | None
) -> None:
    """Clinical Trial Subject and Clinical Trial Study modules (PS3.3 C.7.1.3, C.7.2.3)."""
    patient = timeline.patient
    protocol = patient.trial or "UNSPECIFIED"
    sr.ClinicalTrialSponsorName = (sponsor or patient.trial or "UNSPECIFIED")[:64]
    sr.ClinicalTrialProtocolID = protocol[:64]
    sr.ClinicalTrialProtocolName = patient.trial[:64]
    sr.ClinicalTrialSiteID = patient.site[:64]
    sr.ClinicalTrialSiteName = patient.site[:64]
    sr.ClinicalTrialSubjectID = patient.subject_id[:64]
    sr.ClinicalTrialTimePointID = timepoint.label[:64]
    sr.ClinicalTrialTimePointDescription = (
        "baseline" if timepoint.is_baseline else f"follow-up {timepoint.order}"
    ) + (f", cycle {timepoint.cycle}" if timepoint.cycle is not None else "")


def _lesion_measurements(
    timeline: PatientTimeline, timepoint: Timepoint
) -> list[tuple[Lesion, Measurement]]:
    order = {LesionKind.TARGET: 0, LesionKind.NON_TARGET: 1, LesionKind.NEW: 2}
    pairs = []
    for lesion in sorted(timeline.lesions, key=lambda les: (order[les.kind], les.code)):
        m = timeline.measurement(lesion.id, timepoint.id)
        if m is not None:
            pairs.append((lesion, m))
    return pairs


def _reader(timeline: PatientTimeline, measurements: Sequence[Measurement]) -> Reader | None:
    for m in measurements:
        if m.reader_id is not None and m.reader_id in timeline.readers:
            return timeline.readers[m.reader_id]
    return None


def _referenced_images(
    pairs: Sequence[tuple[Lesion, Measurement]], by_sop: dict[str, Dataset]
) -> list[Dataset]:
    seen: dict[str, Dataset] = {}
    for lesion, m in pairs:
        if m.geometry is None:
            continue
        sop = m.geometry.sop_instance_uid
        if sop not in by_sop:
            raise SrExportError(
                f"lesion {lesion.code}: image {sop} it was measured on is not among the "
                "source images; load its series first"
            )
        seen.setdefault(sop, by_sop[sop])
    return list(seen.values())


def _time_point_context(timepoint: Timepoint) -> hd.sr.TimePointContext:
    return hd.sr.TimePointContext(
        time_point=timepoint.label,
        time_point_type=BASELINE_TIME_POINT if timepoint.is_baseline else POSTTREATMENT_TIME_POINT,
        subject_time_point_identifier=timepoint.label,
        protocol_time_point_identifier=(
            f"cycle {timepoint.cycle}" if timepoint.cycle is not None else None
        ),
        time_point_order=timepoint.order + 1,
    )


def algorithm_parameters(parameters: Mapping[str, Any]) -> list[str]:
    """One Algorithm Parameters text per parameter: ``name=<compact JSON value>``, sorted."""
    return [
        f"{name}={json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)}"
        for name, value in sorted(parameters.items())
    ]


def algorithm_identification(
    provenance: MeasurementProvenance,
) -> hd.sr.AlgorithmIdentification | None:
    """TID 4019 for a measurement's diameters: only when the reader accepted the proposal
    unchanged (see the module docstring); None for a manual, edited or not known one."""
    if not provenance.semi_automatic or provenance.edited is not False:
        return None
    if not provenance.algorithm:
        return None
    return hd.sr.AlgorithmIdentification(
        name=provenance.algorithm[:64],
        version=(provenance.algorithm_version or "unknown")[:64],
        parameters=algorithm_parameters(provenance.parameters) or None,
    )


def _group(
    lesion: Lesion,
    m: Measurement,
    timepoint: Timepoint,
    by_sop: dict[str, Dataset],
    provenance: MeasurementProvenance | None = None,
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    """The TID 1501 group of one lesion at one timepoint."""
    image = by_sop.get(m.geometry.sop_instance_uid) if m.geometry else None
    provenance = provenance or MeasurementProvenance()
    measurements = []
    for name, value, segment in (
        (LONG_AXIS, m.long_axis_mm, m.geometry.long_axis if m.geometry else None),
        (SHORT_AXIS, m.short_axis_mm, m.geometry.short_axis if m.geometry else None),
    ):
        if value is None:
            continue
        measurements.append(
            hd.sr.Measurement(
                name=name,
                value=float(value),
                unit=MILLIMETRE,
                referenced_coordinates=(
                    _coordinates(segment, image, m.geometry.frame_number if m.geometry else None)
                    if segment and image
                    else None
                ),
                algorithm_id=algorithm_identification(provenance),
            )
        )
    measurements += [
        hd.sr.Measurement(name=FRAGMENT, value=float(size), unit=MILLIMETRE)
        for size in m.fragments_mm
    ]
    evaluations = []
    status = status_code(m.status)
    if status is not None:
        evaluations.append(hd.sr.QualitativeEvaluation(STATUS_NAME, status))
    if m.equivocal:
        evaluations.append(hd.sr.QualitativeEvaluation(STATUS_NAME, EQUIVOCAL))
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=lesion.tracking_uid, identifier=lesion.code
        ),
        time_point_context=_time_point_context(timepoint),
        finding_type=FINDING_TYPE[lesion.kind],
        method=RECIST_11,
        finding_sites=[hd.sr.FindingSite(organ_code(lesion.organ))],
        measurements=measurements or None,
        qualitative_evaluations=evaluations or None,
    )
    texts = []
    if find_organ(lesion.organ) is None:
        texts.append((ANATOMIC_IDENTIFIER, f"organ: {lesion.organ}"))
    if lesion.location:
        texts.append((ANATOMIC_IDENTIFIER, lesion.location))
    if m.coalesced_into:
        texts.append((COALESCED_INTO, m.coalesced_into))
    if provenance.semi_automatic:
        texts.append((COMMENT, MEASUREMENT_METHOD_PREFIX + provenance.describe()))
    _finish(group, timepoint, texts)
    return group


def _volume_group(
    lesion: Lesion, timepoint: Timepoint, ref: SegmentReference
) -> hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations:
    """The TID 1411 group of a lesion's contour: the SEG segment it is and its volume."""
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=lesion.tracking_uid, identifier=lesion.code
        ),
        referenced_segment=hd.sr.ReferencedSegment(
            sop_class_uid=ref.sop_class_uid,
            sop_instance_uid=ref.sop_instance_uid,
            segment_number=ref.segment_number,
            source_series=hd.sr.SourceSeriesForSegmentation(ref.source_series_uid),
        ),
        time_point_context=_time_point_context(timepoint),
        finding_type=FINDING_TYPE[lesion.kind],
        algorithm_id=hd.sr.AlgorithmIdentification(
            name=ref.algorithm[:64], version=ref.algorithm_version[:64]
        ),
        finding_sites=[hd.sr.FindingSite(organ_code(lesion.organ))],
        measurements=[
            hd.sr.Measurement(name=VOLUME, value=round(float(ref.volume_ml), 3), unit=MILLILITRE)
        ],
    )


def _finish(
    group: hd.sr.MeasurementsAndQualitativeEvaluations,
    timepoint: Timepoint,
    texts: Sequence[tuple[Any, str]],
) -> None:
    """Add TEXT items to a group, and the scan date as its Observation DateTime."""
    container = group[0]
    for name, value in texts:
        container.ContentSequence.append(
            hd.sr.TextContentItem(
                name=name,
                value=value[:1024],
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )
    if timepoint.scan_date is not None:
        container.ObservationDateTime = timepoint.scan_date.strftime("%Y%m%d000000")


def _responses(timeline: PatientTimeline, timepoint: Timepoint) -> dict[str, Any]:
    """The timepoint's responses in the engine's words, and the BOR up to this timepoint."""
    result = timeline.result_for(timepoint.label)
    overall = result.get("overall")
    i_code = isinstance(overall, str) and overall.startswith(("i", "non-i"))
    return {
        "target": result.get("target"),
        "non_target": result.get("non_target"),
        "overall": result.get("recist_overall") or (None if i_code else overall),
        "irecist": (result.get("irecist_overall") or (overall if i_code else None))
        if str(timeline.patient.criteria.value) == "iRECIST"
        else None,
        "new_lesions": result.get("new_lesions"),
        "reason": result.get("reason") or "",
        "best": _best_so_far(timeline, timepoint) if not timepoint.is_baseline else None,
    }


def _best_so_far(timeline: PatientTimeline, timepoint: Timepoint) -> str | None:
    """Best overall response of the timepoints up to and including this one."""
    import recist

    tps = [t for t in timeline.timepoints if t.order <= timepoint.order]
    ids = {t.id for t in tps}
    try:
        result = recist.evaluate(
            recist.case_from_records(
                timeline.patient,
                tps,
                timeline.lesions,
                [m for m in timeline.measurements if m.timepoint_id in ids],
            )
        )
    except recist.RecistError:
        return None
    best = result.best_overall_response
    return str(best.value) if best is not None else None


def audit_head_text(audit_head: tuple[int, str]) -> str:
    """The audit head as the PDF report and the SR write it: ``Audit trail head SEQ:HASH``."""
    return f"Audit trail head {audit_head[0]}:{audit_head[1]}"


def _response_group(
    timeline: PatientTimeline, timepoint: Timepoint, audit_head: tuple[int, str] | None = None
) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    """The timepoint's responses: CID 6144, overall, iRECIST, new lesions, BOR, reason."""
    res = _responses(timeline, timepoint)
    evaluations = [
        hd.sr.QualitativeEvaluation(CURRENT_RESPONSE, LESION_RESPONSE[(key, res[key])])
        for key in ("target", "non_target")
        if (key, res[key]) in LESION_RESPONSE
    ]
    for name, word in (
        (OVERALL_RESPONSE, res["overall"]),
        (IRECIST_RESPONSE, res["irecist"]),
        (BEST_OVERALL_RESPONSE, res["best"]),
    ):
        if word in OVERALL_CODES:
            evaluations.append(hd.sr.QualitativeEvaluation(name, OVERALL_CODES[word]))
    if res["new_lesions"] is not None and not timepoint.is_baseline:
        evaluations.append(
            hd.sr.QualitativeEvaluation(
                NEW_LESIONS_FINDING, PRESENT if res["new_lesions"] else ABSENT
            )
        )
    if not evaluations:
        return None
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=derived_uid(
                timeline.patient.trial, timeline.patient.subject_id, timepoint.label, "response"
            ),
            identifier=f"RECIST 1.1 response at {timepoint.label}"[:64],
        ),
        time_point_context=_time_point_context(timepoint),
        finding_type=RESPONSE_EVALUATION,
        method=RECIST_11,
        qualitative_evaluations=evaluations,
    )
    comments = [(COMMENT, res["reason"])] if res["reason"] else []
    if audit_head is not None:
        comments.append((COMMENT, audit_head_text(audit_head)))
    _finish(group, timepoint, comments)
    return group


def _coordinates(
    segment: Segment, image: Dataset, frame_number: int | None = None
) -> list[hd.sr.CoordinatesForMeasurement | hd.sr.CoordinatesForMeasurement3D]:
    """SCOORD on the image (and frame, if multi-frame; pixel corners convention) and SCOORD3D."""
    # Caliper pixel positions put the centre of the first pixel at (0, 0); DICOM
    # SCOORD puts the outer corner there, hence the half-pixel shift.
    px = np.array([segment.start_px, segment.end_px], dtype=float) + 0.5
    lps = np.array([segment.start_lps_mm, segment.end_lps_mm], dtype=float)
    return [
        hd.sr.CoordinatesForMeasurement(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=px,
            source_image=hd.sr.SourceImageForRegion(
                referenced_sop_class_uid=UID(image.SOPClassUID),
                referenced_sop_instance_uid=UID(image.SOPInstanceUID),
                referenced_frame_numbers=[frame_number] if frame_number else None,
            ),
        ),
        hd.sr.CoordinatesForMeasurement3D(
            graphic_type=hd.sr.GraphicTypeValues3D.POLYLINE,
            graphic_data=lps,
            frame_of_reference_uid=UID(image.FrameOfReferenceUID),
        ),
    ]
