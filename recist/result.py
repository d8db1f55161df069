"""What the engine returns: per-timepoint results, the case result, and its JSON form (§10)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from recist.model import Criteria
from recist.reasons import Recipe, render
from recist.responses import Response

ENGINE_VERSION = "caliper-recist 1.0"


@dataclass(frozen=True, slots=True)
class RuleWarning:
    """A validation or rule warning (rules.md §11): never an exception.

    Attributes
    ----------
    code : str
        Stable code, e.g. ``"W02_TARGET_NOT_MEASURABLE"``.
    message : str
        Plain-language explanation naming the lesion and the numbers.
    lesion : str or None
        The lesion id it is about, if any.
    """

    code: str
    message: str
    lesion: str | None = None


#: The name used in docs/INTERFACES.md.
Warning = RuleWarning  # noqa: A001 - the public API name


class TimepointResult(NamedTuple):
    """The response at one timepoint (an immutable named tuple: cheap to build in bulk).

    Attributes
    ----------
    label, date
        The timepoint.
    sum_mm : Decimal or None
        SOD (lower bound when incomplete; None with no targets or no measurement).
    pct_from_baseline, pct_from_nadir : Decimal or None
        Percent change, rounded to 0.1 half away from zero (display only).
    nadir_mm : Decimal or None
        The prior nadir (smallest complete SOD before this timepoint).
    target, non_target : Response or None
        RECIST 1.1 categories (None when the patient has no such lesions).
    new_lesions : bool
        An unequivocal (or later confirmed) new lesion is present.
    overall : Response or None
        Overall response of the case's criteria (i-codes for iRECIST); None at baseline.
    why : Recipe
        The reason, kept unformatted until read (see :mod:`recist.reasons`).
    warnings : tuple[RuleWarning, ...]
        Warnings about this timepoint.
    reason : str
        Why, in words a reader can check (a property rendering ``why``).
    recist_overall, irecist_overall : Response or None
        Both tracks (the one not run is None).
    complete : bool
        Every target was evaluable.
    day : int or None
        Days from the reference date (first dose, else baseline).
    post_progression : bool
        After the first progression of the case's criteria (RECIST 1.1: the first
        overall PD; iRECIST: the first iCPD): shown, but not used for BOR, and a
        lesion back after the CR before that PD stays PD (docs/RESPONSE_RULES.md).
    """

    label: str
    date: date | None
    sum_mm: Decimal | None
    pct_from_baseline: Decimal | None
    pct_from_nadir: Decimal | None
    nadir_mm: Decimal | None
    target: Response | None
    non_target: Response | None
    new_lesions: bool
    overall: Response | None
    why: Recipe
    warnings: tuple[RuleWarning, ...] = ()
    recist_overall: Response | None = None
    irecist_overall: Response | None = None
    complete: bool = True
    day: int | None = None
    post_progression: bool = False

    @property
    def reason(self) -> str:
        """Why this response, in words a reader can check (formatted on first use)."""
        return render(self.why)


class TrackSummary(NamedTuple):
    """Best overall response and progression date of one criterion."""

    criteria: Criteria
    best_overall_response: Response
    progression_date: date | None
    confirmed: bool
    reason: str
    first_iupd_date: date | None = None


class CaseResult(NamedTuple):
    """The response timeline of a case (an immutable named tuple).

    Attributes
    ----------
    case_id : str
        The case's id.
    criteria : Criteria
        The criterion of ``overall`` and ``best_overall_response``.
    timepoints : tuple[TimepointResult, ...]
        One per case timepoint, baseline first.
    best_overall_response : Response
        BOR (the iBOR for iRECIST).
    progression_date : date or None
        Date of the first PD (iRECIST: of the confirmed iUPD; None if unconfirmed).
    engine_version : str
        Identifies the rules version that computed this.
    warnings : tuple[RuleWarning, ...]
        Case-level warnings (baseline validation, BOR notes).
    recist, irecist : TrackSummary or None
        Both criteria's BOR and progression date (a track not run is None).
    metrics : Mapping
        Exploratory metrics: ETS, DpR, time to nadir (§9); computed when first read.
    """

    case_id: str
    criteria: Criteria
    timepoints: tuple[TimepointResult, ...]
    best_overall_response: Response
    progression_date: date | None
    engine_version: str = ENGINE_VERSION
    warnings: tuple[RuleWarning, ...] = ()
    recist: TrackSummary | None = None
    irecist: TrackSummary | None = None
    metrics: Mapping[str, Any] | None = None
    confirmation_required: bool = False


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _text(value: Response | None) -> str | None:
    return None if value is None else value.value


def warning_to_dict(warning: RuleWarning) -> dict[str, Any]:
    """JSON form of a warning: ``{code, message, lesion}``."""
    return {"code": warning.code, "message": warning.message, "lesion": warning.lesion}


def timepoint_to_dict(tp: TimepointResult) -> dict[str, Any]:
    """JSON form of one timepoint result (rules.md §10 keys first)."""
    return {
        "label": tp.label,
        "date": tp.date.isoformat() if tp.date else None,
        "sum_mm": _num(tp.sum_mm),
        "pct_from_baseline": _num(tp.pct_from_baseline),
        "pct_from_nadir": _num(tp.pct_from_nadir),
        "nadir_mm": _num(tp.nadir_mm),
        "target": _text(tp.target),
        "non_target": _text(tp.non_target),
        "new_lesions": tp.new_lesions,
        "overall": _text(tp.overall),
        "reason": tp.reason,
        "warnings": [warning_to_dict(w) for w in tp.warnings],
        "recist_overall": _text(tp.recist_overall),
        "irecist_overall": _text(tp.irecist_overall),
        "complete": tp.complete,
        "day": tp.day,
        "post_progression": tp.post_progression,
    }


def _track(summary: TrackSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    out = {
        "criteria": summary.criteria.value,
        "best_overall_response": summary.best_overall_response.value,
        "progression_date": summary.progression_date.isoformat()
        if summary.progression_date
        else None,
        "confirmed": summary.confirmed,
        "reason": summary.reason,
    }
    if summary.criteria is Criteria.IRECIST:
        out["first_iupd_date"] = (
            summary.first_iupd_date.isoformat() if summary.first_iupd_date else None
        )
    return out


def result_to_dict(result: CaseResult) -> dict[str, Any]:
    """The JSON output of rules.md §10 for a case result.

    Parameters
    ----------
    result : CaseResult
        What :func:`recist.evaluate` returned.

    Returns
    -------
    dict
        ``{"case_id", "criteria", "timepoints": [...], "best_overall_response",
        "progression_date", "warnings", "recist", "irecist", "metrics",
        "engine_version"}``; numbers are JSON floats, dates ISO strings.
    """
    return {
        "case_id": result.case_id,
        "criteria": result.criteria.value,
        "confirmation_required": result.confirmation_required,
        "timepoints": [timepoint_to_dict(tp) for tp in result.timepoints],
        "best_overall_response": result.best_overall_response.value,
        "progression_date": result.progression_date.isoformat()
        if result.progression_date
        else None,
        "warnings": [warning_to_dict(w) for w in result.warnings],
        "recist": _track(result.recist),
        "irecist": _track(result.irecist),
        "metrics": dict(result.metrics or {}),
        "engine_version": result.engine_version,
    }
