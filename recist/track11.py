"""The RECIST 1.1 timeline: per-timepoint categories with nadir bookkeeping (rules.md §4-5)."""

from __future__ import annotations

from collections.abc import Sequence

from recist.arith import NODE_NORMAL_UM, PD_ABSOLUTE_UM, fmt_mm, meets_pd, mm, pct
from recist.prepare import Prepared
from recist.reasons import Recipe, render
from recist.responses import (
    CR,
    ICPD,
    NE,
    NON_CR_NON_PD,
    PD,
    SD,
    Response,
)
from recist.result import RuleWarning, TimepointResult
from recist.rules11 import nontarget_response, overall_response, target_response
from recist.trackir import IrecistTracker


def run_recist11(
    prep: Prepared,
    min_sd_days: int,
    extra: dict[int, list[RuleWarning]] | None = None,
    tracker: IrecistTracker | None = None,
    irecist_primary: bool = False,
) -> list[TimepointResult]:
    """Evaluate every follow-up timepoint under RECIST 1.1.

    Parameters
    ----------
    prep : Prepared
        The aligned case.
    min_sd_days : int
        For the W16 warning (SD before the minimum duration).
    extra : dict, optional
        More warnings per timepoint index (technique changes).
    tracker : IrecistTracker, optional
        Steps iRECIST in the same pass, reusing this track's categories when the
        inputs are the same; its result fills ``irecist_overall``.
    irecist_primary : bool
        iRECIST case: ``overall`` and ``reason`` are the iRECIST ones.

    Returns
    -------
    list[TimepointResult]
        One per follow-up timepoint (the baseline is not included).
    """
    has_targets = bool(prep.target_ids)
    has_nt = bool(prep.nt_ids)
    baseline = prep.baseline_sum
    nadir = baseline
    last_eval: Response | None = None
    last_cr_label = ""
    # after the first PD the reappearance rule keeps the CR before it as its reference
    progressed = cr_before_pd = False
    # "progression at C3" once the case's criterion progressed (iRECIST: iCPD); BOR ignores the rest
    post_at: str | None = None
    ids, nodal = prep.target_ids, prep.target_nodal
    nt_ids, nt_nodal = prep.nt_ids, prep.nt_nodal
    out: list[TimepointResult] = []
    for tp in prep.timepoints[1:]:
        after_cr = last_eval is CR or cr_before_pd
        warnings: list[RuleWarning] = tp.warnings[:] if tp.warnings else []  # usually empty
        total = tp.sum_lb
        complete = tp.complete
        if has_targets:
            target, t_reason = target_response(
                tp.values, nodal, ids, total, complete, nadir, baseline, after_cr
            )
            if complete and total is not None and nadir is not None and 5 * total >= 6 * nadir:
                _near_pd(total, nadir, target, nodal, warnings)
            if not complete or 0 in tp.values:
                _target_notes(tp.values, nodal, ids, warnings)
        else:
            target, t_reason = None, None
            total = None
        if has_nt:
            non_target, nt_reason = nontarget_response(
                tp.nt_status, nt_nodal, tp.nt_short_axis, nt_ids, after_cr
            )
        else:
            non_target, nt_reason = None, None
        new = tp.new
        overall = overall_response(target, non_target, bool(new))
        if overall is PD and after_cr:
            # the CR to revise is the one before the first PD (iRECIST: any CR, as before)
            if last_eval is CR and (irecist_primary or not progressed):
                warnings.append(
                    RuleWarning(
                        "W17_CR_FOLLOWED_BY_DISEASE",
                        f"disease after the CR at {last_cr_label}: PD per Table 3 footnote; "
                        "the reader may revise that CR to PR if small lesions were always present",
                    )
                )
        elif (
            overall in _STABLE
            and tp.day is not None
            and tp.day < min_sd_days
            and (irecist_primary or not progressed)  # RECIST 1.1 BOR ends at the first PD
        ):
            warnings.append(
                RuleWarning(
                    "W16_SD_BEFORE_MIN_DURATION",
                    f"{overall} on day {tp.day} < {min_sd_days}: does not count as SD for BOR yet",
                )
            )
        if extra and tp.position in extra:
            warnings.extend(extra[tp.position])
        why: Recipe = (
            _overall_reason,
            overall,
            target,
            non_target,
            tuple(new) if new else (),
            t_reason,
            nt_reason,
        )
        shown = overall
        i_overall = None
        if tracker is not None:
            istep = tracker.step(tp, (target, non_target, nadir, after_cr))
            i_overall = istep.overall
            if istep.warnings:
                warnings.extend(istep.warnings)
            if irecist_primary:
                shown = i_overall
                why = (_irecist_reason, istep.reason, why)
        if post_at is not None:
            why = (_post_text, shown, post_at, why)
        pct_base = pct_nadir = None
        if total is not None and (complete or target is PD):
            if baseline is not None:
                pct_base = pct(total - baseline, baseline)
            if nadir is not None:
                pct_nadir = pct(total - nadir, nadir)
        out.append(
            _new_result(
                TimepointResult,
                (
                    tp.label,
                    tp.date,
                    mm(total),
                    pct_base,
                    pct_nadir,
                    mm(nadir),
                    target,
                    non_target,
                    bool(new),
                    shown,
                    why,
                    tuple(warnings) if warnings else (),
                    overall,
                    i_overall,
                    complete,
                    tp.day,
                    post_at is not None,
                ),
            )
        )
        if post_at is None:
            if irecist_primary:
                if i_overall is ICPD:
                    post_at = f"iCPD at {tp.label}"
            elif overall is PD:
                post_at = f"progression at {tp.label}"
        if overall is not NE:
            if overall is PD and not progressed:
                progressed, cr_before_pd = True, after_cr
            last_eval = overall
            if overall is CR:
                last_cr_label = tp.label
        if complete and total is not None and (nadir is None or total < nadir):
            nadir = total
    return out


