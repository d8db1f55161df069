"""Evaluate a case: RECIST 1.1 and iRECIST tracks, BOR, progression date, metrics, warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from recist.arith import mm
from recist.bor import BorRules, best_overall_response
from recist.case import Case, Settings
from recist.checks import baseline_warnings, technique_warnings, timeline_warnings
from recist.metrics import LazyMetrics
from recist.model import Criteria
from recist.prepare import Prepared, PreparedTimepoint, prepare
from recist.responses import (
    CR,
    ICPD,
    ICR,
    INON_CR_NON_PD,
    IPR,
    ISD,
    IUPD,
    NE,
    NON_CR_NON_PD,
    PD,
    PR,
    SD,
    Response,
)
from recist.result import ENGINE_VERSION, CaseResult, RuleWarning, TimepointResult, TrackSummary
from recist.track11 import run_recist11
from recist.trackir import IrecistTracker, IStep

R = Response
_DEFAULT_SETTINGS = Settings()


def resolve_settings(case: Case, settings: Settings | None) -> Settings:
    """Settings with the case's protocol values filled in where the settings leave them None."""
    s = settings or _DEFAULT_SETTINGS
    return replace(
        s,
        criteria=s.criteria or case.criteria,
        confirmation_required=(
            case.confirmation_required
            if s.confirmation_required is None
            else s.confirmation_required
        ),
        min_sd_days=case.min_sd_days if s.min_sd_days is None else s.min_sd_days,
    )


def evaluate(case: Case, settings: Settings | None = None) -> CaseResult:
    """Evaluate a patient timeline.

    Parameters
    ----------
    case : Case
        The timeline (first timepoint = baseline).
    settings : Settings, optional
        Overrides; None takes criteria, confirmation and ``min_sd_days`` from
        the case and every other choice from the defaults of rules.md §12.

    Returns
    -------
    CaseResult
        Per-timepoint results, BOR (the iBOR for iRECIST), progression date,
        both tracks' summaries, warnings and exploratory metrics.
    """
    s = settings or _DEFAULT_SETTINGS
    # resolved without dataclasses.replace: evaluate runs 10,000 times a second
    criteria = s.criteria or case.criteria
    confirmation = (
        case.confirmation_required if s.confirmation_required is None else s.confirmation_required
    )
    min_sd_days = case.min_sd_days if s.min_sd_days is None else s.min_sd_days
    reference = (
        case.first_dose_date
        if s.sd_from_first_dose and case.first_dose_date is not None
        else case.timepoints[0].date
    )
    prep = prepare(case, s, reference)
    is_irecist = criteria is Criteria.IRECIST
    tracker = IrecistTracker(prep, s) if is_irecist or s.with_irecist else None
    # one pass over the timepoints for both criteria; iRECIST reuses RECIST 1.1 categories
    follow_ups = run_recist11(prep, min_sd_days, technique_warnings(case), tracker, is_irecist)
    # run_recist11 sets recist_overall on every follow-up; the filter only narrows the type
    responses = [r for tp in follow_ups if (r := tp.recist_overall) is not None]
    timeline = prep.timepoints[1:]
    rules = _rules(confirmation, min_sd_days, s, False)
    recist = _recist_summary(timeline, responses, rules)
    irecist = None
    if tracker is not None:
        irecist = _irecist_summary(
            timeline, tracker.steps, _rules(confirmation, min_sd_days, s, True)
        )
    primary = irecist if is_irecist and irecist else recist
    timepoints = [_baseline_result(prep, baseline_warnings(case, s)), *follow_ups]
    if confirmation and not primary.confirmed:
        timepoints = _confirmation_notes(timepoints, s.confirm_min_days)
    return CaseResult(
        case.id,
        criteria,
        tuple(timepoints),
        primary.best_overall_response,
        primary.progression_date,
        ENGINE_VERSION,
        tuple(timeline_warnings(case, s)),
        recist,
        irecist,
        LazyMetrics(prep, responses, s, rules),
        confirmation,
    )


_RULES_CACHE: dict[tuple[object, ...], BorRules] = {}


