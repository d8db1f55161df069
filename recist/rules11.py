"""RECIST 1.1 categories at one timepoint (Eisenhauer 2009 §4.3-4.4; rules.md §4-5).

Each function is pure and takes integer micrometres.  They return the
category and a reason recipe (:mod:`recist.reasons`) a reader can check.
"""

from __future__ import annotations

from collections.abc import Sequence

from recist.arith import NODE_NORMAL_UM, PD_ABSOLUTE_UM, fmt_mm, fmt_pct, meets_pd, meets_pr
from recist.case import LesionStatus
from recist.reasons import Recipe
from recist.responses import (
    CR,
    NE,
    NED,
    NON_CR_NON_PD,
    PD,
    PR,
    SD,
    Response,
)

_PROGRESSED = (LesionStatus.UNEQUIVOCAL_PROGRESSION, LesionStatus.FURTHER_INCREASE)
_PRESENT, _NOT_EVALUATED = LesionStatus.PRESENT, LesionStatus.NOT_EVALUATED


def reappeared(values: Sequence[int | None], nodal: Sequence[bool]) -> list[int]:
    """Indices of targets that count as reappeared after a CR (§4.2 step 3).

    A non-nodal target reappears when > 0 mm; a nodal one only at >= 10 mm
    short axis ([FAQ:abnormal-lymph-node], O-5).
    """
    return [
        i
        for i, (v, n) in enumerate(zip(values, nodal, strict=True))
        if v is not None and (v >= NODE_NORMAL_UM if n else v > 0)
    ]


def _all_cr(values: Sequence[int | None], nodal: Sequence[bool]) -> bool:
    if True not in nodal:
        return not any(values)
    for v, n in zip(values, nodal, strict=True):
        if v is None or (v >= NODE_NORMAL_UM if n else v != 0):
            return False
    return True


def pd_text(total: int, nadir: int, missing: Sequence[str] = ()) -> str:
    """Reason of a sum-rule PD."""
    what = "the available targets already sum" if missing else "sum"
    if nadir == 0:
        text = f"PD: {what} {fmt_mm(total)} mm is +{fmt_mm(total)} mm over nadir 0 mm (≥ 5 mm)"
    else:
        text = (
            f"PD: {what} {fmt_mm(total)} mm ≥ 1.2 × nadir {fmt_mm(nadir)} mm "
            f"and +{fmt_mm(total - nadir)} mm ≥ 5 mm"
        )
    if missing:
        text += f" although {', '.join(missing)} not evaluable (PD provable)"
    return text


def ne_text(missing: Sequence[str], total: int | None, nadir: int | None) -> str:
    """Reason of a target NE."""
    if total is None:
        return "NE: no target evaluable"
    return (
        f"NE: {', '.join(missing)} not evaluable; the available sum {fmt_mm(total)} mm "
        f"cannot prove PD against nadir {fmt_mm(nadir or 0)} mm"
    )


def cr_text(values: Sequence[int | None], nodal: Sequence[bool], ids: Sequence[str]) -> str:
    """Reason of a target CR."""
    nodes = [f"{ids[i]} {fmt_mm(v or 0)} mm" for i, v in enumerate(values) if nodal[i]]
    text = "CR: every non-nodal target 0 mm"
    if nodes:
        text += f" and every nodal target < 10 mm ({', '.join(nodes)})"
    return text


def reappear_text(back: Sequence[int], values: Sequence[int | None], ids: Sequence[str]) -> str:
    """Reason of a PD by reappearance after an overall CR."""
    items = ", ".join(f"{ids[i]} {fmt_mm(values[i] or 0)} mm" for i in back)
    return f"PD: target reappeared after an overall CR ({items})"


def pr_text(total: int, baseline: int) -> str:
    """Reason of a target PR."""
    return (
        f"PR: sum {fmt_mm(total)} mm ≤ 0.7 × baseline {fmt_mm(baseline)} mm "
        f"({fmt_pct(total - baseline, baseline)})"
    )


