"""Colorectal exploratory metrics (rules.md §9.1-9.2): ETS, DpR, time to nadir."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from recist.arith import pct, pct_tenths
from recist.bor import BorRules, best_overall_response
from recist.case import Settings
from recist.prepare import Prepared
from recist.responses import Response


def ets_class(delta: int, baseline: int) -> str:
    """FIRE-3 early-shrinkage class [Mod17]: ETS, minor shrinkage, minor growth, PD (±20 %)."""
    if 5 * (baseline + delta) <= 4 * baseline:
        return "ETS"
    if delta <= 0:
        return "minor shrinkage"
    if 5 * (baseline + delta) < 6 * baseline:
        return "minor growth"
    return "PD"


def tumour_metrics(prep: Prepared, responses: list[Response], s: Settings) -> dict[str, Any]:
    """ETS (first complete assessment in the day window), DpR signed/truncated, time to nadir.

    Parameters
    ----------
    prep : Prepared
        The aligned case.
    responses : list[Response]
        RECIST 1.1 overall response of each follow-up (the first PD ends the DpR window).
    s : Settings
        ``ets_window_days``.

    Returns
    -------
    dict
        ``{"ets": {...}, "dpr": {...}}``; values are JSON-ready (percent as float).
    """
    baseline = prep.baseline_sum
    if not prep.target_ids or not baseline:
        return {"ets": None, "dpr": None, "note": "no measurable baseline disease"}
    lo, hi = s.ets_window_days
    ets: dict[str, Any] = {"evaluable": False, "window_days": [lo, hi]}
    base_date = prep.timepoints[0].date
    best: tuple[int, int] | None = None
    for tp, response in zip(prep.timepoints[1:], responses, strict=True):
        if tp.complete and tp.sum_lb is not None:
            delta = tp.sum_lb - baseline
            if not ets["evaluable"] and tp.day is not None and lo <= tp.day <= hi:
                value = pct(delta, baseline)
                ets = {
                    "evaluable": True,
                    "window_days": [lo, hi],
                    "label": tp.label,
                    "day": tp.day,
                    "pct": float(value) if value is not None else None,
                    "ets": 5 * tp.sum_lb <= 4 * baseline,
                    "class": ets_class(delta, baseline),
                    "new_lesions": bool(tp.new),
                }
            if best is None or delta < best[1]:  # the same baseline: a smaller sum, a smaller delta
                best = (tp.position, delta)
        if response is Response.PD:
            break
    if not ets["evaluable"]:
        ets["reason"] = f"ETS not evaluable: no complete assessment on day {lo}-{hi}"
    if best is None:
        return {"ets": ets, "dpr": None}
    index, delta = best
    depth = -pct_tenths(delta, baseline) / 10
    nadir_tp = prep.timepoints[index]
    days = (nadir_tp.date - base_date).days if nadir_tp.date and base_date else None
    dpr = {
        "pct": depth,
        "pct_truncated": max(depth, 0.0),
        "label": nadir_tp.label,
        "time_to_nadir_days": days,
        "nodal_targets": any(prep.target_nodal),
    }
    return {"ets": ets, "dpr": dpr}


def endpoints(prep: Prepared, responses: list[Response], rules: BorRules) -> dict[str, Any]:
    """Per-timepoint BOR so far (ORR "after 3 or 6 cycles", §6.3) and duration of response.

    Parameters
    ----------
    prep : Prepared
        The aligned case.
    responses : list[Response]
        RECIST 1.1 overall response of each follow-up.
    rules : BorRules
        The case's BOR rules (confirmation, minimum SD duration).

    Returns
    -------
    dict
        ``{"bor_up_to": [{label, overall, bor, confirmed}], "duration_of_response_days"}``;
        the duration runs from the first CR/PR to the first PD (None when either is missing).
    """
    timeline = prep.timepoints[1:]
    so_far = []
    for k, tp in enumerate(timeline):
        bor, _, confirmed = best_overall_response(responses[: k + 1], timeline[: k + 1], rules)
        so_far.append(
            {
                "label": tp.label,
                "overall": str(responses[k]),
                "bor": str(bor),
                "confirmed": confirmed,
            }
        )
    first_response = next(
        (tp for tp, r in zip(timeline, responses, strict=True) if r in (Response.CR, Response.PR)),
        None,
    )
    first_pd = next(
        (tp for tp, r in zip(timeline, responses, strict=True) if r is Response.PD), None
    )
    duration = None
    if (
        first_response
        and first_pd
        and first_response.date
        and first_pd.date
        and first_pd.position > first_response.position
    ):
        duration = (first_pd.date - first_response.date).days
    return {"bor_up_to": so_far, "duration_of_response_days": duration}


class LazyMetrics(Mapping[str, Any]):
    """The metrics of one case, computed on first access (most bulk callers never read them)."""

    __slots__ = ("_args", "_value")

    def __init__(
        self, prep: Prepared, responses: list[Response], s: Settings, rules: BorRules
    ) -> None:
        self._args: tuple[Prepared, list[Response], Settings, BorRules] | None = (
            prep,
            responses,
            s,
            rules,
        )
        self._value: dict[str, Any] = {}

    def _data(self) -> dict[str, Any]:
        if self._args is not None:
            prep, responses, s, rules = self._args
            self._value = {
                **tumour_metrics(prep, responses, s),
                **endpoints(prep, responses, rules),
            }
            self._args = None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return repr(self._data())
