"""The RECIST 1.1 timeline: per-timepoint categories with nadir bookkeeping (rules.md §4-5)."""

from __future__ import annotations

from dataclasses import dataclass

from recist.arith import NODE_NORMAL_UM, PD_ABSOLUTE_UM, fmt_mm, meets_pd
from recist.prepare import Prepared
from recist.responses import Response
from recist.result import RuleWarning
from recist.rules11 import nontarget_response, overall_response, target_response

R = Response


@dataclass(slots=True)
class Step:
    """RECIST 1.1 result of one follow-up timepoint, before it is turned into a result."""

    nadir: int | None
    target: Response | None
    non_target: Response | None
    new: bool
    overall: Response
    reason: str
    warnings: list[RuleWarning]


def run_recist11(prep: Prepared) -> list[Step | None]:
    """Evaluate every follow-up timepoint under RECIST 1.1.

    Parameters
    ----------
    prep : Prepared
        The aligned case.

    Returns
    -------
    list
        ``None`` for the baseline, then one :class:`Step` per follow-up.
    """
    has_targets = bool(prep.target_ids)
    has_nt = bool(prep.nt_ids)
    baseline = prep.baseline_sum
    nadir = baseline
    last_eval: Response | None = None
    last_cr_label = ""
    ids, nodal = prep.target_ids, prep.target_nodal
    steps: list[Step | None] = [None]
    for tp in prep.timepoints[1:]:
        after_cr = last_eval is R.CR
        warnings: list[RuleWarning] = []
        if has_targets:
            target, t_reason = target_response(
                tp.values, nodal, ids, tp.sum_lb, tp.complete, nadir, baseline, after_cr
            )
            if tp.complete and tp.sum_lb is not None and nadir is not None:
                _near_pd(tp.sum_lb, nadir, target, nodal, warnings)
            _target_notes(tp.values, nodal, ids, warnings)
        else:
            target, t_reason = None, ""
        if has_nt:
            non_target, nt_reason = nontarget_response(
                tp.nt_status, prep.nt_nodal, tp.nt_short_axis, prep.nt_ids, after_cr
            )
        else:
            non_target, nt_reason = None, ""
        new = bool(tp.new)
        overall = overall_response(target, non_target, new)
        reason = _overall_reason(overall, target, non_target, new, t_reason, nt_reason, tp.new)
        if overall is R.PD and after_cr:
            warnings.append(
                RuleWarning(
                    "W17_CR_FOLLOWED_BY_DISEASE",
                    f"disease after the CR at {last_cr_label}: PD per Table 3 footnote; "
                    "the reader may revise that CR to PR if small lesions were always present",
                )
            )
        steps.append(Step(nadir, target, non_target, new, overall, reason, warnings))
        if overall is not R.NE:
            last_eval = overall
            if overall is R.CR:
                last_cr_label = tp.label
        if tp.complete and tp.sum_lb is not None and (nadir is None or tp.sum_lb < nadir):
            nadir = tp.sum_lb
    return steps


def _overall_reason(
    overall: Response,
    target: Response | None,
    non_target: Response | None,
    new: bool,
    t_reason: str,
    nt_reason: str,
    new_ids: dict[str, object],
) -> str:
    if target is None and non_target is None:
        if new:
            return f"PD: new lesion {', '.join(new_ids)} (no disease at baseline)"
        return "NED: no disease at baseline and no new lesion"
    head = f"{overall}: target {target or '-'}, non-target {non_target or '-'}, new lesion "
    head += f"yes ({', '.join(new_ids)})" if new else "no"
    table = "Table 1" if target is not None else "Table 2"
    details = "; ".join(r for r in (t_reason, nt_reason) if r)
    return f"{head} ({table}). {details}" if details else f"{head} ({table})"


def _near_pd(total: int, nadir: int, target: Response, nodal: list[bool], out: list[RuleWarning]) -> None:
    if 5 * total >= 6 * nadir and total - nadir < PD_ABSOLUTE_UM and total > nadir:
        out.append(
            RuleWarning(
                "W11_NEAR_PD",
                f"sum {fmt_mm(total)} mm is >= 20 % over nadir {fmt_mm(nadir)} mm "
                f"but only +{fmt_mm(total - nadir)} mm (< 5 mm): not PD",
            )
        )
    elif target is R.CR and meets_pd(total, nadir):
        out.append(
            RuleWarning(
                "W11_NEAR_PD",
                f"the sum rule would give PD ({fmt_mm(total)} mm vs nadir {fmt_mm(nadir)} mm) "
                "but every nodal target is < 10 mm: CR takes precedence (O-5)",
            )
        )


def _target_notes(values: list[int | None], nodal: list[bool], ids: list[str], out: list[RuleWarning]) -> None:
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