def sd_text(total: int, nadir: int | None, baseline: int | None) -> str:
    """Reason of a target SD: how far from PR and from PD."""
    parts = [f"SD: sum {fmt_mm(total)} mm"]
    if baseline:
        parts.append(
            f"is {fmt_pct(total - baseline, baseline)} from baseline {fmt_mm(baseline)} mm "
            f"(PR needs ≤ {fmt_mm(7 * baseline // 10)} mm)"
        )
    if nadir is not None:
        need = max(nadir + PD_ABSOLUTE_UM, -(-6 * nadir // 5))
        parts.append(f"and PD needs ≥ {fmt_mm(need)} mm (nadir {fmt_mm(nadir)} mm)")
    return " ".join(parts)


def target_response(
    values: Sequence[int | None],
    nodal: Sequence[bool],
    ids: Sequence[str],
    total: int | None,
    complete: bool,
    nadir: int | None,
    baseline: int | None,
    after_cr: bool,
) -> tuple[Response, Recipe]:
    """Target response (Eisenhauer 2009 §4.3.1, §4.4.2; rules.md §4.2 steps 1-6).

    Parameters
    ----------
    values : sequence of int or None
        Each baseline target's value in micrometres (None = not evaluable).
    nodal : sequence of bool
        Whether each target is a node (short axis).
    ids : sequence of str
        Target ids, for the reason.
    total : int or None
        Sum of the available values (a lower bound when incomplete).
    complete : bool
        Every target has a value.
    nadir : int or None
        Smallest complete SOD before this timepoint (baseline included).
    baseline : int or None
        Baseline SOD.
    after_cr : bool
        The last evaluable overall response was CR (reappearance rule, step 3).

    Returns
    -------
    tuple[Response, Recipe]
        The category and its reason recipe (see :func:`recist.reasons.render`).
    """
    if not complete:
        if after_cr:
            back = reappeared(values, nodal)
            if back:
                return PD, (reappear_text, back, values, ids)
        missing = [ids[i] for i, v in enumerate(values) if v is None]
        if total is not None and nadir is not None and meets_pd(total, nadir):
            return PD, (pd_text, total, nadir, missing)
        return NE, (ne_text, missing, total, nadir)
    assert total is not None
    if _all_cr(values, nodal):
        return CR, (cr_text, values, nodal, ids)
    if after_cr:
        back = reappeared(values, nodal)
        if back:
            return PD, (reappear_text, back, values, ids)
    if nadir is not None and meets_pd(total, nadir):
        return PD, (pd_text, total, nadir)
    if baseline is not None and meets_pr(total, baseline):
        return PR, (pr_text, total, baseline)
    return SD, (sd_text, total, nadir, baseline)


def _listed(prefix: str, ids: Sequence[str], suffix: str) -> str:
    return f"{prefix}{', '.join(ids)}{suffix}"


def nontarget_response(
    statuses: Sequence[LesionStatus],
    nodal: Sequence[bool],
    short_axis: Sequence[int | None],
    ids: Sequence[str],
    after_cr: bool,
) -> tuple[Response, Recipe]:
    """Non-target response (Eisenhauer 2009 §4.3.3-4.3.4; rules.md §4.3).

    Unequivocal progression -> PD; after an overall CR any lesion present
    again (a node back at >= 10 mm) -> PD; any not evaluated -> NE; all absent
    (nodes < 10 mm count as normal) -> CR; otherwise non-CR/non-PD.
    """
    present = []
    not_evaluated = []
    progressed = []
    for i, status in enumerate(statuses):
        if status is _PRESENT:
            sa = short_axis[i]
            if not (nodal[i] and sa is not None and sa < NODE_NORMAL_UM):
                present.append(ids[i])
        elif status is _NOT_EVALUATED:
            not_evaluated.append(ids[i])
        elif status in _PROGRESSED:
            progressed.append(ids[i])
    if progressed:
        return PD, (_listed, "non-target PD: unequivocal progression of ", progressed, "")
    if after_cr and present:
        return PD, (_listed, "non-target PD: ", present, " present again after an overall CR")
    if not_evaluated:
        return NE, (_listed, "non-target NE: ", not_evaluated, " not evaluated")
    if not present:
        return CR, "non-target CR: all absent, nodes < 10 mm"
    return NON_CR_NON_PD, (_listed, "non-target non-CR/non-PD: ", present, " present")


def overall_response(target: Response | None, non_target: Response | None, new: bool) -> Response:
    """Overall response: Table 1 (targets), Table 2 (non-targets only) or NED (§4.5).

    Parameters
    ----------
    target, non_target : Response or None
        None when the patient has no such lesions at baseline.
    new : bool
        An unequivocal new lesion is present.
    """
    if new or target is PD or non_target is PD:
        return PD
    if target is None:
        return NED if non_target is None else non_target
    if target is CR:
        return CR if non_target in (None, CR) else PR
    return target
