"""The iRECIST timeline (Seymour 2017; rules.md §8): iUPD/iCPD, new-lesion targets, resets.

State machine of §8.4.  ``pending`` is the iUPD reference timepoint; the
target/non-target categories are the RECIST 1.1 ones computed with the
iRECIST nadir (scans < 28 days after iUPD excluded) and "after iCR".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from recist.arith import LESION_MEASURABLE_UM, NODE_MEASURABLE_UM, PD_ABSOLUTE_UM, fmt_mm, meets_pd
from recist.case import LesionStatus, Settings
from recist.prepare import NewLesion, Prepared, PreparedTimepoint
from recist.reasons import Recipe
from recist.responses import (
    CR,
    ICPD,
    ICR,
    INON_CR_NON_PD,
    IPR,
    IUPD,
    NE,
    NED,
    NON_CR_NON_PD,
    PD,
    PR,
    SD,
    TO_IRECIST,
    Response,
)
from recist.result import RuleWarning
from recist.rules11 import nontarget_response, overall_response, target_response

R = Response
_RANK = {CR: 0, PR: 1, SD: 2, NON_CR_NON_PD: 3, NED: 3, NE: 4, PD: 5}
_PROGRESSED = (LesionStatus.UNEQUIVOCAL_PROGRESSION, LesionStatus.FURTHER_INCREASE)
MAX_NLT = 5
MAX_NLT_PER_ORGAN = 2


@dataclass(slots=True)
class IStep:
    """iRECIST result of one follow-up timepoint."""

    overall: Response
    reason: Recipe
    warnings: list[RuleWarning]
    bor_response: Response
    progression_date: date | None = None


@dataclass(slots=True)
class Pending:
    """The iUPD reference timepoint (§8.4 state)."""

    index: int
    day: int | None
    date: date | None
    label: str
    total: int | None
    som: int
    nlnt: dict[str, int | None]
    nt_short_axis: list[int | None]
    new_ids: set[str]
    triggers: set[str]
    base: Response


@dataclass(slots=True)
class _State:
    nadir: int | None
    last_eval: Response | None = None
    pending: Pending | None = None
    confirmed: bool = False
    seen: set[str] = field(default_factory=set)
    nlt: dict[str, str] = field(default_factory=dict)
    nlnt: set[str] = field(default_factory=set)
    som_nadir: int | None = None
    prog_date: date | None = None


def _classify(state: _State, fresh: list[NewLesion]) -> list[str]:
    """Assign first-time new lesions to NLT (largest measurable first) or NLNT (§8.2)."""
    per_organ: dict[str, int] = {}
    for organ in state.nlt.values():
        per_organ[organ] = per_organ.get(organ, 0) + 1

    def measurable(n: NewLesion) -> bool:
        limit = NODE_MEASURABLE_UM if n.nodal else LESION_MEASURABLE_UM
        return not n.tstm and n.size_um is not None and n.size_um >= limit

    over_limit = []
    for n in sorted(fresh, key=lambda n: -(n.size_um or 0) if measurable(n) else 1):
        if (
            measurable(n)
            and len(state.nlt) < MAX_NLT
            and per_organ.get(n.organ_key, 0) < MAX_NLT_PER_ORGAN
        ):
            state.nlt[n.id] = n.organ_key
            per_organ[n.organ_key] = per_organ.get(n.organ_key, 0) + 1
        else:
            if measurable(n):
                over_limit.append(n.id)
            state.nlnt.add(n.id)
        state.seen.add(n.id)
    return over_limit


def _som(state: _State, new: dict[str, NewLesion]) -> int:
    """NLT sum of measurements (absent or resolved = 0; never added to the target SOD)."""
    return sum((new[i].size_um or 0) if i in new else 0 for i in state.nlt)


def run_irecist(
    prep: Prepared,
    s: Settings,
    raw: list[tuple[Response | None, Response | None, int | None, bool]] | None = None,
) -> list[IStep]:
    """Evaluate every follow-up timepoint under iRECIST.

    Parameters
    ----------
    prep : Prepared
        The aligned case.
    s : Settings
        O-13 (``irecist_strict_table2``) and O-14 (confirmation window).
    raw : list, optional
        The RECIST 1.1 track's ``(target, non_target, nadir, after_cr)`` per
        follow-up; reused whenever the iRECIST nadir and CR history are the same.

    Returns
    -------
    list[IStep]
        One per follow-up (baseline excluded); confirmed iUPD timepoints get
        ``bor_response`` iCPD (Seymour Table 3).
    """
    tracker = IrecistTracker(prep, s)
    for k, tp in enumerate(prep.timepoints[1:]):
        tracker.step(tp, raw[k] if raw else None)
    return tracker.steps


class IrecistTracker:
    """The iRECIST state machine, stepped one follow-up at a time.

    The RECIST 1.1 track drives it from its own loop (one pass over the
    timepoints for both criteria) and hands over its categories for reuse.

    Parameters
    ----------
    prep : Prepared
        The aligned case.
    s : Settings
        O-13 and O-14 choices.
    """

    __slots__ = ("prep", "settings", "state", "steps")

    def __init__(self, prep: Prepared, s: Settings) -> None:
        self.prep = prep
        self.settings = s
        self.state = _State(nadir=prep.baseline_sum)
        self.steps: list[IStep] = []

    def step(
        self,
        tp: PreparedTimepoint,
        same: tuple[Response | None, Response | None, int | None, bool] | None = None,
    ) -> IStep:
        """Evaluate next follow-up; ``same`` = RECIST 1.1 (target, non-target, nadir, after CR)."""
        result = _step(self.prep, tp, self.state, self.settings, self.steps, same)
        self.steps.append(result)
        return result


def _step(
    prep: Prepared,
    tp: PreparedTimepoint,
    st: _State,
    s: Settings,
    steps: list[IStep],
    same: tuple[Response | None, Response | None, int | None, bool] | None,
) -> IStep:
    after_cr = st.last_eval is ICR
    target = nt = None
    if same is not None and same[2] == st.nadir and same[3] == after_cr:
        target, nt = same[0], same[1]  # identical inputs: the RECIST 1.1 categories stand
        if (
            st.pending is None
            and not st.confirmed
            and not tp.new
            and not st.seen
            and target is not PD
            and nt is not PD
        ):
            return _quiet_step(tp, st, overall_response(target, nt, False))
    elif prep.target_ids:
        target, _ = target_response(
            tp.values,
            prep.target_nodal,
            prep.target_ids,
            tp.sum_lb,
            tp.complete,
            st.nadir,
            prep.baseline_sum,
            after_cr,
        )
        if prep.nt_ids:
            nt, _ = nontarget_response(
                tp.nt_status, prep.nt_nodal, tp.nt_short_axis, prep.nt_ids, after_cr
            )
    elif prep.nt_ids:
        nt, _ = nontarget_response(
            tp.nt_status, prep.nt_nodal, tp.nt_short_axis, prep.nt_ids, after_cr
        )
    base = overall_response(target, nt, False)
    fresh = [n for i, n in tp.new.items() if i not in st.seen] if tp.new else []
    warnings: list[RuleWarning] = []
    if st.confirmed:
        return IStep(ICPD, "iCPD: progression already confirmed", warnings, ICPD)
    p = st.pending
    if p is not None:
        since = tp.day - p.day if tp.day is not None and p.day is not None else None
        if since is not None and since < s.irecist_min_confirm_days:
            warnings.append(
                RuleWarning(
                    "W18_IRECIST_TIMING",
                    f"{tp.label} is {since} days after the iUPD at {p.label} "
                    f"(< {s.irecist_min_confirm_days}): not used to confirm and not a reference "
                    "(a symptom scan with an additional new lesion may confirm: reader decision)",
                )
            )
            return IStep(
                IUPD,
                f"iUPD: scan {since} days after iUPD at {p.label} is too early to confirm",
                warnings,
                IUPD,
            )
        if since is not None and since > s.irecist_max_confirm_days:
            warnings.append(
                RuleWarning(
                    "W18_IRECIST_TIMING",
                    f"{tp.label} is {since} days after the iUPD at {p.label} "
                    f"(> {s.irecist_max_confirm_days}): used, but outside the 4-8 week window",
                )
            )
    if fresh:
        over = _classify(st, fresh)
        if over:
            warnings.append(
                RuleWarning(
                    "W18_IRECIST_TIMING",
                    "new-lesion target limits (5, 2 per organ) exceeded: "
                    f"{', '.join(over)} followed as new-lesion non-target(s); "
                    "the reader may reassign",
                )
            )
    som = _som(st, tp.new) if st.nlt else 0
    if p is None:
        result = _no_pending(prep, tp, st, target, nt, base, fresh, som, warnings)
    else:
        result = _with_pending(tp, st, s, p, target, nt, base, fresh, som, warnings, steps)
    if result.overall is not NE:
        st.last_eval = result.overall
    if tp.complete and tp.sum_lb is not None and (st.nadir is None or tp.sum_lb < st.nadir):
        st.nadir = tp.sum_lb
    if st.nlt and (st.som_nadir is None or som < st.som_nadir):
        st.som_nadir = som
    return result


def _quiet_step(tp: PreparedTimepoint, st: _State, base: Response) -> IStep:
    """No iUPD pending, no new lesion ever, no progression: Table 1 in i-codes (the common case)."""
    overall = TO_IRECIST[base]
    if overall is not NE:
        st.last_eval = overall
    total = tp.sum_lb
    if tp.complete and total is not None and (st.nadir is None or total < st.nadir):
        st.nadir = total
    return IStep(overall, (_base_text, overall, base, False), [], overall)


def _base_response(base: Response, has_targets: bool, new_present: bool) -> Response:
    if base is CR and new_present:
        return IPR if has_targets else INON_CR_NON_PD
    if base is NED and new_present:
        return INON_CR_NON_PD
    return TO_IRECIST[base]


def _no_pending(
    prep: Prepared,
    tp: PreparedTimepoint,
    st: _State,
    target: Response | None,
    nt: Response | None,
    base: Response,
    fresh: list[NewLesion],
    som: int,
    warnings: list[RuleWarning],
) -> IStep:
    """§8.4 A: no iUPD pending; iUPD on any RECIST 1.1 progression, else the i-category."""
    if target is not PD and nt is not PD and not fresh and not st.nlt and not st.nlnt:
        # the common case (no progression, no new lesion ever): Table 1 in i-codes
        overall = _base_response(base, bool(prep.target_ids), bool(tp.new))
        return IStep(overall, (_base_text, overall, base, bool(tp.new)), warnings, overall)
    triggers: list[str] = []
    why: list[str] = []
    if target is PD:
        triggers.append("target")
        why.append("target meets RECIST 1.1 PD")
    if nt is PD:
        triggers.append("non-target")
        why.append("unequivocal non-target progression")
    if fresh:
        triggers.append("new")
        why.append(f"new lesion {', '.join(n.id for n in fresh)}")
    if st.som_nadir is not None and st.nlt and meets_pd(som, st.som_nadir):
        triggers.append("new")
        why.append(
            f"new-lesion target sum {fmt_mm(som)} mm meets PD "
            f"against its nadir {fmt_mm(st.som_nadir)} mm"
        )
    grown = [i for i in st.nlnt if i in tp.new and tp.new[i].status in _PROGRESSED]
    if grown:
        triggers.append("new")
        why.append(f"unequivocal progression of new non-target {', '.join(sorted(grown))}")
    if triggers:
        st.pending = Pending(
            index=tp.position,
            day=tp.day,
            date=tp.date,
            label=tp.label,
            total=tp.sum_lb,
            som=som,
            nlnt={i: tp.new[i].size_um for i in st.nlnt if i in tp.new},
            nt_short_axis=list(tp.nt_short_axis),
            new_ids=set(st.seen),
            triggers=set(triggers),
            base=base,
        )
        return IStep(
            IUPD, f"iUPD: {'; '.join(why)} (to be confirmed 4-8 weeks later)", warnings, IUPD
        )
    overall = _base_response(base, bool(prep.target_ids), bool(tp.new))
    return IStep(overall, (_base_text, overall, base, bool(tp.new)), warnings, overall)


def _base_text(overall: Response, base: Response, persisting: bool) -> str:
    text = f"{overall}: RECIST 1.1 categories without new lesions give {base}"
    return text + " (new lesions persist)" if persisting else text


def _with_pending(
    tp: PreparedTimepoint,
    st: _State,
    s: Settings,
    p: Pending,
    target: Response | None,
    nt: Response | None,
    base: Response,
    fresh: list[NewLesion],
    som: int,
    warnings: list[RuleWarning],
    steps: list[IStep],
) -> IStep:
    """§8.4 B: an iUPD is pending; confirm it (iCPD), keep it, or reset."""
    why: list[str] = []
    total = tp.sum_lb
    if (
        "target" in p.triggers
        and total is not None
        and p.total is not None
        and total - p.total >= PD_ABSOLUTE_UM
    ):
        why.append(
            f"target sum {fmt_mm(total)} mm is +{fmt_mm(total - p.total)} mm "
            f"over the iUPD sum {fmt_mm(p.total)} mm (≥ 5 mm)"
        )
    if "non-target" in p.triggers:
        if any(x is LesionStatus.FURTHER_INCREASE for x in tp.nt_status):
            why.append("further non-target increase")
        for i, (now, then) in enumerate(zip(tp.nt_short_axis, p.nt_short_axis, strict=True)):
            if now is not None and then is not None and now > then:
                why.append(f"non-target node {i + 1} grew {fmt_mm(then)} -> {fmt_mm(now)} mm")
    if "new" in p.triggers:
        if st.nlt and som - p.som >= PD_ABSOLUTE_UM:
            why.append(
                f"new-lesion target sum {fmt_mm(p.som)} -> {fmt_mm(som)} mm "
                f"(+{fmt_mm(som - p.som)} ≥ 5 mm)"
            )
        for new_id, then in p.nlnt.items():
            lesion = tp.new.get(new_id)
            if lesion is not None and (
                (then is not None and lesion.size_um is not None and lesion.size_um > then)
                or lesion.status in _PROGRESSED
            ):
                sizes = (
                    f" {fmt_mm(then)} -> {fmt_mm(lesion.size_um)} mm"
                    if then is not None and lesion.size_um is not None
                    else " (unequivocal progression)"
                )
                why.append(f"new non-target {new_id} grew{sizes}")
    if fresh:
        why.append(f"additional new lesion {', '.join(n.id for n in fresh)}")
    if "target" not in p.triggers and target is PD:
        why.append("target now meets RECIST 1.1 PD")
    if "non-target" not in p.triggers and nt is PD:
        why.append("non-target now unequivocally progressed")
    if why:
        st.confirmed = True
        st.prog_date = p.date
        for k in range(p.index, tp.position):
            old = steps[k - 1]  # steps hold follow-ups only: timepoint k is steps[k - 1]
            if old.overall is IUPD:
                old.bor_response = ICPD
        return IStep(
            ICPD,
            f"iCPD: {'; '.join(why)} (confirms the iUPD at {p.label}, progression dated {p.date})",
            warnings,
            ICPD,
            p.date,
        )
    if base is NE:
        return IStep(NE, f"NE: not evaluable; iUPD at {p.label} still pending", warnings, NE)
    if target is PD or nt is PD:
        return IStep(
            IUPD,
            f"iUPD: still meets RECIST 1.1 PD, not yet confirmed (reference {p.label})",
            warnings,
            IUPD,
        )
    if "new" in p.triggers and any(i in tp.new for i in p.new_ids):
        improved = _RANK[base] < _RANK[p.base] or (
            total is not None
            and p.total is not None
            and tp.complete
            and p.total - total >= PD_ABSOLUTE_UM
        )
        if s.irecist_strict_table2 or not improved:
            rule = (
                "strict Table 2"
                if s.irecist_strict_table2
                else f"no improvement since {p.label} (O-13)"
            )
            return IStep(IUPD, f"iUPD: new lesions persist, {rule}", warnings, IUPD)
    st.pending = None
    overall = _base_response(base, target is not None, bool(tp.new))
    return IStep(
        overall,
        f"{overall}: iUPD at {p.label} not confirmed; "
        f"reset to {base} (RECIST 1.1 without new lesions)",
        warnings,
        overall,
    )
