"""All trial endpoints of one patient from its case, its RECIST result and its records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from recist.case import Case
from recist.endpoints.conversion import ConversionAssessment, ConversionRecord, assess_conversion
from recist.endpoints.liver import LiverResponse, liver_response
from recist.endpoints.pathology import MprAssessment, SurgeryRecord, assess_mpr
from recist.endpoints.survival import (
    SurvivalRecord,
    SurvivalSettings,
    TimeToEvent,
    TumourAssessment,
    derive_dor,
    derive_os,
    derive_pfs,
)
from recist.responses import Response
from recist.result import CaseResult

__all__ = ["PatientEndpoints", "derive_endpoints", "tumour_assessments"]

_RESPONDING = (Response.CR, Response.PR)


@dataclass(frozen=True, slots=True)
class PatientEndpoints:
    """Liver response, conversion, MPR, PFS, OS and DoR of one patient."""

    case_id: str
    best_overall_response: Response | None
    liver: LiverResponse
    conversion: ConversionAssessment
    mpr: MprAssessment
    pfs: TimeToEvent | None
    os: TimeToEvent | None
    dor: TimeToEvent | None
    treatment_start: date | None
    first_response_date: date | None


def tumour_assessments(result: CaseResult) -> list[TumourAssessment]:
    """The dated post-baseline RECIST 1.1 overall responses of a result."""
    out = []
    for tp in result.timepoints[1:]:
        response = tp.recist_overall if tp.recist_overall is not None else tp.overall
        if tp.date is not None:
            out.append(TumourAssessment(tp.label, tp.date, str(response) if response else None))
    return out


def _first_response(result: CaseResult) -> date | None:
    track = result.recist
    bor = track.best_overall_response if track is not None else result.best_overall_response
    if bor not in _RESPONDING:
        return None
    for tp in result.timepoints[1:]:
        response = tp.recist_overall if tp.recist_overall is not None else tp.overall
        if tp.post_progression:
            break
        if response in _RESPONDING and tp.date is not None:
            return tp.date
    return None


def derive_endpoints(
    case: Case,
    result: CaseResult,
    *,
    conversion: ConversionRecord | None = None,
    surgery: SurgeryRecord | None = None,
    survival: SurvivalRecord | None = None,
    settings: SurvivalSettings | None = None,
) -> PatientEndpoints:
    """Derive every endpoint of a patient.

    The treatment start is the survival record's first dose, else the case's
    ``first_dose_date`` (the patient's).  PFS and DoR use the RECIST 1.1 track.
    """
    liver = liver_response(case)
    survival_record = survival or SurvivalRecord(None, None)
    if survival_record.treatment_start is None and case.first_dose_date is not None:
        survival_record = replace(survival_record, treatment_start=case.first_dose_date)
    assessments = tumour_assessments(result)
    has_baseline = bool(case.timepoints) and case.timepoints[0].date is not None
    first_response = _first_response(result)
    track = result.recist
    return PatientEndpoints(
        case_id=case.id,
        best_overall_response=track.best_overall_response
        if track
        else result.best_overall_response,
        liver=liver,
        conversion=assess_conversion(conversion, liver),
        mpr=assess_mpr(surgery),
        pfs=derive_pfs(survival_record, assessments, has_baseline=has_baseline, settings=settings),
        os=derive_os(survival_record, assessments, settings=settings),
        dor=derive_dor(survival_record, assessments, first_response, settings=settings),
        treatment_start=survival_record.treatment_start,
        first_response_date=first_response,
    )
