"""Best overall response (Eisenhauer 2009 §4.4.3, §4.6, Table 3; Seymour 2017 Table 3).

One algorithm serves RECIST 1.1 and iRECIST: i-codes are mapped onto the
RECIST ladder, with iUPD (unconfirmed) ranked above iCPD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol

from recist.responses import (
    CR,
    ICPD,
    ICR,
    INON_CR_NON_PD,
    IPR,
    ISD,
    IUPD,
    NE,
    NED,
    NON_CR_NON_PD,
    PD,
    PR,
    SD,
    Response,
)

R = Response
_GOOD = {CR: "CR", ICR: "CR", PR: "PR", IPR: "PR"}
_STABLE = {SD: "SD", ISD: "SD", NON_CR_NON_PD: "NN", INON_CR_NON_PD: "NN"}


class Dated(Protocol):
    """What BOR needs to know about a timepoint besides its response."""

    @property
    def day(self) -> int | None: ...  # noqa: D102
    @property
    def date(self) -> date | None: ...  # noqa: D102
    @property
    def label(self) -> str: ...  # noqa: D102


class BorInput(NamedTuple):
    """One on-treatment timepoint as BOR sees it (a convenient :class:`Dated`)."""

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


def _gap(a: Dated, b: Dated) -> int | None:
    if a.date is None or b.date is None:
        return None
    return (b.date - a.date).days


def _confirmed(
    responses: Sequence[Response], timeline: Sequence[Dated], rules: BorRules, want: str
) -> tuple[int, int] | None:
    """First (anchor, confirmer) pair confirming ``want`` ("CR" or "PR"), per §6.2.

    Between anchor and confirmer: at most ``max_ne`` NEs and, for a PR with
    ``accept_sd``, at most one SD (a second SD ends the chain, as in admiralonco).
    """
    for i, response in enumerate(responses):
        if _GOOD.get(response) != want:
            continue
        n_ne = n_sd = 0
        seen_cr = False
        for j in range(i + 1, len(responses)):
            later = responses[j]
            code = _GOOD.get(later)
            if code is not None and (want == "PR" or code == "CR"):
                if want == "PR" and seen_cr and code == "PR":
                    break
                gap = _gap(timeline[i], timeline[j])
                if gap is not None and gap >= rules.confirm_days:
                    return i, j
                seen_cr = seen_cr or code == "CR"
                continue
            if later is NE:
                n_ne += 1
                if n_ne > rules.max_ne:
                    break
                continue
            # accept_sd, like admiralonco's accept_sd = TRUE: one SD between PR and confirmer
            if rules.accept_sd and want == "PR" and _STABLE.get(later) == "SD" and n_sd == 0:
                n_sd = 1
                continue
            break
    return None


def best_overall_response(
    responses: Sequence[Response], timeline: Sequence[Dated], rules: BorRules
) -> tuple[Response, str, bool]:
    """BOR over the on-treatment timepoints.

    Parameters
    ----------
    responses : sequence of Response
        Overall response of every on-treatment timepoint, in order (baseline excluded).
    timeline : sequence of Dated
        The same timepoints' ``day`` (from the reference date), ``date`` and ``label``.
    rules : BorRules
        Confirmation, minimum SD duration and the i-code switch.

    Returns
    -------
    tuple[Response, str, bool]
        The BOR, the reason, and whether a CR/PR BOR was confirmed.
    """
    stop = ICPD if rules.irecist else PD
    # the window ends with the first PD (iRECIST: the first iCPD); later TPs are ignored
    window = list(responses[: responses.index(stop) + 1]) if stop in responses else list(responses)
    cr, pr = (ICR, IPR) if rules.irecist else (CR, PR)
    if rules.confirmation:
        for want, code in (("CR", cr), ("PR", pr)):
            pair = _confirmed(window, timeline, rules, want)
            if pair:
                a, b = timeline[pair[0]], timeline[pair[1]]
                return (
                    code,
                    (
                        f"{code} at {a.label} confirmed at {b.label} "
                        f"({_gap(a, b)} days ≥ {rules.confirm_days})"
                    ),
                    True,
                )
        return _fallback(window, timeline, rules, stable_from=(cr, pr))
    for code in (cr, pr):
        if code in window:
            label = timeline[window.index(code)].label
            return code, f"best response {code} at {label} (confirmation not required)", False
    return _fallback(window, timeline, rules, stable_from=())


def _fallback(
    window: list[Response],
    timeline: Sequence[Dated],
    rules: BorRules,
    stable_from: tuple[Response, ...],
) -> tuple[Response, str, bool]:
    """SD, non-CR/non-PD, then progression, NED, NE (Table 3; SD needs min duration)."""
    sd, nn = (ISD, INON_CR_NON_PD) if rules.irecist else (SD, NON_CR_NON_PD)
    need = f"≥ {rules.min_sd_days} days"
    early = None
    for kind in ("SD", "NN"):
        for i, response in enumerate(window):
            stable = "SD" if response in stable_from else _STABLE.get(response)
            if stable != kind:
                continue
            tp = timeline[i]
            if tp.day is not None and tp.day >= rules.min_sd_days:
                code = sd if kind == "SD" else nn
                why = "unconfirmed " if response in stable_from else ""
                return (
                    code,
                    f"{code}: {why}{response} at {tp.label} on day {tp.day} ({need})",
                    False,
                )
            early = early or (response, tp.label)
    note = f"; {early[0]} at {early[1]} was before day {rules.min_sd_days}" if early else ""
    order = (IUPD, ICPD, NED) if rules.irecist else (PD, NED)
    for code in order:
        if code in window:
            return code, f"{code} at {timeline[window.index(code)].label}{note}", False
    return NE, f"NE: no evaluable response{note}", False
