"""The response of the liver metastases alone: a protocol-defined organ response.

**Not a RECIST category.**  RECIST 1.1 assesses the patient as a whole; the
conversion trial's protocol asks whether "the liver metastases reach a partial
response", so Caliper applies the RECIST 1.1 arithmetic (rules.md §4: sum of
the liver targets' diameters against its baseline and nadir, exact thresholds,
the liver non-targets, new *liver* lesions) to the liver lesions only.  Which
lesion is "liver" comes from the controlled organ list (:mod:`recist.organs`):
a lesion whose organ is the listed organ ``liver`` (SNOMED CT 10200004).

Rules for this organ response (documented in docs/ENDPOINTS.md):

* The liver case keeps, at every timepoint, only the liver targets, liver
  non-targets and new liver lesions; everything else (other organs' lesions,
  new lesions elsewhere) is ignored.  Technique and timeline are the patient's.
* Per-timepoint categories are the RECIST 1.1 ones of that reduced case; no
  confirmation is applied (the MDT looks at the scan in front of it).
* A patient with no liver lesion at baseline has no liver response
  (``applicable`` False).
* The **best liver response** is the best per-timepoint category before the
  first liver PD (CR > PR > SD > non-CR/non-PD > PD > NE), optionally only up
  to a date (the MDT decision date for the conversion criterion).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from recist.case import Case, CaseTimepoint, Settings
from recist.evaluate import evaluate
from recist.model import Criteria
from recist.organs import find_organ
from recist.responses import Response

__all__ = ["LIVER", "LiverResponse", "LiverTimepoint", "is_liver", "liver_case", "liver_response"]

LIVER = "liver"
"""The name of the liver in :data:`recist.organs.ORGANS`."""

_RANK = {
    Response.CR: 0,
    Response.PR: 1,
    Response.SD: 2,
    Response.NON_CR_NON_PD: 3,
    Response.PD: 4,
    Response.NE: 5,
}
_SETTINGS = Settings(criteria=Criteria.RECIST11, confirmation_required=False, with_irecist=False)


def is_liver(organ: str) -> bool:
    """True when *organ* names the listed organ ``liver`` (case and synonyms ignored)."""
    found = find_organ(organ)
    return found is not None and found.name == LIVER


def liver_case(case: Case) -> Case | None:
    """The case restricted to liver lesions; None when the baseline has no liver lesion."""
    timepoints = []
    for tp in case.timepoints:
        timepoints.append(
            CaseTimepoint(
                label=tp.label,
                date=tp.date,
                targets=tuple(t for t in tp.targets if is_liver(t.organ)),
                non_targets=tuple(n for n in tp.non_targets if is_liver(n.organ)),
                new_lesions=tuple(n for n in tp.new_lesions if is_liver(n.organ)),
                slice_thickness_um=tp.slice_thickness_um,
                modality=tp.modality,
                contrast_phase=tp.contrast_phase,
                cycle=tp.cycle,
            )
        )
    baseline = timepoints[0] if timepoints else None
    if baseline is None or not (baseline.targets or baseline.non_targets):
        return None
    return replace(
        case,
        timepoints=tuple(timepoints),
        criteria=Criteria.RECIST11,
        confirmation_required=False,
    )


@dataclass(frozen=True, slots=True)
class LiverTimepoint:
    """The liver response at one follow-up timepoint."""

    label: str
    date: date | None
    sum_mm: Decimal | None
    pct_from_baseline: Decimal | None
    target: Response | None
    non_target: Response | None
    new_lesions: bool
    response: Response | None
    reason: str
    post_progression: bool = False


@dataclass(frozen=True, slots=True)
class LiverResponse:
    """The liver response of a patient.

    Attributes
    ----------
    applicable : bool
        False when the baseline has no liver lesion (then nothing else is set).
    baseline_sum_mm : Decimal or None
        The liver targets' baseline sum.
    timepoints : tuple of LiverTimepoint
        Follow-up timepoints in order.
    note : str
        Why not applicable, or a one-line summary.
    """

    applicable: bool
    baseline_sum_mm: Decimal | None = None
    timepoints: tuple[LiverTimepoint, ...] = ()
    note: str = ""

    def best(self, up_to: date | None = None) -> LiverTimepoint | None:
        """The timepoint of the best liver response before the first liver PD.

        Parameters
        ----------
        up_to
            Only timepoints dated on or before this date (undated ones are skipped
            when a date is given).  None: all.

        Returns
        -------
        LiverTimepoint or None
            The earliest timepoint with the best category; None when there is none.
        """
        best: LiverTimepoint | None = None
        best_rank = 0
        for tp in self.timepoints:
            if tp.post_progression or tp.response is None:
                continue
            if up_to is not None and (tp.date is None or tp.date > up_to):
                continue
            rank = _RANK.get(tp.response, 9)
            if best is None or rank < best_rank:
                best, best_rank = tp, rank
            if tp.response is Response.PD:
                break
        return best

    def at(self, label: str) -> LiverTimepoint | None:
        """The liver result of the timepoint labelled *label*, or None."""
        return next((tp for tp in self.timepoints if tp.label == label), None)


def liver_response(case: Case) -> LiverResponse:
    """The RECIST 1.1 arithmetic on the liver lesions of *case* (module docstring).

    Parameters
    ----------
    case : Case
        The whole patient timeline (first timepoint = baseline).

    Returns
    -------
    LiverResponse
    """
    liver = liver_case(case)
    if liver is None:
        return LiverResponse(False, note="no liver lesion recorded at baseline")
    result = evaluate(liver, _SETTINGS)
    follow_ups = tuple(
        LiverTimepoint(
            label=tp.label,
            date=tp.date,
            sum_mm=tp.sum_mm,
            pct_from_baseline=tp.pct_from_baseline,
            target=tp.target,
            non_target=tp.non_target,
            new_lesions=tp.new_lesions,
            response=tp.overall,
            reason=tp.reason,
            post_progression=tp.post_progression,
        )
        for tp in result.timepoints[1:]
    )
    base = result.timepoints[0]
    response = LiverResponse(True, base.sum_mm, follow_ups)
    best = response.best()
    note = f"best liver response {best.response} at {best.label}" if best else "no follow-up yet"
    return replace(response, note=note)
