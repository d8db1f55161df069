"""Best overall response (Eisenhauer 2009 §4.4.3, §4.6, Table 3; Seymour 2017 Table 3).

One algorithm serves RECIST 1.1 and iRECIST: i-codes are mapped onto the
RECIST ladder, with iUPD (unconfirmed) ranked above iCPD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from recist.responses import Response

R = Response
_GOOD = {R.CR: "CR", R.ICR: "CR", R.PR: "PR", R.IPR: "PR"}
_STABLE = {R.SD: "SD", R.ISD: "SD", R.NON_CR_NON_PD: "NN", R.INON_CR_NON_PD: "NN"}


@dataclass(frozen=True, slots=True)
class BorInput:
    """One on-treatment timepoint as BOR sees it."""

    response: Response
    day: int | None
    date: date | None
    label: str


@dataclass(frozen=True, slots=True)
class BorRules:
    """The BOR parameters (O-11, O-12, O-22)."""

    confirmation: bool
    min_sd_days: int
    confirm_days: int = 28
    max_ne: int = 1
    accept_sd: bool = False
    irecist: bool = False


def _window(points: Sequence[BorInput], irecist: bool) -> list[BorInput]:
    """Timepoints up to and including the first PD (iRECIST: the first iCPD)."""
    stop = R.ICPD if irecist else R.PD
    out = []
    for p in points:
        out.append(p)
        if p.response is stop:
            break
    return out


def _long_enough(p: BorInput, rules: BorRules) -> bool:
    return p.day is not None and p.day >= rules.min_sd_days


def _gap(a: BorInput, b: BorInput) -> int | None:
    if a.date is None or b.date is None:
        return None
    return (b.date - a.date).days


def _confirmed(points: list[BorInput], rules: BorRules, want: str) -> tuple[int, int] | None:
    """First (anchor, confirmer) pair confirming ``want`` ("CR" or "PR"), per §6.2."""
    for i, anchor in enumerate(points):
        first = _GOOD.get(anchor.response)
        if first is None or (want == "PR" and first != "PR") or (want == "CR" and first != "CR"):
            continue
        n_ne = 0
        seen_cr = False
        for j in range(i + 1, len(points)):
            p = points[j]
            code = _GOOD.get(p.response)
            gap = _gap(anchor, p)
            if code is not None and (want == "PR" or code == "CR"):
                if want == "PR" and seen_cr and code == "PR":
                    break
                if gap is not None and gap >= rules.confirm_days:
                    return i, j
                seen_cr = seen_cr or code == "CR"
                continue
            if p.response is R.NE:
                n_ne += 1
                if n_ne > rules.max_ne:
                    break
                continue
            if rules.accept_sd and want == "PR" and _STABLE.get(p.response) == "SD":
                continue
            break
    return None


def best_overall_response(
    points: Sequence[BorInput], rules: BorRules
) -> tuple[Response, str, bool]:
    """BOR over the on-treatment timepoints.

    Parameters
    ----------
    points : sequence of BorInput
        Every on-treatment timepoint in order (baseline excluded).
    rules : BorRules
        Confirmation, minimum SD duration and the i-code switch.

    Returns
    -------
    tuple[Response, str, bool]
        The BOR, the reason, and whether a CR/PR BOR was confirmed.
    """
    window = _window(points, rules.irecist)
    cr, pr = (R.ICR, R.IPR) if rules.irecist else (R.CR, R.PR)
    if rules.confirmation:
        for want, code in (("CR", cr), ("PR", pr)):
            pair = _confirmed(window, rules, want)
            if pair:
                a, b = window[pair[0]], window[pair[1]]
                return code, (
                    f"{code} at {a.label} confirmed at {b.label} "
                    f"({_gap(a, b)} days >= {rules.confirm_days})"
                ), True
        return _fallback(window, rules, stable_from=(cr, pr))
    for code in (cr, pr):
        hit = next((p for p in window if p.response is code), None)
        if hit is not None:
            return code, f"best response {code} at {hit.label} (confirmation not required)", False
    return _fallback(window, rules, stable_from=())


def _fallback(
    window: list[BorInput], rules: BorRules, stable_from: tuple[Response, ...]
) -> tuple[Response, str, bool]:
    """SD, non-CR/non-PD, then progression, NED, NE (Table 3; SD needs min duration)."""
    sd, nn = (R.ISD, R.INON_CR_NON_PD) if rules.irecist else (R.SD, R.NON_CR_NON_PD)
    need = f">= {rules.min_sd_days} days"
    for p in window:
        if (p.response in stable_from or _STABLE.get(p.response) == "SD") and _long_enough(p, rules):
            why = "unconfirmed " if p.response in stable_from else ""
            return sd, f"{sd}: {why}{p.response} at {p.label} on day {p.day} ({need})", False
    for p in window:
        if _STABLE.get(p.response) == "NN" and _long_enough(p, rules):
            return nn, f"{nn} at {p.label} on day {p.day} ({need})", False
    early = [p for p in window if p.response in stable_from or p.response in _STABLE]
    note = f"; {early[0].response} at {early[0].label} was before day {rules.min_sd_days}" if early else ""
    order = (R.IUPD, R.ICPD, R.NED) if rules.irecist else (R.PD, R.NED)
    for code in order:
        hit = next((p for p in window if p.response is code), None)
        if hit is not None:
            return code, f"{code} at {hit.label}{note}", False
    return R.NE, f"NE: no evaluable response{note}", False