_STABLE = frozenset((SD, NON_CR_NON_PD))


def _post_text(shown: Response, where: str, why: Recipe) -> str:
    """'PR (after progression at C3; not used for BOR): ...' (still starts with the code)."""
    text = render(why)
    head = f"{shown}: "
    if text.startswith(head):
        text = text[len(head) :]
    return f"{shown} (after {where}; not used for BOR): {text}"


def _irecist_reason(ireason: Recipe, reason: Recipe) -> str:
    return f"{render(ireason)} [RECIST 1.1: {render(reason)}]"


# tuple.__new__ skips the generated NamedTuple.__new__ (2-3x cheaper in this hot loop)
_new_result = tuple.__new__


def _overall_reason(
    overall: Response,
    target: Response | None,
    non_target: Response | None,
    new_ids: tuple[str, ...],
    t_reason: Recipe,
    nt_reason: Recipe,
) -> str:
    new = bool(new_ids)
    if target is None and non_target is None:
        if new:
            return f"PD: new lesion {', '.join(new_ids)} (no disease at baseline)"
        return "NED: no disease at baseline and no new lesion"
    head = f"{overall}: target {target or '-'}, non-target {non_target or '-'}, new lesion "
    head += f"yes ({', '.join(new_ids)})" if new else "no"
    table = "Table 1" if target is not None else "Table 2"
    details = "; ".join(r for r in (render(t_reason), render(nt_reason)) if r)
    return f"{head} ({table}). {details}" if details else f"{head} ({table})"


def _near_pd(
    total: int, nadir: int, target: Response, nodal: list[bool], out: list[RuleWarning]
) -> None:
    if target is PD:
        return  # PD already (a target back after a CR): "near PD" would contradict it
    if 5 * total >= 6 * nadir and total - nadir < PD_ABSOLUTE_UM and total > nadir:
        out.append(
            RuleWarning(
                "W11_NEAR_PD",
                f"sum {fmt_mm(total)} mm is ≥ 20 % over nadir {fmt_mm(nadir)} mm "
                f"but only +{fmt_mm(total - nadir)} mm (< 5 mm): not PD",
            )
        )
    elif target is CR and meets_pd(total, nadir):
        out.append(
            RuleWarning(
                "W11_NEAR_PD",
                f"the sum rule would give PD ({fmt_mm(total)} mm vs nadir {fmt_mm(nadir)} mm) "
                "but every nodal target is < 10 mm: CR takes precedence (O-5)",
            )
        )


def _target_notes(
    values: list[int | None], nodal: list[bool], ids: Sequence[str], out: list[RuleWarning]
) -> None:
    for i, v in enumerate(values):
        if v is None:
            out.append(
                RuleWarning(
                    "W09_TARGET_NOT_EVALUABLE",
                    f"{ids[i]} has no value (NE); if it is present but too small to measure, "
                    "enter TSTM (5 mm)",
                    ids[i],
                )
            )
        elif v == 0 and nodal[i]:
            out.append(
                RuleWarning(
                    "W10_NODAL_TARGET_ZERO",
                    f"nodal target {ids[i]} entered as 0 mm; enter its short axis "
                    f"(< {fmt_mm(NODE_NORMAL_UM)} mm is normal)",
                    ids[i],
                )
            )
