"""Evaluate a case: RECIST 1.1 and iRECIST tracks, BOR, progression date, metrics, warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from recist.arith import mm, pct
from recist.bor import BorInput, BorRules, best_overall_response
from recist.case import Case, Settings
from recist.checks import baseline_warnings, technique_warnings, timeline_warnings
from recist.metrics import tumour_metrics
from recist.model import Criteria
from recist.prepare import Prepared, prepare
from recist.responses import Response
from recist.result import CaseResult, RuleWarning, TimepointResult, TrackSummary
from recist.track11 import Step, run_recist11
from recist.trackir import IStep, run_irecist

R = Response
_DEFAULT_SETTINGS = Settings()


def resolve_settings(case: Case, settings: Settings | None) -> Settings:
    """Settings with the case's protocol values filled in where the settings leave them None."""
    s = settings or _DEFAULT_SETTINGS
    return replace(
        s,
        criteria=s.criteria or case.criteria,
        confirmation_required=(
            case.confirmation_required if s.confirmation_required is None else s.confirmation_required
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
    s = resolve_settings(case, settings)
    assert s.criteria is not None and s.confirmation_required is not None
    assert s.min_sd_days is not None
    reference = (
        case.first_dose_date
        if s.sd_from_first_dose and case.first_dose_date is not None
        else case.timepoints[0].date
    )
    prep = prepare(case, s, reference)
    steps = run_recist11(prep)
    irecist_wanted = s.criteria is Criteria.IRECIST or s.with_irecist
    isteps = run_irecist(prep, s) if irecist_wanted else None
    rules = BorRules(
        confirmation=s.confirmation_required,
        min_sd_days=s.min_sd_days,
        confirm_days=s.confirm_min_days,
        max_ne=s.max_ne_between,
        accept_sd=s.accept_sd_between,
    )
    recist = _recist_summary(prep, steps, rules)
    irecist = _irecist_summary(prep, isteps, replace(rules, irecist=True)) if isteps else None
    primary = irecist if s.criteria is Criteria.IRECIST and irecist else recist
    tech = technique_warnings(case)
    timepoints = [_baseline_result(prep, baseline_warnings(case, s))]
    for i in range(1, len(prep.timepoints)):
        step = steps[i]
        assert step is not None
        timepoints.append(
            _follow_up_result(prep, i, step, isteps[i] if isteps else None, s, tech.get(i, []))
        )
    timepoints = _confirmation_notes(timepoints, s, primary)
    return CaseResult(
        case_id=case.id,
        criteria=s.criteria,
        timepoints=tuple(timepoints),
        best_overall_response=primary.best_overall_response,
        progression_date=primary.progression_date,
        warnings=tuple(timeline_warnings(case, s)),
        recist=recist,
        irecist=irecist,
        metrics=tumour_metrics(prep, steps, s),
        confirmation_required=s.confirmation_required,
    )


def _baseline_result(prep: Prepared, warnings: list[RuleWarning]) -> TimepointResult:
    tp = prep.timepoints[0]
    total = prep.baseline_sum
    parts = []
    if prep.target_ids:
        parts.append(f"baseline SOD {mm(total) if total is not None else '-'} mm ({len(prep.target_ids)} targets)")
    if prep.nt_ids:
        parts.append(f"{len(prep.nt_ids)} non-target(s)")
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
        reason=reason,
        warnings=tuple(warnings + tp.warnings),
        complete=tp.complete,
        day=tp.day,
    )


def _follow_up_result(
    prep: Prepared,
    i: int,
    step: Step,
    istep: IStep | None,
    s: Settings,
    extra: list[RuleWarning],
) -> TimepointResult:
    tp = prep.timepoints[i]
    total = tp.sum_lb if prep.target_ids else None
    baseline = prep.baseline_sum
    show_pct = total is not None and (tp.complete or step.target is R.PD)
    overall = step.overall
    reason = step.reason
    warnings = step.warnings + tp.warnings + extra
    if istep is not None:
        warnings = warnings + istep.warnings
        if s.criteria is Criteria.IRECIST:
            overall = istep.overall
            reason = f"{istep.reason} [RECIST 1.1: {step.reason}]"
    if overall in (R.SD, R.NON_CR_NON_PD, R.ISD, R.INON_CR_NON_PD) and tp.day is not None and tp.day < (s.min_sd_days or 0):
        warnings = warnings + [
            RuleWarning(
                "W16_SD_BEFORE_MIN_DURATION",
                f"{overall} on day {tp.day} < {s.min_sd_days}: does not count as SD for BOR yet",
            )
        ]
    return TimepointResult(
        label=tp.label,
        date=tp.date,
        sum_mm=mm(total),
        pct_from_baseline=pct(total - baseline, baseline) if show_pct and baseline is not None and total is not None else None,
        pct_from_nadir=pct(total - step.nadir, step.nadir) if show_pct and step.nadir is not None and total is not None else None,
        nadir_mm=mm(step.nadir),
        target=step.target,
        non_target=step.non_target,
        new_lesions=step.new,
        overall=overall,
        reason=reason,
        warnings=tuple(warnings),
        recist_overall=step.overall,
        irecist_overall=istep.overall if istep is not None else None,
        complete=tp.complete,
        day=tp.day,
    )


def _bor_points(prep: Prepared, responses: list[Response]) -> list[BorInput]:
    return [
        BorInput(r, tp.day, tp.date, tp.label)
        for tp, r in zip(prep.timepoints[1:], responses, strict=True)
    ]


def _recist_summary(prep: Prepared, steps: list[Step | None], rules: BorRules) -> TrackSummary:
    responses = [st.overall for st in steps[1:] if st is not None]
    bor, why, confirmed = best_overall_response(_bor_points(prep, responses), rules)
    pd_date: date | None = None
    for tp, r in zip(prep.timepoints[1:], responses, strict=True):
        if r is R.PD:
            pd_date = tp.date
            why += f"; PD dated {tp.date} ({tp.label})"
            break
    return TrackSummary(Criteria.RECIST11, bor, pd_date, confirmed, why)


def _irecist_summary(prep: Prepared, isteps: list[IStep | None], rules: BorRules) -> TrackSummary:
    responses = [st.bor_response for st in isteps[1:] if st is not None]
    bor, why, confirmed = best_overall_response(_bor_points(prep, responses), rules)
    prog: date | None = None
    first_iupd: date | None = None
    for tp, st in zip(prep.timepoints[1:], isteps[1:], strict=True):
        assert st is not None
        if first_iupd is None and st.overall is R.IUPD:
            first_iupd = tp.date
        if st.overall is R.ICPD:
            prog = st.progression_date
            why += f"; iCPD at {tp.label}, progression dated to the iUPD on {prog}"
            break
    if prog is None and first_iupd is not None:
        why += f"; iUPD on {first_iupd} never confirmed: iRECIST progression censored (O-15)"
    return TrackSummary(Criteria.IRECIST, bor, prog, confirmed, why, first_iupd)


def _confirmation_notes(
    timepoints: list[TimepointResult], s: Settings, primary: TrackSummary
) -> list[TimepointResult]:
    """W15: a CR/PR still waiting for its confirmation scan (§11 item 15)."""
    if not s.confirmation_required or primary.confirmed or len(timepoints) < 2:
        return timepoints
    last = timepoints[-1]
    if last.overall not in (R.CR, R.PR, R.ICR, R.IPR) or last.date is None:
        return timepoints
    anchor = last
    for tp in reversed(timepoints[1:]):
        if tp.overall in (R.CR, R.PR, R.ICR, R.IPR, R.NE):
            if tp.overall is not R.NE:
                anchor = tp
            continue
        break
    if anchor.date is None:
        return timepoints
    from datetime import timedelta

    due = anchor.date + timedelta(days=s.confirm_min_days)
    note = RuleWarning(
        "W15_AWAITING_CONFIRMATION",
        f"{anchor.overall} at {anchor.label} is not confirmed yet: confirmation scan on or after {due}",
    )
    return [*timepoints[:-1], replace(last, warnings=(*last.warnings, note))]
