"""DICOM SR TID 1500 measurement reports (Comprehensive 3D SR) written with highdicom.

One report per timepoint.  Each lesion measured or assessed at that timepoint is
one TID 1501 measurement group carrying:

* the Tracking Identifier (the lesion code, e.g. ``T1``) and the Tracking Unique
  Identifier (``Lesion.tracking_uid``, the same at every timepoint);
* the finding site (SNOMED CT for common organs), the finding type (target /
  non-target at baseline, or lesion), and RECIST 1.1 (DCM 126081) as method;
* the time point context (TID 1502: subject time point identifier = the
  timepoint label, time point order);
* Long axis and Short axis in mm, each inferred from a SCOORD POLYLINE on the
  image it was drawn on and a SCOORD3D POLYLINE in its frame of reference;
* for anything other than "measured", a qualitative evaluation with the status.

One more group (finding type DCM 112020 "Response Evaluation", RECIST 1.1 method)
carries the timepoint's target and non-target responses as "Current Response"
evaluations coded from CID 6144 "RECIST Defined Lesion Response".

The observer context names the reader.  Reading reports back is in
:mod:`storage.exchange.sr_read`.
"""

from __future__ import annotations

from collections.abc import Sequence

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import UID

from recist.model import Lesion, Measurement, MeasurementStatus, Reader, Segment, Timepoint
from storage.exchange.sr_codes import (
    CALIPER_SCHEME,
    CURRENT_RESPONSE,
    FINDING_TYPE,
    LESION_RESPONSE,
    LONG_AXIS,
    MILLIMETRE,
    RECIST_11,
    RESPONSE_EVALUATION,
    SHORT_AXIS,
    STATUS_NAME,
    organ_code,
    person_name,
    status_code,
)
from storage.exchange.timeline import PatientTimeline

MANUFACTURER = "Caliper"
#: CT, unspecified body region (LOINC), the default procedure reported.
PROCEDURE_CT = hd.sr.CodedConcept("25045-6", "LN", "CT unspecified body region")


class SrExportError(ValueError):
    """The report cannot be written; the message names the lesion or image."""


def build_timepoint_sr(
    timeline: PatientTimeline,
    timepoint: Timepoint,
    source_images: Sequence[Dataset],
    *,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_number: int = 9001,
    instance_number: int = 1,
) -> hd.sr.Comprehensive3DSR:
    """Build the TID 1500 report of one timepoint.

    Parameters
    ----------
    timeline
        The patient's records (lesions, measurements, readers).
    timepoint
        The timepoint to report.
    source_images
        The image datasets the measurements were drawn on (at least the ones whose
        SOP Instance UIDs the geometries reference); the first is also the evidence
        that gives the report its patient and study.
    series_instance_uid, sop_instance_uid
        UIDs of the new report (new ones by default).

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
    groups = [_group(lesion, m, timepoint, by_sop) for lesion, m in pairs]
    response = _response_group(timeline, timepoint)
    if response is not None:
        groups.append(response)
    reader = _reader(timeline, [m for _, m in pairs])
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=person_name(reader.full_name) if reader else "Unknown^Reader",
            login_name=reader.username if reader else None,
        ),
    )
    referenced = _referenced_images(pairs, by_sop) or [source_images[0]]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=PROCEDURE_CT,
        imaging_measurements=groups,
        referenced_images=referenced,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=referenced,
        content=report,
        series_instance_uid=series_instance_uid or hd.UID(),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or hd.UID(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        series_description=f"RECIST 1.1 measurements {timepoint.label}"[:64],
        is_complete=True,
    )
    scheme = Dataset()
    scheme.CodingSchemeDesignator = CALIPER_SCHEME
    scheme.CodingSchemeName = "Caliper lesion status and organ terms"
    scheme.CodingSchemeResponsibleOrganization = "Caliper"
    sr.CodingSchemeIdentificationSequence = [scheme]
    return sr


def _lesion_measurements(
    timeline: PatientTimeline, timepoint: Timepoint
) -> list[tuple[Lesion, Measurement]]:
    pairs = []
    for lesion in sorted(timeline.lesions, key=lambda les: (les.kind != "target", les.code)):
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


def _group(
    lesion: Lesion, m: Measurement, timepoint: Timepoint, by_sop: dict[str, Dataset]
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    """The TID 1501 group of one lesion at one timepoint."""
    image = by_sop.get(m.geometry.sop_instance_uid) if m.geometry else None
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
                value=round(float(value), 1),
                unit=MILLIMETRE,
                referenced_coordinates=(
                    _coordinates(segment, image, m.geometry.frame_number if m.geometry else None)
                    if segment and image else None
                ),
            )
        )
    evaluations = []
    if m.status is not MeasurementStatus.MEASURED:
        evaluations.append(hd.sr.QualitativeEvaluation(STATUS_NAME, status_code(m.status)))
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=lesion.tracking_uid, identifier=lesion.code
        ),
        time_point_context=hd.sr.TimePointContext(
            time_point=timepoint.label,
            subject_time_point_identifier=timepoint.label,
            time_point_order=timepoint.order + 1,
        ),
        finding_type=FINDING_TYPE[lesion.kind],
        method=RECIST_11,
        finding_sites=[hd.sr.FindingSite(organ_code(lesion.organ))],
        measurements=measurements or None,
        qualitative_evaluations=evaluations or None,
    )


def _response_group(
    timeline: PatientTimeline, timepoint: Timepoint
) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    """The target and non-target responses of the timepoint (CID 6144), if any."""
    result = timeline.result_for(timepoint.label)
    evaluations = [
        hd.sr.QualitativeEvaluation(CURRENT_RESPONSE, LESION_RESPONSE[(key, result[key])])
        for key in ("target", "non_target")
        if (key, result.get(key)) in LESION_RESPONSE
    ]
    if not evaluations:
        return None
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=hd.UID(), identifier=f"RECIST 1.1 response at {timepoint.label}"[:64]
        ),
        time_point_context=hd.sr.TimePointContext(
            time_point=timepoint.label,
            subject_time_point_identifier=timepoint.label,
            time_point_order=timepoint.order + 1,
        ),
        finding_type=RESPONSE_EVALUATION,
        method=RECIST_11,
        qualitative_evaluations=evaluations,
    )


def _coordinates(segment: Segment, image: Dataset, frame_number: int | None = None) -> list[object]:
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