def _rules(confirmation: bool, min_sd_days: int, s: Settings, irecist: bool) -> BorRules:
    key = (
        confirmation,
        min_sd_days,
        s.confirm_min_days,
        s.max_ne_between,
        s.accept_sd_between,
        irecist,
    )
    rules = _RULES_CACHE.get(key)
    if rules is None:
        rules = BorRules(confirmation, min_sd_days, *key[2:])
        if len(_RULES_CACHE) < 1000:
            _RULES_CACHE[key] = rules
    return rules


def _baseline_result(prep: Prepared, warnings: list[RuleWarning]) -> TimepointResult:
    tp = prep.timepoints[0]
    total = prep.baseline_sum
    parts = []
    if prep.target_ids:
        sod = mm(total) if total is not None else "-"
        n = len(prep.target_ids)
        parts.append(f"baseline SOD {sod} mm ({n} target{'' if n == 1 else 's'})")
    if prep.nt_ids:
        n = len(prep.nt_ids)
        parts.append(f"{n} non-target{'' if n == 1 else 's'}")
    reason = "Baseline: " + (", ".join(parts) if parts else "no disease recorded")
    return TimepointResult(
        label=tp.label,
        date=tp.date,
        sum_mm=mm(total),
        pct_from_baseline=None,
        pct_from_nadir=None,
        nadir_mm=None,
        target=None,
        non_target=None,
        new_lesions=False,
        overall=None,
        why=reason,
        warnings=tuple(warnings + tp.warnings),
        complete=tp.complete,
        day=tp.day,
    )


_STABLE = frozenset((SD, NON_CR_NON_PD, ISD, INON_CR_NON_PD))


def _recist_summary(
    timeline: list[PreparedTimepoint], responses: list[Response], rules: BorRules
) -> TrackSummary:
    bor, why, confirmed = best_overall_response(responses, timeline, rules)
    pd_date: date | None = None
    if PD in responses:
        tp = timeline[responses.index(PD)]
        pd_date = tp.date
        why += f"; PD dated {tp.date} ({tp.label})"
    return TrackSummary(Criteria.RECIST11, bor, pd_date, confirmed, why)


def _irecist_summary(
    timeline: list[PreparedTimepoint], isteps: list[IStep], rules: BorRules
) -> TrackSummary:
    bor, why, confirmed = best_overall_response([st.bor_response for st in isteps], timeline, rules)
    prog: date | None = None
    first_iupd: date | None = None
    for tp, st in zip(timeline, isteps, strict=True):
        if first_iupd is None and st.overall is IUPD:
            first_iupd = tp.date
        if st.overall is ICPD:
            prog = st.progression_date
            why += f"; iCPD at {tp.label}, progression dated to the iUPD on {prog}"
            break
    if prog is None and first_iupd is not None:
        why += f"; iUPD on {first_iupd} never confirmed: iRECIST progression censored (O-15)"
    return TrackSummary(Criteria.IRECIST, bor, prog, confirmed, why, first_iupd)


def _confirmation_notes(
    timepoints: list[TimepointResult], confirm_days: int
) -> list[TimepointResult]:
    """W15: a CR/PR still waiting for its confirmation scan (§11 item 15)."""
    last = timepoints[-1]
    if (
        len(timepoints) < 2
        or last.overall not in _GOOD
        or last.date is None
        or last.post_progression
    ):
        return timepoints
    anchor = last
    for tp in reversed(timepoints[1:]):
        if tp.overall in _GOOD or tp.overall is NE:
            if tp.overall is not NE:
                anchor = tp
            continue
        break
    if anchor.date is None:
        return timepoints
    due = anchor.date + timedelta(days=confirm_days)
    note = RuleWarning(
        "W15_AWAITING_CONFIRMATION",
        f"{anchor.overall} at {anchor.label} is not confirmed yet: "
        f"confirmation scan on or after {due}",
    )
    return [*timepoints[:-1], last._replace(warnings=(*last.warnings, note))]


_GOOD = frozenset((CR, PR, ICR, IPR))
